"""Figures: each returns a saved PNG, or the reason it could not be drawn."""

from __future__ import annotations

import pandas as pd
import pytest

import reports
from reports.ranking import Ranking

PNG = b"\x89PNG\r\n\x1a\n"

FRAME_FIGURES = [
    (reports.accuracy_figure, "runs"),
    (reports.cost_accuracy_figure, "runs"),
    (reports.learning_curves_figure, "epochs"),
    (reports.beta_figure, "betas"),
    (reports.loss_terms_figure, "epochs"),
    (reports.tuning_history_figure, "trials"),
    (reports.best_so_far_figure, "trials"),
    (reports.importances_figure, "importances"),
]


@pytest.mark.parametrize(("fn", "frame"), FRAME_FIGURES, ids=lambda x: getattr(x, "__name__", x))
def test_missing_data_gives_a_reason(fn, frame, tmp_path):
    result = fn(pd.DataFrame(), tmp_path / "x.png")
    assert not result.ok and result.path is None
    assert result.reason
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow  # the full-report fixture (~25 s)
def test_built_report_has_every_figure(built_report):
    names = {p.name for p in (built_report.parent / "figures").iterdir()}
    expected = {
        "accuracy", "cost_accuracy", "learning_curves", "beta", "loss_terms", "boundaries_moons",
        "boundaries_circles", "boundaries_classification", "cd_depth1", "cd_depth2",
        "tuning_history", "tuning_best", "forest",
    }  # fmt: skip  # no importances: no synthetic study ran 20 trials
    assert names == {f"{n}.png" for n in expected}
    for p in (built_report.parent / "figures").iterdir():
        assert p.read_bytes()[:8] == PNG


def test_decision_boundary(synthetic, tmp_path):
    ok = reports.decision_boundary_figure(
        synthetic.meshes, synthetic.points, "circles", tmp_path / "b.png", seed=1
    )
    assert ok.ok and ok.path.read_bytes()[:8] == PNG
    none = reports.decision_boundary_figure(synthetic.meshes, synthetic.points, "digits", "x.png")
    assert not none.ok and "digits" in none.reason
    gone = reports.decision_boundary_figure(
        synthetic.meshes, synthetic.points, "moons", tmp_path / "c.png", seed=5
    )
    assert not gone.ok and "seed 5" in gone.reason


def test_cd_diagram_of_a_skipped_ranking(tmp_path):
    skipped = Ranking(depth=1, setting="defaults/5 epochs", matrix=pd.DataFrame(), reason="why")
    result = reports.cd_diagram_figure(skipped, tmp_path / "cd.png")
    assert not result.ok and result.reason == "why"


def _labels(fig):
    return {t.get_text() for leg in fig.legends for t in leg.get_texts()}


def test_accuracy_figure_shows_every_run_chance_and_stays_in_percent(synthetic, tmp_path):
    res = reports.accuracy_figure(synthetic.runs, tmp_path / "a.png")
    fig = res.figure
    dots: dict[str, int] = {}
    for ax in fig.axes:
        assert ax.get_ylim() == (0.0, 100.0)
        chance = [ln for ln in ax.get_lines() if ln.get_label() == "chance level"]
        assert len(chance) == 1
        dataset, setting = ax.get_title().split(" · ")
        assert setting in ("fixed, 5 epochs", "blog preset, 100 epochs"), setting
        dots[dataset] = dots.get(dataset, 0) + sum(
            len(ln.get_xdata())
            for ln in ax.get_lines()
            if ln.get_label() in ("run", "collapsed run", "diverged/failed (at chance)")
        )
    assert dots == synthetic.runs["dataset"].value_counts().to_dict()
    assert {"collapsed run", "diverged/failed (at chance)", "chance level"} <= _labels(fig)


def test_forest_figure(synthetic, tmp_path):
    cells = reports.cell_contributions(synthetic.runs)
    res = reports.forest_figure(cells, tmp_path / "f.png")
    assert res.ok and res.path.read_bytes()[:8] == PNG
    ax = res.figure.axes[0]
    assert ax.get_title() == "fixed"  # the protocol's name, not the setting's source
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]
    # per variant: its pooled row, then its 5 datasets (depths summarised within each)
    assert len(labels) == 5 * (1 + 5) and labels[0] == "no_noise: pooled (5 datasets)"
    assert "moons" in labels and not any("d1" in lb or "defaults" in lb for lb in labels)
    assert res.figure.get_size_inches()[1] * res.figure.dpi <= 1600
    lo, hi = ax.get_xlim()
    assert -10 < lo < 0 < hi < 50  # fitted to the data, not to ±100 pp
    assert not reports.forest_figure(cells.iloc[:0], tmp_path / "g.png").ok


def test_forest_splits_protocols_and_stays_within_1600_px(synthetic, tmp_path):
    cells = reports.cell_contributions(synthetic.runs)
    fixed = cells[cells["source"] == "defaults"]
    many = pd.concat(
        [fixed.assign(variant=f"{v}{i}") for i in range(6) for v in fixed["variant"].unique()]
        + [fixed.assign(source="study")]
    )
    res = reports.forest_figure(many, tmp_path / "p.png")
    assert [ax.get_title() for ax in res.figure.axes] == ["fixed", "tuned"]
    assert res.figure.get_size_inches()[1] * res.figure.dpi <= 1600


def test_forest_cells_figure_is_the_appendix(synthetic, tmp_path):
    cells = reports.cell_contributions(synthetic.runs)
    pooled = reports.pooled_contributions(synthetic.runs)
    res = reports.forest_cells_figure(cells, pooled, tmp_path / "c.png")
    labels = [t.get_text() for t in res.figure.axes[0].get_yticklabels()]
    assert len(labels) == 10 + 2  # 5 datasets × 2 depths, cells pooled, survivors
    assert labels[-2].startswith("cells pooled (fixed, 10)")


def test_learning_curves_leave_out_models_without_epochs(synthetic, tmp_path):
    res = reports.learning_curves_figure(synthetic.epochs, tmp_path / "l.png")
    labels = _labels(res.figure)
    assert "logreg" not in labels and "full" in labels
    for ax in res.figure.axes:
        assert ax.get_ylim() == (0.0, 100.0)
        assert all(len(ln.get_xdata()) >= 2 for ln in ax.get_lines())


@pytest.mark.slow
def test_loss_term_panels_have_y_labels(synthetic, tmp_path):
    res = reports.loss_terms_figure(synthetic.epochs, tmp_path / "t.png")
    assert all(ax.get_ylabel() for ax in res.figure.axes)


def test_importances_only_from_studies_with_enough_trials(synthetic, tmp_path):
    few = reports.importances_figure(synthetic.importances, tmp_path / "i.png", synthetic.trials)
    assert not few.ok and "20 trials" in few.reason  # 10 trials each: the table only
    trials = synthetic.trials
    more = trials[trials["variant"] == "full"]  # full's study: 25 trials, plain_mlp's: 10
    more = pd.concat([trials, more.assign(number=more["number"] + 10)] + [
        more.iloc[:5].assign(number=more["number"].iloc[:5] + 20)
    ])  # fmt: skip
    res = reports.importances_figure(synthetic.importances, tmp_path / "j.png", more)
    rows = [t.get_text() for t in res.figure.axes[0].get_yticklabels()]
    assert rows == ["full · moons · depth 1 (25 trials)"]
