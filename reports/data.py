"""The input of a report: the DataFrames of docs/data-model.md, normalised so that every analysis
can rely on its columns existing (an empty or partial store gives empty or NaN columns, never a
KeyError).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ANCHORS",
    "N_CLASSES",
    "EXPECTED_DATASETS",
    "FIXED",
    "STATED",
    "TUNED",
    "HINTS",
    "REFERENCE",
    "ReportData",
    "STATUSES",
    "TWO_D_DATASETS",
    "add_settings",
    "hint",
    "normalise_runs",
    "sort_by_variant",
    "sweep_values",
    "variant_order",
    "with_columns",
]

STATUSES = ("ok", "diverged", "failed")
REFERENCE = "full"  # the Landau variant every ablation is compared with
ANCHORS = ("plain_mlp", "logreg")  # reference models: shown beside, never counted as ablations
# Used only to say what is missing; analyses use whatever the frames contain.
EXPECTED_DATASETS = ("moons", "circles", "classification", "digits", "mnist1d", "mnist")
TWO_D_DATASETS = ("moons", "circles", "classification")
# Classes per dataset, for stores that predate the `n_classes` column: chance falls back to
# 1 / n_classes there (the majority-class rate of a balanced test split).
N_CLASSES = {
    "moons": 2,
    "circles": 2,
    "classification": 2,
    "digits": 10,
    "mnist1d": 10,
    "mnist": 10,
}

# How to produce each missing piece; overridable through ReportData.meta["hints"].
HINTS = {
    "runs": "run `landau grid standard`",
    "blog": "run the blog preset on MNIST for 100 epochs (`landau grid claims`)",
    "epochs": "run `landau grid standard` (epochs are recorded with every run)",
    "betas": "run Landau variants with `landau grid standard` (β is recorded per epoch)",
    "meshes": "run a grid with a 2-D dataset: moons, circles, classification (`landau grid quick`)",
    "trials": "run `landau tune`",
    "importances": "run `landau tune` (importances are computed at the end of a study)",
    "loss_ranking": "run any grid (`landau grid quick`): the loss ranking is stored with it",
}

# Columns each frame is guaranteed to have after normalisation (docs/data-model.md).
COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": (
        "run_id", "name", "grid", "variant", "dataset", "seed", "depth", "epochs", "status",
        "error", "val_accuracy", "test_accuracy", "final_train_loss", "seconds",
        "seconds_per_epoch", "samples_per_second", "n_params", "epochs_run", "device",
        "params_source", "study_name", "trial_number", "data_seed", "n_classes",
        "chance_accuracy", "collapsed", "sweep", "sharpness", "hessian_trace",
    ),
    "epochs": (
        "run_id", "variant", "dataset", "seed", "depth", "epoch", "train_loss",
        "loss_quadratic", "loss_quartic", "loss_spatial", "val_accuracy", "seconds",
    ),
    "betas": ("run_id", "variant", "dataset", "seed", "depth", "epoch", "layer", "unit", "beta"),
    "meshes": ("run_id", "variant", "dataset", "seed", "depth", "x", "y", "pred"),
    "points": ("dataset", "x", "y", "label"),
    "loss_ranking": ("prediction", "alpha", "gamma", "loss", "rank", "is_perfect"),
    "trials": (
        "study_name", "variant", "dataset", "depth", "number", "state", "value", "seconds",
        "source",
    ),
    "importances": (
        "study_name", "variant", "dataset", "depth", "param", "importance", "evaluator",
    ),
}  # fmt: skip

_NUMERIC = {
    "seed", "depth", "epochs", "val_accuracy", "test_accuracy", "final_train_loss", "seconds",
    "seconds_per_epoch", "samples_per_second", "n_params", "epochs_run", "trial_number", "epoch",
    "train_loss", "loss_quadratic", "loss_quartic", "loss_spatial", "unit", "beta", "x", "y",
    "pred", "label", "alpha", "gamma", "loss", "rank", "number", "value", "importance",
    "data_seed", "n_classes", "chance_accuracy", "sharpness", "hessian_trace",
}  # fmt: skip

# The blog's stated setting (its table; the same numbers as ablations.presets.BLOG, which reports
# does not import): a swept run at these values *is* the unswept run (same parameters, same id).
STATED = {
    "alpha": 0.0095, "gamma": 6.5, "beta_init": 1e-3, "lr": 1e-2, "kappa": 1e-2, "hidden": 156,
    "damping": 1e-3, "temperature": 8e-3, "dt": 1e-3,
}  # fmt: skip
FIXED, TUNED = "fixed", "tuned"  # the two ablation protocols


_KEYS = {"variant", "dataset", "status", "layer"}


def with_columns(frame: pd.DataFrame | None, kind: str) -> pd.DataFrame:
    """A copy of `frame` with every column of `kind` present (missing ones all-NaN) and the
    numeric columns of the contract coerced to numbers (bad values become NaN)."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown frame kind {kind!r}; known: {', '.join(COLUMNS)}")
    out = pd.DataFrame() if frame is None else frame.copy()
    for col in COLUMNS[kind]:
        if col not in out.columns:
            out[col] = np.nan if col in _NUMERIC else pd.Series(pd.NA, index=out.index, dtype=str)
        elif col in _NUMERIC:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    # a row without a name still counts, as "unknown"
    for col in sorted(_KEYS & set(COLUMNS[kind])):
        out[col] = out[col].astype(str).where(out[col].notna(), "unknown")
    return out


