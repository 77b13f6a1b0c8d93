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


def test_built_report_has_every_figure(built_report):
    names = {p.name for p in (built_report.parent / "figures").iterdir()}
    expected = {
        "accuracy", "cost_accuracy", "learning_curves", "beta", "loss_terms", "boundaries_moons",
        "boundaries_circles", "boundaries_classification", "cd_depth1", "cd_depth2",
        "tuning_history", "tuning_best", "importances",
    }  # fmt: skip
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
