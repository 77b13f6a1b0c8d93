"""The claims added for issue 9: protocols, sweeps, the best setting, equivalence, outcomes
other than accuracy, and the measures read from meshes, loss terms and β's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import claims_table
from reports.claims import (
    EQUIVALENT,
    INCONCLUSIVE,
    NO_DATA,
    NOT_EQUIVALENT,
    NOT_SUPPORTED,
    SUPPORTED,
    UNDETERMINED,
)
from reports.data import normalise_runs


def _runs(variant, accs, *, dataset="mnist", depth=1, source="defaults", sweep=None, **cols):
    n = len(accs)
    return pd.DataFrame(
        {"run_id": [f"{variant}{dataset}{depth}{source}{sweep}{i}" for i in range(n)],
         "variant": variant, "dataset": dataset, "depth": depth, "seed": range(n),
         "epochs": 100, "params_source": source, "status": "ok", "test_accuracy": accs,
         "sweep": sweep, **cols}
    )  # fmt: skip


def _table(runs, **kw):
    return claims_table(runs, **kw).set_index("id")


def test_protocol_and_sweep_columns():
    runs = pd.concat([
        _runs("full", [0.5], source="defaults", sweep="temperature=0.0"),
        _runs("full", [0.5], source="preset:blog", sweep="temperature=0.008"),
        _runs("full", [0.5], source="study:s#3"),
        _runs("full", [0.5], source="untuned:s"),
    ])  # fmt: skip
    r = normalise_runs(runs).set_index("params_source")
    assert r.loc["defaults", "protocol"] == "fixed"
    assert r.loc["defaults", "source"] == "defaults|temperature=0.0"
    # swept at the blog's stated value: the unswept run
    assert r.loc["preset:blog", "sweep"] == "" and r.loc["preset:blog", "source"] == "preset:blog"
    assert r.loc["study:s#3", "protocol"] == "tuned" == r.loc["untuned:s", "protocol"]


def test_best_setting_is_chosen_on_validation_not_test():
    runs = pd.concat([
        _runs("full", [0.95] * 10, sweep="temperature=0.0", val_accuracy=0.80),
        _runs("full", [0.90] * 10, sweep="temperature=8e-05", val_accuracy=0.85),
        _runs("full", [0.30] * 10, source="preset:blog", val_accuracy=0.3),
    ])  # fmt: skip
    t = _table(runs)
    assert "temperature=8e-05" in t.loc["1b", "setting"]  # best validation, worse test
    assert t.loc["1b", "estimate"] == pytest.approx(90.0)
    assert t.loc["1a", "estimate"] == pytest.approx(30.0)
    assert t.loc["1a", "verdict"] == NOT_SUPPORTED


def _pairs(other, diffs, column="test_accuracy", base=0.8, source="defaults"):
    frames = []
    for i, d in enumerate(diffs):
        values = {"test_accuracy": 0.8, "final_train_loss": 1.0, "sharpness": 10.0}
        for name, shift in (("full", 0.0), (other, d)):
            cols = {k: v for k, v in values.items() if k != "test_accuracy"}
            cols[column] = base + shift if column != "test_accuracy" else 0.8 - shift
            acc = cols.pop("test_accuracy", 0.8)
            frames.append(
                _runs(name, [acc] * 6, dataset=f"set{i}", source=source, n_classes=2, **cols)
            )
    return pd.concat(frames)


def test_equivalence_with_the_anchor():
    from statsmodels.stats.weightstats import ttost_paired

    diffs = [0.001, -0.001, 0.002, 0.0, 0.001, -0.002, 0.001, 0.0]
    close = _table(_pairs("plain_mlp", diffs, source="study:s#1"))
    row = close.loc["3-tuned"]  # declared under the tuned protocol: a comparison of models
    assert row["verdict"] == EQUIVALENT and row["family"] == "equivalence"
    assert "margin ±5 pp" in row["measured"] and "inside the ±5 pp margin" in row["reading"]
    # datasets as units: TOST on their normalised accuracies (2-class: twice the raw pp)
    full = np.full(8, 60.0)
    anchor = 60.0 - 200 * np.array(diffs)
    assert row["p_value"] == pytest.approx(ttost_paired(full, anchor, -5, 5)[0])
    far = _table(_pairs("plain_mlp", [0.2, 0.25, 0.3, 0.2, 0.22, 0.21, 0.2, 0.3]))
    assert far.loc["3-fixed", "verdict"] == NOT_EQUIVALENT  # a sensitivity row, raw p
    assert far.loc["3-fixed", "role"] == "sensitivity"
    assert far.loc["3-tuned", "verdict"] == NO_DATA
    wide = _table(_pairs("plain_mlp", [0.05, -0.04, 0.06, -0.05, 0.0, 0.03]))
    assert wide.loc["3-fixed", "verdict"] == UNDETERMINED  # the interval straddles the margin


def test_lower_final_loss_and_sharpness_of_the_reference():
    runs = _pairs("sgd", [0.5] * 8, column="final_train_loss", base=1.0, source="study:s#1")
    t = _table(runs)
    assert t.loc["5b-tuned", "verdict"] == SUPPORTED and t.loc["5b-tuned", "estimate"] > 0
    runs = _pairs("no_noise", [-0.5] * 8, column="sharpness", base=1.0)
    assert _table(runs).loc["5c-fixed", "verdict"] == NOT_SUPPORTED


def test_temperature_sweep_effect():
    frames = []
    for i in range(8):
        hot = _runs("full", [0.6] * 5, dataset=f"set{i}", n_classes=2, hp_temperature=0.008)
        cold = _runs("full", [0.9] * 5, dataset=f"set{i}", n_classes=2, hp_temperature=0.0,
                     sweep="temperature=0.0")  # fmt: skip
        frames += [hot, cold]
    # MNIST-like: one dataset swept at two lengths is one unit, its lengths averaged inside it
    frames += [f.assign(epochs=3, dataset="set0") for f in frames[:2]]
    t = _table(pd.concat(frames))
    assert t.loc["4c", "verdict"] == NOT_SUPPORTED and t.loc["4c", "role"] == "sensitivity"
    assert t.loc["4c", "estimate"] == pytest.approx(-60.0)  # chance-normalised pp
    assert t.loc["4c", "units"] == "8 datasets"


def _mesh(run_id, variant, pred_fn, seed=0, dataset="moons"):
    xs = np.linspace(-1, 1, 8)
    gx, gy = np.meshgrid(xs, xs)
    return pd.DataFrame({"run_id": run_id, "variant": variant, "dataset": dataset, "seed": seed,
                         "depth": 1, "x": gx.ravel(), "y": gy.ravel(),
                         "pred": pred_fn(gx.ravel(), gy.ravel())})  # fmt: skip


def test_boundary_use_and_seed_disagreement_from_meshes():
    runs = pd.concat([
        _runs("full", [0.8] * 6, dataset="moons"), _runs("plain_mlp", [0.9], dataset="moons"),
        _runs("no_quartic", [0.8] * 2, dataset="moons"),
    ])  # fmt: skip
    ids = runs["run_id"].tolist()
    meshes = pd.concat([
        # horizontal boundaries: x0 unused, in every one of six runs
        *[_mesh(ids[i], "full", lambda x, y, i=i: (y > 0.1 * i).astype(int), seed=i)
          for i in range(6)],
        _mesh(ids[6], "plain_mlp", lambda x, y: (x + y > 0).astype(int)),
        _mesh(ids[7], "no_quartic", lambda x, y: (y > 0).astype(int)),
        _mesh(ids[8], "no_quartic", lambda x, y: (y > 0).astype(int), seed=1),
    ])  # fmt: skip
    t = _table(runs, meshes=meshes)
    assert t.loc["13", "verdict"] == NOT_SUPPORTED
    assert "moons 0.00 [0.00, 0.00] over 6 runs (plain_mlp 0.50)" in t.loc["13", "measured"]
    assert t.loc["6b-fixed", "estimate"] > 0  # the full seeds disagree, no_quartic's do not
    assert t.loc["6b-fixed", "verdict"] == INCONCLUSIVE  # one dataset cannot reach p < 0.05
    # two runs: the interval of their median covers every share, whatever they show
    two = runs[runs["run_id"].isin(ids[:2] + ids[6:])]
    assert _table(two, meshes=meshes).loc["13", "verdict"] == INCONCLUSIVE


def _epochs(quartics):
    """One run per entry, two epochs each; the last epoch's quartic term as given."""
    rows = [{"run_id": f"r{i}", "variant": "full", "dataset": "moons", "epoch": e,
             "loss_quadratic": 0.01, "loss_quartic": 0.1 if e == 1 else q, "loss_spatial": 0.2}
            for i, q in enumerate(quartics) for e in (1, 2)]  # fmt: skip
    return pd.DataFrame(rows)