_SETTING = ("params_source", "study_name", "trial_number", "sweep")


def add_settings(runs: pd.DataFrame, settings: pd.DataFrame | None) -> pd.DataFrame:
    """`runs` plus one row per further setting a run was asked under (the store's run_settings:
    run_id, params_source, study_name, trial_number, sweep): a copy of the stored run with that
    setting's labels and ``alias`` True (the stored rows: False).

    A run is stored once, under the setting that first produced it; when the tuned protocol's
    study chose exactly the fixed protocol's values, the tuned run *is* the fixed run (same
    parameters, same id) and must count in both protocols. Analyses never mix settings, so each
    sees the run once; counts of runs (status, failures, the first page) skip aliases."""
    out = runs.copy()
    out["alias"] = False
    if settings is None or settings.empty or out.empty:
        return out
    stored = out.set_index("run_id")
    extra = settings[settings["run_id"].isin(stored.index)]
    extra = extra.merge(out[["run_id", "params_source"]], on="run_id", suffixes=("", "_stored"))
    extra = extra[extra["params_source"] != extra["params_source_stored"]]
    extra = extra.drop_duplicates(["run_id", "params_source"])
    if extra.empty:
        return out
    copies = stored.loc[extra["run_id"]].reset_index()
    for col in _SETTING:
        copies[col] = extra[col].to_numpy(dtype=object)
    copies["trial_number"] = pd.to_numeric(copies["trial_number"], errors="coerce")
    copies["alias"] = True
    return pd.concat([out, copies[out.columns]], ignore_index=True)


def normalise_runs(runs: pd.DataFrame | None) -> pd.DataFrame:
    """Runs with every contract column, sorted canonically (so every statistic sees the same
    order whatever the store's row order), plus derived columns:

    - `source`: `params_source` with the study part collapsed (`study:s#3` -> `study`), so runs
      of one setting group together across variants. A run's *setting* is (source, epochs):
      analyses never mix settings. Unknown epochs read -1, unknown names "unknown".
    - `data_seed` (0 when absent), `n_classes` (N_CLASSES when absent), `chance_accuracy`
      (1 / n_classes when absent), `collapsed` (when absent: an ok run whose test accuracy is not
      above chance; failed and diverged runs are not flagged, they count as failures).
    - `sweep`: the swept values (``temperature=0.0``), "" for an unswept run and for a run swept
      at the blog's stated values (STATED: it is the unswept run); `source` then gains
      ``|<sweep>`` so that analyses pair only runs at the same swept values.
    - `protocol`: ``fixed`` (preset or defaults: every variant at the same values) or ``tuned``
      (parameters from a study, ``study:``/``untuned:``); "unknown" otherwise.
    - `alias`: True for a further setting's copy of a stored run (``add_settings``), False
      otherwise; counts of runs skip aliases.
    - `survived`: ok with a finite test accuracy; `accuracy`: the primary outcome, the test
      accuracy of a survivor and chance accuracy for every other run (a failure of its variant);
      `normalised`: (accuracy − chance) / (1 − chance), comparable across datasets.
    """
    out = with_columns(runs, "runs")
    alias = out["alias"] if "alias" in out.columns else pd.Series(False, index=out.index)
    out["alias"] = alias.map(lambda v: _as_bool(v) is True).astype(bool)
    src = out["params_source"].astype(str).where(out["params_source"].notna(), "unknown")
    # `untuned:<study>` (the study found no complete trial, so the defaults ran) belongs to the
    # tuned setting too: it is what the tuning procedure produced for that variant
    out["source"] = src.str.replace(r"^(study|untuned):.*$", "study", regex=True)
    out["protocol"] = np.select(
        [src.str.match(r"^(preset:|defaults$)"), src.str.match(r"^(study|untuned):")],
        [FIXED, TUNED],
        "unknown",
    )
    out["sweep"] = out["sweep"].astype(object).map(_off_stated, na_action="ignore")
    out["sweep"] = out["sweep"].where(out["sweep"].notna(), "").astype(str)
    swept = out["sweep"] != ""
    out.loc[swept, "source"] = out.loc[swept, "source"] + "|" + out.loc[swept, "sweep"]
    out["epochs"] = out["epochs"].fillna(-1).astype(int)
    out["data_seed"] = out["data_seed"].fillna(0)
    known = out["dataset"].map(N_CLASSES).astype(float)
    out["n_classes"] = out["n_classes"].fillna(known)
    out["chance_accuracy"] = out["chance_accuracy"].fillna(1.0 / out["n_classes"])
    for col in ("seed", "depth", "n_params", "epochs_run", "data_seed", "n_classes"):
        out[col] = out[col].round().astype("Int64")
    acc = out["test_accuracy"]
    out["survived"] = (out["status"] == "ok") & acc.notna()
    derived = out["survived"] & (acc <= out["chance_accuracy"] + 1e-12)
    flag = out["collapsed"].map(_as_bool, na_action="ignore")
    out["collapsed"] = flag.where(flag.notna(), derived).astype(bool) & out["survived"]
    out["accuracy"] = acc.where(out["survived"], out["chance_accuracy"])
    out["normalised"] = (out["accuracy"] - out["chance_accuracy"]) / (1 - out["chance_accuracy"])
    order = ["variant", "dataset", "depth", "source", "epochs", "seed", "data_seed", "run_id"]
    out = out.sort_values(order, na_position="last", kind="mergesort")
    return out.reset_index(drop=True)


