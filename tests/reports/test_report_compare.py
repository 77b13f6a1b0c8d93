"""reports.compare: two experiments paired run by run, against hand-computed differences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.compare import compare_experiments, compare_figure
from reports.contributions import PRIMARY


def _runs(variant: str, accuracies, *, dataset="moons", depth=1, epochs=10, seeds=None):
    seeds = range(len(accuracies)) if seeds is None else seeds
    return pd.DataFrame(
        {
            "run_id": [f"{variant}-{dataset}-{depth}-{epochs}-{s}" for s in seeds],
            "variant": variant,
            "dataset": dataset,
            "depth": depth,
            "seed": list(seeds),
            "data_seed": 0,
            "epochs": epochs,
            "status": "ok",
            "test_accuracy": accuracies,
            "params_source": "defaults",
            "n_classes": 2,
        }
    )


def test_paired_differences_match_hand_computed_ones(tmp_path):
    a_acc = np.array([0.80, 0.70, 0.75, 0.90, 0.60])
    b_acc = a_acc + np.array([0.10, 0.05, 0.10, 0.05, 0.10])
    # A's full runs; B's full runs (other epochs: the setting is what is compared) plus a seed
    # A lacks; sgd in A only; plain_mlp in both on another dataset
    runs_a = pd.concat(
        [
            _runs("full", a_acc),
            _runs("sgd", [0.5, 0.5]),
            _runs("plain_mlp", [0.9, 0.8], dataset="circles"),
        ]
    )
    runs_b = pd.concat(
        [
            _runs("full", [*b_acc, 0.99], epochs=20, seeds=[0, 1, 2, 3, 4, 9]),
            _runs("plain_mlp", [0.7, 0.8], dataset="circles"),
        ]
    )
    cells, pooled = compare_experiments(runs_a, runs_b)
    assert list(cells["variant"]) == ["full", "plain_mlp"]  # sgd has no B runs
    full = cells.set_index("variant").loc["full"]
    assert full["n_pairs"] == 5  # seed 9 has no partner
    assert np.isclose(full["diff_pp"], 8.0) and np.isclose(full["mean_a"], a_acc.mean() * 100)
    assert np.isclose(full["mean_b"], b_acc.mean() * 100)
    assert np.isclose(full["p_value"], 2 / 2**5)  # exact sign flip: all 5 positive, two-sided
    mlp = cells.set_index("variant").loc["plain_mlp"]
    assert np.isclose(mlp["diff_pp"], -10.0) and mlp["n_pairs"] == 2
    # Holm over the two cells
    p = np.sort(cells["p_value"].to_numpy())
    assert np.isclose(cells["p_holm"].min(), min(1.0, 2 * p[0]))
    primary = pooled[pooled["analysis"] == PRIMARY].set_index("variant")
    # one cell: the pooled estimate is that cell's chance-normalised difference (2 classes)
    assert np.isclose(primary.loc["full", "estimate_pp"], 16.0)
    figure = compare_figure(cells, pooled, tmp_path / "c.png", ("base", "change"))
    assert figure.ok and figure.path.stat().st_size > 0


def test_no_matching_runs_give_empty_tables(tmp_path):
    cells, _ = compare_experiments(_runs("full", [0.5]), _runs("full", [0.6], seeds=[7]))
    assert cells.empty
    assert not compare_figure(cells, pd.DataFrame(), tmp_path / "c.png", ("a", "b")).ok