def test_signed_mean_is_judged_on_an_interval_over_runs():
    t = _table(pd.DataFrame(), epochs=_epochs([1.5, 1.2] * 5))  # negative in all 10 runs
    assert t.loc["7b", "verdict"] == NOT_SUPPORTED and "negative in 100%" in t.loc["7b", "reading"]
    assert t.loc["7b", "ci_low"] > 50  # Clopper–Pearson: 69% for 10 of 10
    # 6 of 10 negative: the share's interval covers one half, so no verdict either way
    mixed = _table(pd.DataFrame(), epochs=_epochs([1.5] * 6 + [0.0] * 4)).loc["7b"]
    assert mixed["verdict"] == INCONCLUSIVE and mixed["ci_low"] < 50 < mixed["ci_high"]
    two = _table(pd.DataFrame(), epochs=_epochs([1.5, 1.2])).loc["7b"]
    assert two["verdict"] == INCONCLUSIVE  # two runs: a point share of 100% decides nothing


def test_phase_boundaries_are_judged_on_an_interval_over_runs():
    beta = [1.0, 0.9, -1.0, -0.95, 0.1, 0.2]
    betas = pd.DataFrame(
        [{"run_id": f"f{r}", "variant": "field_beta", "dataset": "moons", "epoch": 3,
          "layer": "llayer1", "unit": u, "beta": b} for r in range(8) for u, b in enumerate(beta)]
    )  # fmt: skip
    t = _table(pd.DataFrame(), betas=betas)
    assert t.loc["11", "verdict"] == SUPPORTED and "median 1" in t.loc["11", "measured"]
    flat = betas.assign(beta=0.001)
    assert _table(pd.DataFrame(), betas=flat).loc["11", "verdict"] == NOT_SUPPORTED
    one = betas[betas["run_id"] == "f0"]
    assert _table(pd.DataFrame(), betas=one).loc["11", "verdict"] == INCONCLUSIVE


