"""Did tuning converge? The best value so far per study (complete trials only), when the final
best was found, and the figures that show it within 1 600 px however many studies there are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_report_legibility import MAX_PX, _png_size

from reports.figures import best_so_far_figure, tuning_groups, tuning_history_figure
from reports.tables import best_so_far, convergence_table

# (state, value): a pruned trial reports a high value at a lower budget; it must never count
STILL_RISING = [
    ("COMPLETE", 0.50), ("COMPLETE", 0.60), ("PRUNED", 0.99), ("COMPLETE", 0.70),
    ("FAIL", np.nan), ("COMPLETE", 0.705), ("COMPLETE", 0.71), ("COMPLETE", 0.80),
]  # fmt: skip
CONVERGED = [("COMPLETE", 0.90), ("COMPLETE", 0.50), ("COMPLETE", 0.895), ("PRUNED", 0.2)]


def _study(name, variant, trials, dataset="moons", depth=1) -> pd.DataFrame:
    return pd.DataFrame(
        {"study_name": name, "variant": variant, "dataset": dataset, "depth": depth,
         "number": range(len(trials)), "state": [s for s, _ in trials],
         "value": [v for _, v in trials], "seconds": 1.0, "source": "sampler"}
    )  # fmt: skip


def _trials() -> pd.DataFrame:
    rows = [_study("rising", "full", STILL_RISING), _study("flat", "sgd", CONVERGED)]
    return pd.concat(rows).sample(frac=1.0, random_state=3)  # any row order


def test_best_so_far_counts_complete_trials_only():
    curve = best_so_far(_trials()).set_index(["study_name", "trial"])["best"]
    rising = curve.loc["rising"].to_numpy()
    np.testing.assert_allclose(rising, [0.50, 0.60, 0.60, 0.70, 0.70, 0.705, 0.71, 0.80])
    np.testing.assert_allclose(curve.loc["flat"].to_numpy(), [0.90, 0.90, 0.90, 0.90])


def test_convergence_table_says_when_the_best_was_found():
    table = convergence_table(_trials()).set_index("study_name")
    rising, flat = table.loc["rising"], table.loc["flat"]
    assert (rising["n_trials"], rising["n_complete"]) == (8, 6)
    assert np.isclose(rising["best"], 80.0) and rising["best_at_trial"] == 8
    assert rising["trials_to_99pct"] == 8  # 99 % of 0.80 is 0.792: only the last trial
    assert np.isclose(rising["gain_last_half_pp"], 10.0)  # 0.70 after 4 trials, 0.80 after 8
    assert "still gained 10.0 pp" in rising["reading"]
    assert flat["best_at_trial"] == 1 and flat["trials_to_99pct"] == 1
    assert flat["gain_last_half_pp"] == 0 and "still gained" not in flat["reading"]
    assert list(table["variant"]) == ["full", "sgd"]  # variant order, not row order


def test_a_study_without_a_complete_trial_says_so():
    table = convergence_table(_study("none", "full", [("PRUNED", 0.9), ("FAIL", np.nan)]))
    assert table.loc[0, "reading"] == "no complete trial in 2" and pd.isna(table.loc[0, "best"])
    assert convergence_table(pd.DataFrame()).empty


def test_best_so_far_figure_draws_the_curve_in_percent(tmp_path):
    result = best_so_far_figure(_trials(), tmp_path / "b.png")
    assert result.ok
    lines = {ln.get_label(): ln for ax in result.figure.axes for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["full"].get_ydata(), [50, 60, 60, 70, 70, 70.5, 71, 80])
    np.testing.assert_allclose(lines["full"].get_xdata(), np.arange(1, 9))


def _many(n_datasets: int) -> tuple[list[str], pd.DataFrame]:
    datasets = [f"set{i:02d}" for i in range(n_datasets)]
    trials = pd.concat(
        _study(f"{d}-{depth}", "full", STILL_RISING[:3], dataset=d, depth=depth)
        for d in datasets
        for depth in (1, 2)
    )
    return datasets, trials


def test_many_studies_split_into_groups_of_at_most_42_panels():
    datasets, trials = _many(30)
    groups = tuning_groups(trials)
    assert [len(g) for g in groups] == [21, 9]  # 42 panels at most, a dataset never split
    assert [d for g in groups for d in g] == datasets
    with pytest.raises(ValueError, match="at most 42 panels"):
        best_so_far_figure(trials, "unused.png")


def test_a_figure_of_small_panels_stays_within_1600_px(tmp_path):
    _, trials = _many(5)  # 10 panels: six small ones a row (the slow test draws 42)
    path = tmp_path / "b.png"
    assert best_so_far_figure(trials, path).ok
    width, height = _png_size(path)
    assert width <= MAX_PX and height <= MAX_PX, (width, height)


@pytest.mark.slow
def test_every_tuning_figure_of_many_studies_stays_within_1600_px(tmp_path):
    _, trials = _many(30)
    for i, group in enumerate(tuning_groups(trials)):
        for draw in (best_so_far_figure, tuning_history_figure):
            path = tmp_path / f"{draw.__name__}_{i}.png"
            assert draw(trials, path, group).ok
            width, height = _png_size(path)
            assert width <= MAX_PX and height <= MAX_PX, (draw.__name__, width, height)
