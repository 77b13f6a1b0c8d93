"""reports.compare_unpaired: a replicate (other seeds, no run pairs) against its original, as
independent samples: Welch per cell against the textbook formula, datasets as pooled units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports.compare import compare_experiments, compare_figure
from reports.compare_unpaired import compare_unpaired, welch
from reports.contributions import PRIMARY, SURVIVORS


def _runs(variant, accuracies, *, dataset="moons", depth=1, seed0=0, data_seed=0, status=None):
    n = len(accuracies)
    return pd.DataFrame(
        {
            "run_id": [f"{variant}-{dataset}-{depth}-{seed0 + s}-{data_seed}" for s in range(n)],
            "variant": variant, "dataset": dataset, "depth": depth,
            "seed": [seed0 + s for s in range(n)], "data_seed": data_seed, "epochs": 10,
            "status": status or ["ok"] * n, "test_accuracy": accuracies,
            "params_source": "defaults", "n_classes": 2,
        }
    )  # fmt: skip


def test_welch_matches_the_textbook_interval():
    a = np.array([80.0, 82.0, 79.0, 85.0, 81.0])
    b = np.array([84.0, 88.0, 83.0, 90.0, 86.0, 85.0])
    diff, low, high, p, test = welch(a, b)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))  # Welch–Satterthwaite
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    t = (b.mean() - a.mean()) / np.sqrt(va + vb)
    assert np.isclose(diff, b.mean() - a.mean())
    assert np.isclose(low, diff - half) and np.isclose(high, diff + half)
    assert np.isclose(p, 2 * stats.t.sf(abs(t), df))
    assert test == "Welch t (5 vs 6 runs)"


def test_welch_edge_cases():
    assert np.isnan(welch([80.0], [85.0, 86.0])[3])  # one run on a side: no p
    diff, low, high, p, _ = welch([50.0, 50.0], [50.0, 50.0])  # both at chance
    assert (diff, low, high, p) == (0.0, 0.0, 0.0, 1.0)
    assert np.isnan(welch([], [1.0])[0])


def test_a_replicate_does_not_pair_but_compares_unpaired(tmp_path):
    a_acc = [0.80, 0.82, 0.79, 0.85, 0.81]
    b_acc = [0.84, 0.88, 0.83, 0.90, 0.86]
    runs_a = pd.concat([_runs("full", a_acc), _runs("sgd", [0.6, 0.7, 0.65])])
    # B: other seeds and another data split; sgd: one failed run, counted at chance (0.5)
    b_status = ["ok", "ok", "failed"]
    runs_b = pd.concat(
        [
            _runs("full", b_acc, seed0=100, data_seed=1),
            _runs("sgd", [0.6, 0.7, 0.9], seed0=100, data_seed=1, status=b_status),
        ]
    )
    assert compare_experiments(runs_a, runs_b)[0].empty  # nothing pairs
    cells, pooled = compare_unpaired(runs_a, runs_b)
    full = cells.set_index("variant").loc["full"]
    assert (full["n_a"], full["n_b"]) == (5, 5)
    assert np.isclose(full["diff_pp"], 100 * (np.mean(b_acc) - np.mean(a_acc)))
    assert np.isclose(full["p_value"], stats.ttest_ind(b_acc, a_acc, equal_var=False).pvalue)
    sgd = cells.set_index("variant").loc["sgd"]
    assert sgd["n_failed_b"] == 1 and np.isclose(sgd["mean_b"], 100 * (0.6 + 0.7 + 0.5) / 3)
    assert np.isclose(cells["p_holm"].min(), min(1.0, 2 * cells["p_value"].min()))  # Holm, 2
    survivors = pooled[pooled["analysis"] == SURVIVORS].set_index("variant")
    primary = pooled[pooled["analysis"] == PRIMARY].set_index("variant")
    # one dataset: the pooled estimate is the cell's chance-normalised difference (2 classes)
    assert np.isclose(primary.loc["full", "estimate_pp"], 2 * full["diff_pp"])
    assert primary.loc["full", "n_datasets"] == 1
    assert survivors["p_holm"].isna().all()
    # survivors only: sgd's failed run is left out, B's mean is over its 2 ok runs
    assert np.isclose(survivors.loc["sgd", "estimate_pp"], 2 * 100 * (0.65 - 0.65))
    assert primary.loc["sgd", "estimate_pp"] < 0  # with the failure at chance
    figure = compare_figure(cells, pooled, tmp_path / "c.png", ("std", "std-rep"))
    assert figure.ok and figure.path.stat().st_size > 0


def test_pooled_takes_datasets_as_units_with_the_exact_signed_rank_p():
    datasets = ["moons", "circles", "classification", "digits", "mnist1d", "blobs"]
    shifts = [0.02, 0.03, 0.01, 0.04, 0.05, 0.025]
    runs_a, runs_b = [], []
    for d, shift in zip(datasets, shifts, strict=True):
        for depth in (1, 2):  # two depth cells per dataset: repetitions inside it
            base = np.array([0.70, 0.72, 0.71])
            runs_a.append(_runs("full", base, dataset=d, depth=depth))
            runs_b.append(_runs("full", base + shift, dataset=d, depth=depth, seed0=50))
    cells, pooled = compare_unpaired(pd.concat(runs_a), pd.concat(runs_b))
    assert len(cells) == 12
    row = pooled[pooled["analysis"] == PRIMARY].iloc[0]
    assert row["n_datasets"] == 6 and row["n_cells"] == 12
    # every dataset better in B: the exact two-sided signed-rank p over 6 units is 2 / 2^6
    assert np.isclose(row["p_value"], stats.wilcoxon(np.array(shifts)).pvalue)
    assert np.isclose(row["p_value"], 2 / 2**6)
    # Hodges–Lehmann of the per-dataset normalised differences (2 classes: 2 × shift, in pp)
    d = 200 * np.array(shifts)
    walsh = [(d[i] + d[j]) / 2 for i in range(6) for j in range(i, 6)]
    assert np.isclose(row["estimate_pp"], np.median(walsh))
    assert row["ci95_low"] > 0 and "6 datasets" in row["test"]


def test_cells_never_mix_settings():
    tuned = _runs("full", [0.9, 0.91]).assign(params_source="study:full-moons")
    runs_a = pd.concat([_runs("full", [0.8, 0.81]), tuned])
    runs_b = _runs("full", [0.82, 0.83], seed0=9)  # B ran the fixed setting only
    cells, _ = compare_unpaired(runs_a, runs_b)
    assert list(cells["source"]) == ["defaults"] and cells.loc[0, "n_a"] == 2


@pytest.mark.parametrize("which", ["a", "b"])
def test_a_side_without_runs_gives_no_cells(which):
    runs = _runs("full", [0.8, 0.81])
    empty = runs.iloc[:0]
    pair = (empty, runs) if which == "a" else (runs, empty)
    cells, pooled = compare_unpaired(*pair)
    assert cells.empty and pooled.empty
