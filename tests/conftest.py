"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pgserver import PostgresCluster, PostgresUnavailable  # tests/ is on sys.path (rootdir)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a throwaway PostgreSQL cluster, shared by the session; skip if none."""
    pytest.importorskip("psycopg2", reason="PostgreSQL server not available: no psycopg2")
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL server not available: {exc}")
    try:
        cluster.start()
    except PostgresUnavailable as exc:
        cluster.stop()
        pytest.skip(f"PostgreSQL server not available: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()
