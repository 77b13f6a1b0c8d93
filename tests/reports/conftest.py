"""Fixtures for the reports tests: synthetic results (report_synthetic.py) and reports built
from them once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # report_synthetic, whatever pytest's import mode

from report_synthetic import report_data  # noqa: E402

from reports import ReportData, build_report  # noqa: E402


@pytest.fixture(scope="session")
def synthetic() -> ReportData:
    return report_data()


@pytest.fixture(scope="session")
def built_report(tmp_path_factory, synthetic) -> Path:
    """index.html of the report on the full synthetic store."""
    return build_report(synthetic, tmp_path_factory.mktemp("report"), strict=True)


@pytest.fixture(scope="session")
def empty_report(tmp_path_factory) -> Path:
    """index.html of the report on an empty store."""
    return build_report(ReportData(), tmp_path_factory.mktemp("empty"), strict=True)
