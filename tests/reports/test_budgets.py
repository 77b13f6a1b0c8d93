"""Budgets by convergence (reports.budgets and `landau budgets`): the plateau rule on curves
whose plateau is known, the budget per dataset, and the command on a real (tiny) grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports.budgets import budgets, curves, plateaus


def _curve(dataset, setting, depth, values):
    return pd.DataFrame({
        "dataset": dataset, "setting": setting, "depth": depth,
        "epoch": np.arange(1, len(values) + 1), "val_accuracy": values, "n": 3,
    })  # fmt: skip


def test_the_plateau_is_the_first_epoch_within_the_tolerance_of_the_best():
    rising = np.minimum(np.arange(1, 41) / 20, 1.0) * 0.9  # 0.9 from epoch 20 on
    table = plateaus(_curve("d", "plain_mlp", 1, rising), tolerance=0.01, window=1)
    (row,) = table.itertuples()
    assert row.plateau == 20 and row.best == pytest.approx(0.9) and not row.still_rising
    # smoothing over 3 centred epochs blunts the knee: 0.89 is reached one epoch later
    assert plateaus(_curve("d", "plain_mlp", 1, rising), window=3).plateau.iloc[0] == 21
    # a curve still rising at its last epoch says so
    table = plateaus(_curve("d", "plain_mlp", 1, np.linspace(0.1, 0.9, 30)))
    assert table.still_rising.iloc[0] and table.plateau.iloc[0] >= 28


def test_flat_at_chance_is_a_plateau_at_epoch_one():
    table = plateaus(_curve("d", "full[temperature=0.0]", 2, np.full(20, 0.5)))
    assert table.plateau.iloc[0] == 1


def test_a_datasets_budget_is_its_slowest_reference_rounded_up_and_bounded():
    table = pd.concat([
        plateaus(_curve("a", "plain_mlp", 1, np.minimum(np.arange(1, 61) / 23, 1.0))),
        plateaus(_curve("a", "full[temperature=0.0]", 2, np.minimum(np.arange(1, 61) / 31, 1.0))),
        plateaus(_curve("a", "mish", 1, np.minimum(np.arange(1, 61) / 50, 1.0))),  # not a reference
        plateaus(_curve("b", "plain_mlp", 1, np.minimum(np.arange(1, 61) / 2, 1.0))),
    ])  # fmt: skip
    chosen = budgets(table).set_index("dataset")
    assert chosen.loc["a", "epochs"] == 35 and chosen.loc["a", "set_by"] == "full[temperature=0.0]"
    assert chosen.loc["b", "epochs"] == 10  # at least 10
    assert budgets(table, high=30).set_index("dataset").loc["a", "epochs"] == 30
    with pytest.raises(ValueError, match="no curves of"):
        budgets(table, references=("logreg",))


def test_curves_average_the_ok_runs_of_each_setting():
    runs = pd.DataFrame({
        "run_id": ["r1", "r2", "r3"], "status": ["ok", "ok", "diverged"],
        "sweep": ["temperature=0.0", "temperature=0.0", None],
    })  # fmt: skip
    epochs = pd.DataFrame({
        "run_id": ["r1", "r2", "r3"], "variant": "full", "dataset": "d", "depth": 1, "epoch": 1,
        "val_accuracy": [0.5, 0.7, 0.1],
    })  # fmt: skip
    (row,) = curves(epochs, runs).itertuples()
    assert row.setting == "full[temperature=0.0]" and row.val_accuracy == pytest.approx(0.6)
    assert row.n == 2


def test_landau_budgets_on_a_tiny_grid(tmp_path, capsys):
    from studies.cli.app import main

    grid = tmp_path / "conv.toml"
    grid.write_text(
        'variants = ["plain_mlp"]\ndatasets = ["moons"]\nseeds = 1\ndepths = [1]\nepochs = 4\n'
        "[diagnostics]\niterations = 0\nprobes = 0\n"
    )
    store = tmp_path / "r.db"
    args = ["--store", str(store), "--no-progress"]
    assert main(["grid", str(grid), "--experiment", "convergence", *args]) == 0
    out = tmp_path / "budgets"
    assert main(["budgets", "--store", str(store), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "moons: 4 epochs — set by plain_mlp, depth 1" in printed  # the 4 measured cap the 10
    assert "[dataset_epochs]\nmoons = 4" in printed
    assert (out / "convergence.png").stat().st_size > 0
    assert pd.read_csv(out / "budgets.csv")["epochs"].tolist() == [4]
    assert main(["budgets", "--store", str(store), "--tolerance", "2"]) == 2
    assert "0 <= tolerance < 1" in capsys.readouterr().err