def test_sweep_and_sharpness_figures(tmp_path):
    from reports.figures import sharpness_figure, sweep_figure, swept_params

    frames = []
    for t in (0.0, 8e-5, 8e-3):
        sweep = f"temperature={t!r}"
        frames.append(_runs("full", [0.5, 0.6], dataset="moons", sweep=sweep, hp_temperature=t,
                            sharpness=[3.0, -1.0]))  # fmt: skip
    runs = pd.concat(frames)
    assert swept_params(runs) == ["temperature"]
    result = sweep_figure(runs, tmp_path / "sweep.png", "temperature")
    assert result.ok
    ticks = [t.get_text() for t in result.figure.axes[0].get_xticklabels()]
    assert ticks == ["0", "8e-05", "0.008"]  # 0 as its own tick on a log axis
    # a second length of the same cell is its own panel; a length with one value is no sweep
    longer = pd.concat([_runs("full", [0.9], dataset="moons", sweep=f"temperature={t!r}",
                              hp_temperature=t) for t in (0.0, 8e-3)])  # fmt: skip
    alone = _runs("full", [0.7], dataset="moons", hp_temperature=8e-3).assign(epochs=50)
    mixed = pd.concat([runs.assign(epochs=10), longer, alone])
    both = sweep_figure(mixed, tmp_path / "both.png", "temperature")
    titles = [ax.get_title() for ax in both.figure.axes if ax.get_title()]
    assert titles == ["moons, depth 1, 10 epochs", "moons, depth 1, 100 epochs"]
    assert sharpness_figure(runs, tmp_path / "sharp.png").ok  # the stated (0.008) runs
    assert not sharpness_figure(runs.assign(sharpness=np.nan), tmp_path / "x.png").ok


def test_a_dataset_at_fewer_epochs_pools_with_the_others():
    # eight cells at 10 epochs and MNIST at 3 (a grid's [dataset_epochs]): one setting, 9 cells
    runs = _pairs("no_noise", [0.02] * 8)
    runs["epochs"] = 10
    mnist = pd.concat([
        _runs("full", [0.9] * 6, dataset="mnist", n_classes=10),
        _runs("no_noise", [0.88] * 6, dataset="mnist", n_classes=10),
    ]).assign(epochs=3)  # fmt: skip
    t = _table(pd.concat([runs, mnist]))
    assert t.loc["4a-fixed", "n"] == 9
    assert (
        "10 epochs" in t.loc["4a-fixed", "setting"] and "3 epochs" in t.loc["4a-fixed", "setting"]
    )


def test_only_tuned_runs_give_rows_not_an_error():
    # the first report of `landau run`: no fixed-protocol run at all (empty selections of str
    # columns once broke the boolean masks)
    runs = pd.concat([
        _runs("full", [0.8] * 3, source="study:a#1", dataset="moons", n_classes=2),
        _runs("no_noise", [0.7] * 3, source="study:b#2", dataset="moons", n_classes=2),
    ])  # fmt: skip
    t = _table(runs.astype({"sweep": "str"}))
    assert t.loc["4a-tuned", "verdict"] == INCONCLUSIVE and t.loc["4a-tuned", "n"] == 1
    assert t.loc["4a-fixed", "verdict"] == NO_DATA and t.loc["4c", "verdict"] == NO_DATA
