"""Friedman/Nemenyi ranking across datasets (autorank) and when it is skipped."""

from __future__ import annotations

import pandas as pd
import pytest

from reports import friedman_nemenyi


def test_ranks_on_synthetic_store(synthetic):
    rankings = friedman_nemenyi(synthetic.runs)
    assert [r.depth for r in rankings] == [1, 2]
    r = rankings[0]
    assert r.ok and r.result.omnibus == "friedman" and r.result.posthoc == "nemenyi"
    ranks = r.table.set_index("variant")["meanrank"]
    assert ranks["plain_mlp"] == 1.0  # best on every dataset
    assert ranks["logreg"] == pytest.approx(7.8)  # last but on classification (bimodal no_quartic)
    assert len(r.matrix) == 5  # mnist has only blog-preset runs: another setting
    assert "No dataset dropped" in r.summary
    assert "friedman" in r.summary
    assert r.matrix.loc["moons", "full"] == pytest.approx(90.0, abs=1.0)  # percent


def test_an_incomplete_block_is_dropped_and_named(synthetic):
    runs = synthetic.runs
    runs = runs[~((runs["variant"] == "sgd") & (runs["dataset"] == "digits"))]
    (r, _) = friedman_nemenyi(runs)
    # 4 complete blocks are too few for autorank: skipped, naming what is missing
    assert not r.ok and "sgd lacks digits" in r.reason and "skipped" in r.summary
    assert "digits" in r.dropped


def test_a_failing_variant_is_ranked_low_not_dropped(synthetic):
    runs = synthetic.runs.copy()
    bad = (runs["variant"] == "plain_mlp") & (runs["dataset"] == "digits") & (runs["depth"] == 1)
    runs.loc[bad, "status"] = "diverged"
    (r, _) = friedman_nemenyi(runs)
    assert "digits" in r.matrix.index  # failures at chance keep the block complete
    assert r.matrix.loc["digits", "plain_mlp"] == pytest.approx(10.0)


def test_skipped_with_too_few_datasets(synthetic):
    runs = synthetic.runs[synthetic.runs["dataset"].isin(["moons", "circles", "digits"])]
    (r, _) = friedman_nemenyi(runs)
    assert not r.ok
    assert "at least 5" in r.reason
    assert "skipped" in r.summary


def test_no_runs_no_rankings():
    assert friedman_nemenyi(pd.DataFrame()) == []
