"""Friedman/Nemenyi ranking across datasets (autorank) and when it is skipped."""

from __future__ import annotations

import pandas as pd

from reports import friedman_nemenyi


def test_ranks_on_synthetic_store(synthetic):
    rankings = friedman_nemenyi(synthetic.runs)
    assert [r.depth for r in rankings] == [1, 2]
    r = rankings[0]
    assert r.ok and r.result.omnibus == "friedman" and r.result.posthoc == "nemenyi"
    ranks = r.table.set_index("variant")["meanrank"]
    assert ranks["plain_mlp"] == 1.0  # best on every dataset
    assert ranks["logreg"] == 8.0
    assert len(r.matrix) == 5  # mnist has only `full`, so it is left out
    assert "friedman" in r.summary


def test_skipped_with_too_few_datasets(synthetic):
    runs = synthetic.runs[synthetic.runs["dataset"].isin(["moons", "circles", "digits"])]
    (r, _) = friedman_nemenyi(runs)
    assert not r.ok
    assert "at least 5" in r.reason
    assert "skipped" in r.summary


def test_no_runs_no_rankings():
    assert friedman_nemenyi(pd.DataFrame()) == []