def sweep_values(text: Any) -> dict[str, float]:
    """``"temperature=0.0;lr=0.01"`` -> {"temperature": 0.0, "lr": 0.01} (bad parts skipped)."""
    values = {}
    for part in str(text or "").split(";"):
        key, _, value = part.partition("=")
        try:
            values[key.strip()] = float(value)
        except ValueError:
            continue
    return values


def _off_stated(text: Any) -> str:
    """The sweep text, or "" when every swept value is the blog's stated one."""
    values = sweep_values(text)
    if not values:
        return ""
    at_stated = all(k in STATED and np.isclose(v, STATED[k]) for k, v in values.items())
    return "" if at_stated else str(text)


def _as_bool(v: Any) -> bool | None:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    text = str(v).strip().lower()
    if text in ("true", "1", "1.0", "yes"):
        return True
    if text in ("false", "0", "0.0", "no"):
        return False
    return None


def variant_order(names, reference: str = REFERENCE, anchors=ANCHORS) -> list[str]:
    """Reference first, then the other variants alphabetically, then the anchors."""
    present = {str(n) for n in names if isinstance(n, str)}
    middle = sorted(present - {reference} - set(anchors))
    return [v for v in (reference, *middle, *anchors) if v in present]


def sort_by_variant(frame: pd.DataFrame, keys: list[str], **order) -> pd.DataFrame:
    """`frame` sorted by variant (in variant_order) and then by the other `keys`."""
    if frame.empty:
        return frame.reset_index(drop=True)
    rank = {v: i for i, v in enumerate(variant_order(frame["variant"], **order))}
    tmp = frame.assign(_rank=frame["variant"].map(rank))
    tmp = tmp.sort_values(["_rank", *[k for k in keys if k != "variant"]], na_position="last")
    return tmp.drop(columns="_rank").reset_index(drop=True)


def hint(meta: dict[str, Any], key: str) -> str:
    """How to produce the missing piece `key` (from meta['hints'] when given)."""
    return {**HINTS, **meta.get("hints", {})}.get(key, "")


@dataclass(frozen=True)
class ReportData:
    """Everything a report is built from. Any frame may be empty; `meta` holds free-form context:
    `store` (URL), `generated_at`, `command`, `notes` (list of lines shown in the summary),
    `faithfulness` (text), `datasets` (expected names), `hints` (dict overriding HINTS),
    `reference` and `anchors` (variant names), `title`, `replicate` (the name of the replicate
    experiment). Other keys are ignored. `replicate_claims` is the claims table of a replicate
    experiment (reports.replication.claims_of on its frames; empty: no replicate), beside which
    the report says whether each verdict replicates."""

    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    epochs: pd.DataFrame = field(default_factory=pd.DataFrame)
    betas: pd.DataFrame = field(default_factory=pd.DataFrame)
    meshes: pd.DataFrame = field(default_factory=pd.DataFrame)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    loss_ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    importances: pd.DataFrame = field(default_factory=pd.DataFrame)
    replicate_claims: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "meta":
                if value is None:
                    object.__setattr__(self, "meta", {})
                elif not isinstance(value, dict):
                    raise ValueError(f"`meta` must be a dict, but got {type(value).__name__}")
            elif value is None:
                object.__setattr__(self, f.name, pd.DataFrame())
            elif not isinstance(value, pd.DataFrame):
                raise ValueError(
                    f"`{f.name}` must be a pandas DataFrame, but got {type(value).__name__}"
                )

    @property
    def reference(self) -> str:
        return str(self.meta.get("reference", REFERENCE))

    @property
    def anchors(self) -> tuple[str, ...]:
        return tuple(self.meta.get("anchors", ANCHORS))

    @property
    def expected_datasets(self) -> tuple[str, ...]:
        return tuple(self.meta.get("datasets", EXPECTED_DATASETS))
