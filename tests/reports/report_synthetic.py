"""Synthetic results that follow docs/data-model.md column for column.

Accuracies are base(dataset) + EFFECT[variant] + a seed term shared by every variant (so paired
differences are exactly EFFECT differences, plus a small variant-specific wiggle), which lets tests
know the answers. Every cell has 3 seeds × 2 data splits. One run diverges and one fails (counted
at chance); one run collapses (constant prediction, at chance: `collapsed` is stored); one cell is
bimodal (no_quartic on classification at depth 1: the runs of data split 1 sit at chance). MNIST
blog-preset runs exist for the claims. The frames carry the producer's newer columns (data_seed,
n_classes, chance_accuracy, collapsed); tests of old stores drop them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import ReportData

VARIANTS = ("full", "no_quartic", "static_beta", "sgd", "no_noise", "no_spatial", "plain_mlp",
            "logreg")  # fmt: skip
LANDAU = VARIANTS[:6]
DATASETS = ("moons", "circles", "classification", "digits", "mnist1d")
TWO_D = ("moons", "circles", "classification")
SEEDS = tuple(range(3))
DATA_SEEDS = (0, 1)
DEPTHS = (1, 2)
EPOCHS = 5
BASE = {"moons": 0.90, "circles": 0.85, "classification": 0.88, "digits": 0.80, "mnist1d": 0.60}
# full − variant is −EFFECT: no_noise is 0.02 worse (noise helps), plain_mlp 0.02 better
EFFECT = {"full": 0.0, "no_quartic": 0.0, "static_beta": 0.001, "sgd": -0.01, "no_noise": -0.02,
          "no_spatial": 0.0, "plain_mlp": 0.02, "logreg": -0.10}  # fmt: skip
SEED_TERM = (0.0, 0.01, -0.01, 0.005, -0.005, 0.002)  # indexed by seed + 3 · data_seed
DIVERGED = ("no_noise", "moons", 2, 1, 1)  # (variant, dataset, seed, data_seed, depth)
FAILED = ("sgd", "circles", 1, 0, 2)
COLLAPSED = ("no_spatial", "circles", 0, 1, 2)  # predicts one class: accuracy 0.5 = chance
BIMODAL = ("no_quartic", "classification", 1)  # (variant, dataset, depth): data split 1 at chance
NEW_COLUMNS = ("data_seed", "n_classes", "chance_accuracy", "collapsed")  # absent in old stores
N_CLASSES = {"moons": 2, "circles": 2, "classification": 2, "digits": 10, "mnist1d": 10,
             "mnist": 10}  # fmt: skip
N_PARAMS = {1: 30, 2: 200}


def _wiggle(variant: str, rep: int) -> float:
    """A small deterministic variant-specific term, so differences are not constant."""
    if variant == "full":
        return 0.0
    return 0.001 * ((VARIANTS.index(variant) * 7 + rep * 3) % 5 - 2)


def accuracy(variant: str, dataset: str, seed: int, data_seed: int = 0, depth: int = 1) -> float:
    if (variant, dataset, depth) == BIMODAL and data_seed == 1:
        return 0.5
    rep = seed + 3 * data_seed
    return BASE[dataset] + EFFECT[variant] + SEED_TERM[rep] + _wiggle(variant, rep)


def _run(
    variant, dataset, seed, depth, data_seed=0, *, source="defaults", epochs=EPOCHS, acc=None
) -> dict:
    status, error = "ok", None
    key = (variant, dataset, seed, data_seed, depth)
    if key == DIVERGED:
        status, error = "diverged", "non-finite training loss at epoch 3"
    elif key == FAILED:
        status, error = "failed", "RuntimeError: synthetic failure"
    if acc is None:
        acc = 0.5 if key == COLLAPSED else accuracy(variant, dataset, seed, data_seed, depth)
    good = status == "ok"
    chance = 1.0 / N_CLASSES[dataset]
    seconds = (10.0 if variant == "logreg" else 40.0 if variant == "plain_mlp" else 60.0) * depth
    return {
        "run_id": f"{variant}-{dataset}-{seed}-{data_seed}-{depth}-{source}",
        "name": f"{variant}[dataset={dataset},seed={seed},data_seed={data_seed},depth={depth}]",
        "grid": "synthetic",
        "variant": variant,
        "dataset": dataset,
        "seed": seed,
        "depth": depth,
        "epochs": epochs,
        "status": status,
        "error": error,
        "val_accuracy": acc + 0.005 if status != "failed" else np.nan,
        "test_accuracy": acc if good else np.nan,
        "final_train_loss": 0.1 if good else np.nan,
        "seconds": seconds + seed,
        "seconds_per_epoch": (seconds + seed) / epochs,
        "samples_per_second": 1000.0 / depth,
        "n_params": N_PARAMS[depth],
        "epochs_run": epochs if good else 3,
        "device": "cpu",
        "params_source": source,
        "study_name": None,
        "trial_number": None,
        "hp_lr": 0.01,
        "data_seed": data_seed,
        "n_classes": N_CLASSES[dataset],
        "chance_accuracy": chance,
        "collapsed": bool(good and acc <= chance),
    }


def runs_frame() -> pd.DataFrame:
    rows = [
        _run(v, d, s, k, ds)
        for v in VARIANTS for d in DATASETS for s in SEEDS for ds in DATA_SEEDS for k in DEPTHS
    ]  # fmt: skip
    blog = {1: 0.93, 2: 0.955}
    for depth, target in blog.items():
        for s in SEEDS:
            acc = target + SEED_TERM[s]
            rows.append(_run("full", "mnist", s, depth, source="preset:blog", epochs=100, acc=acc))
    return pd.DataFrame(rows)


def epochs_frame(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in runs[runs["params_source"] == "defaults"].itertuples():
        landau = r.variant in LANDAU
        # logistic regression is fitted in one go: one epoch row, no curve
        for e in range(1, 2 if r.variant == "logreg" else EPOCHS + 1):
            rows.append(
                {"run_id": r.run_id, "variant": r.variant, "dataset": r.dataset, "seed": r.seed,
                 "depth": r.depth, "epoch": e, "train_loss": 1.0 / e,
                 "loss_quadratic": 0.5 / e if landau else np.nan,
                 "loss_quartic": 0.2 / e if landau else np.nan,
                 "loss_spatial": 0.1 / e if landau else np.nan,
                 "val_accuracy": r.val_accuracy * (1 - 0.1 / e), "seconds": 10.0 * e}
            )  # fmt: skip
    return pd.DataFrame(rows)


def betas_frame(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    sel = runs[(runs["params_source"] == "defaults") & runs["variant"].isin(LANDAU)]
    for r in sel.itertuples():
        layers = ("llayer1",) if r.depth == 1 else ("llayer1", "llayer2")
        for layer in layers:
            for e in range(EPOCHS + 1):
                beta = 1e-3 if r.variant == "static_beta" else 1e-3 * (1 + e)
                rows.append({"run_id": r.run_id, "variant": r.variant, "dataset": r.dataset,
                             "seed": r.seed, "depth": r.depth, "epoch": e, "layer": layer,
                             "unit": 0, "beta": beta})  # fmt: skip
    return pd.DataFrame(rows)


def meshes_frame(runs: pd.DataFrame, resolution: int = 20) -> pd.DataFrame:
    xs = np.linspace(-2.5, 2.5, resolution)
    xx, yy = np.meshgrid(xs, xs)
    frames = []
    sel = runs[runs["dataset"].isin(TWO_D) & runs["variant"].isin(["full", "plain_mlp"])]
    for r in sel[sel["seed"].isin([0, 1]) & (sel["data_seed"] == 0)].itertuples():
        pred = (yy.ravel() > np.sin(xx.ravel() * (1 + r.depth / 2))).astype(int)
        frames.append(pd.DataFrame({"run_id": r.run_id, "variant": r.variant,
                                    "dataset": r.dataset, "seed": r.seed, "depth": r.depth,
                                    "x": xx.ravel(), "y": yy.ravel(), "pred": pred}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def points_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for d in TWO_D:
        xy = rng.normal(size=(n, 2))
        label = (xy[:, 1] > np.sin(xy[:, 0])).astype(int)
        frames.append(pd.DataFrame({"dataset": d, "x": xy[:, 0], "y": xy[:, 1], "label": label}))
    return pd.concat(frames, ignore_index=True)


def loss_ranking_frame() -> pd.DataFrame:
    """At the blog's (alpha, gamma) the negative quartic term ranks the perfect prediction 3rd."""
    rows = []
    for alpha, gamma, losses in [
        (0.0095, 6.5, {"perfect": 0.5, "uniform": 0.1, "wrong_class": 0.3, "all_zero": 0.9}),
        (1.0, 0.0, {"perfect": 0.0, "uniform": 0.4, "wrong_class": 1.0, "all_zero": 0.5}),
    ]:
        ranks = pd.Series(losses).rank(method="min").astype(int)
        for pred, loss in losses.items():
            rows.append({"prediction": pred, "alpha": alpha, "gamma": gamma, "loss": loss,
                         "rank": ranks[pred], "is_perfect": pred == "perfect"})  # fmt: skip
    return pd.DataFrame(rows)


