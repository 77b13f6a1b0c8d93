"""A report's tables are a function of its frames: rebuilt, or built from the same rows in
another order, they are byte-identical (so adding unrelated runs to a store, which the producer
filters out by experiment, cannot move an experiment's tables)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from reports import ReportData, build_report


def _shuffled(data: ReportData, seed: int) -> ReportData:
    frames = {
        f.name: getattr(data, f.name).sample(frac=1.0, random_state=seed)
        for f in fields(data)
        if f.name != "meta"
    }
    return ReportData(**frames, meta=data.meta)


def _tables(data: ReportData, out: Path) -> dict[str, bytes]:
    # a fixed generated_at: the page carries it, the tables must not depend on it anyway
    meta = {**data.meta, "generated_at": "fixed"}
    data = ReportData(**{f.name: getattr(data, f.name) for f in fields(data)} | {"meta": meta})
    build_report(data, out, strict=True, figures=False)
    return {p.name: p.read_bytes() for p in sorted((out / "tables").iterdir())}


@pytest.mark.slow
def test_tables_are_byte_identical_rebuilt_and_shuffled(synthetic, tmp_path):
    first = _tables(synthetic, tmp_path / "a")
    assert {"claims.csv", "accuracy.csv", "contributions.csv", "contributions_pooled.csv"} <= set(
        first
    )
    assert _tables(synthetic, tmp_path / "b") == first
    shuffled = _tables(_shuffled(synthetic, 11), tmp_path / "c")
    changed = [name for name in first if shuffled[name] != first[name]]
    assert changed == []
    # the pages, built from the same frames, say the same too
    assert (tmp_path / "a" / "report.md").read_bytes() == (
        tmp_path / "c" / "report.md"
    ).read_bytes()