def trials_frame() -> pd.DataFrame:
    rows = []
    for variant in ("full", "plain_mlp"):
        study = f"{variant}-moons-d1"
        for n in range(10):
            state = "PRUNED" if n == 4 else "FAIL" if n == 7 else "COMPLETE"
            shift = 0.05 if variant == "plain_mlp" else 0.0
            value = np.nan if state == "FAIL" else 0.7 + shift + 0.02 * ((n * 7) % 10)
            rows.append({"study_name": study, "variant": variant, "dataset": "moons", "depth": 1,
                         "number": n, "state": state, "value": value, "seconds": 5.0,
                         "source": "preset:blog" if n == 0 else "sampler",
                         "param_lr": 10.0 ** -(1 + n % 3)})  # fmt: skip
    return pd.DataFrame(rows)


def importances_frame() -> pd.DataFrame:
    rows = []
    for variant, params in (("full", ("lr", "alpha", "gamma")), ("plain_mlp", ("lr", "hidden"))):
        weights = np.arange(len(params), 0, -1) / sum(range(1, len(params) + 1))
        for p, w in zip(params, weights, strict=True):
            rows.append({"study_name": f"{variant}-moons-d1", "variant": variant,
                         "dataset": "moons", "depth": 1, "param": p, "importance": w,
                         "evaluator": "FanovaImportanceEvaluator"})  # fmt: skip
    return pd.DataFrame(rows)


def report_data() -> ReportData:
    runs = runs_frame()
    return ReportData(
        runs=runs, epochs=epochs_frame(runs), betas=betas_frame(runs), meshes=meshes_frame(runs),
        points=points_frame(), loss_ranking=loss_ranking_frame(), trials=trials_frame(),
        importances=importances_frame(),
        meta={"store": "sqlite:///synthetic.db", "command": "landau report",
              "experiment": "synthetic",
              "notes": ["importances skipped for 0 studies"]},
    )  # fmt: skip
