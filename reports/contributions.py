"""Component contributions: each ablation variant paired with the full model.

A pair is the reference run and the ablation run on the same (dataset, depth, seed, data_seed,
setting): seeds and data splits are shared by every variant, so the comparison is paired. The
difference is reference − ablation, in percentage points (pp) of test accuracy: positive means
the component the ablation removes or replaces helps.

Primary analysis: a failed or diverged run counts as a failure of its variant, at chance accuracy
(data.normalise_runs' `accuracy`); collapsed runs count with their accuracy. A survivors-only
analysis (pairs whose runs both finished ok) is the sensitivity check.

- Per (dataset, depth) cell: mean paired difference, t-interval (clipped to ±100 pp) and the
  exact sign-flip permutation test over the pairs.
- Pooled: the *cells* are the units (runs of one cell share tuned hyperparameters, data and
  seeds, so they are not independent replicates of the population of tasks). Each cell
  contributes its mean difference of chance-normalised accuracy, (acc − chance)/(1 − chance),
  so 2-class and 10-class datasets share one scale. The test is Wilcoxon's signed-rank test on
  those cell means: it needs no within-cell variances (unstable from 3–6 runs and exactly zero
  for cells where both variants collapsed, which would break the inverse-variance weights of a
  random-effects model) and no normality across a dozen heterogeneous cells. The estimate is the
  mean over cells with a t-interval over cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reports.data import ANCHORS, REFERENCE, normalise_runs, sort_by_variant
from reports.intervals import t_interval
from reports.stats import holm, sign_flip_test, wilcoxon_test

__all__ = [
    "PAIR_KEYS",
    "PRIMARY",
    "SURVIVORS",
    "cell_contributions",
    "component_contributions",
    "paired_runs",
    "pooled_contributions",
]

PAIR_KEYS = ["dataset", "depth", "seed", "data_seed", "source", "epochs"]
CELL = ["dataset", "depth", "source", "epochs"]
SETTING = ["source", "epochs"]
PRIMARY = "primary (failures at chance)"
SURVIVORS = "survivors only"
_SIDE = ["accuracy", "normalised", "survived", "status"]
_PP = 100.0  # fractions to percent / percentage points
_LIST_BELOW = 5  # cells with fewer pairs list them


def paired_runs(
    runs: pd.DataFrame, variant: str, reference: str = REFERENCE, *, normalised: bool = False
) -> pd.DataFrame:
    """Every (dataset, depth, seed, data_seed, setting) with both a `reference` and a `variant`
    run: PAIR_KEYS, then accuracy_*, normalised_*, survived_*, status_* for both sides
    (`_reference`, `_variant`) and `both_survived`. A repeated key keeps its last run.
    `normalised=True` says `runs` already went through normalise_runs."""
    r = runs if normalised else normalise_runs(runs)

    def side(name: str, suffix: str) -> pd.DataFrame:
        part = r.loc[r["variant"] == name, [*PAIR_KEYS, *_SIDE]]
        part = part.drop_duplicates(PAIR_KEYS, keep="last")
        return part.rename(columns={c: f"{c}_{suffix}" for c in _SIDE})

    both = side(reference, "reference").merge(side(variant, "variant"), on=PAIR_KEYS, how="inner")
    both["both_survived"] = both["survived_reference"] & both["survived_variant"]
    both = both.dropna(subset=["accuracy_reference", "accuracy_variant"])  # unknown chance
    return both.sort_values(PAIR_KEYS).reset_index(drop=True)


def _select(pairs: pd.DataFrame, analysis: str) -> pd.DataFrame:
    return pairs[pairs["both_survived"]] if analysis == SURVIVORS else pairs


def _pp(a: pd.Series, b: pd.Series) -> np.ndarray:
    # rounded to 1e-9 pp: equal accuracies differ by exactly 0, not by float noise like 6.8e-17
    return np.round((a - b).to_numpy(float) * _PP, 9)


def _cell_row(g: pd.DataFrame) -> dict:
    d = _pp(g["accuracy_reference"], g["accuracy_variant"])
    dn = _pp(g["normalised_reference"], g["normalised_variant"])
    ci = t_interval(d, bounds=(-_PP, _PP))
    test = sign_flip_test(d)
    shown = ", ".join(f"{v:+.1f}" for v in d) if 0 < len(d) < _LIST_BELOW else ""
    return {
        "n_pairs": len(g),
        "n_failed_pairs": int((~g["both_survived"]).sum()),
        "mean_reference": g["accuracy_reference"].mean() * _PP,
        "mean_variant": g["accuracy_variant"].mean() * _PP,
        "diff_pp": ci.mean,
        "ci95_low": ci.low,
        "ci95_high": ci.high,
        "diff_normalised_pp": float(np.round(dn.mean(), 9)) if len(dn) else np.nan,
        "differences": shown,
        "test": test.test,
        "p_value": test.pvalue,
    }


def _variants(r: pd.DataFrame, reference: str, anchors: Sequence[str]) -> list[str]:
    return sorted(set(r["variant"].dropna()) - {reference} - set(anchors) - {"unknown"})


def cell_contributions(
    runs: pd.DataFrame,
    *,
    reference: str = REFERENCE,
    anchors: Sequence[str] = ANCHORS,
    analysis: str = PRIMARY,
) -> pd.DataFrame:
    """One row per (variant, dataset, depth, setting): n_pairs, n_failed_pairs (pairs with a
    failed or diverged member), mean_reference and mean_variant (percent), diff_pp with its
    t-interval ci95_low/ci95_high (pp), diff_normalised_pp, `differences` (each pair's, when
    fewer than 5), the sign-flip test and p_value, and p_holm (Holm over the rows)."""
    if analysis not in (PRIMARY, SURVIVORS):
        raise ValueError(f"unknown analysis {analysis!r}; known: {PRIMARY!r}, {SURVIVORS!r}")
    r = normalise_runs(runs)
    rows = []
    for variant in _variants(r, reference, anchors):
        pairs = _select(paired_runs(r, variant, reference), analysis)
        for key, g in pairs.groupby(CELL, dropna=False, sort=True):
            rows.append({"variant": variant, **dict(zip(CELL, key, strict=True)), **_cell_row(g)})
    columns = ["variant", *CELL, "n_pairs", "n_failed_pairs", "mean_reference", "mean_variant",
               "diff_pp", "ci95_low", "ci95_high", "diff_normalised_pp", "differences", "test",
               "p_value", "p_holm"]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out["p_holm"] = holm(out["p_value"].to_numpy(float)) if len(out) else []
    for col in ("n_pairs", "n_failed_pairs", "depth", "epochs"):
        out[col] = out[col].astype("Int64")
    return sort_by_variant(out, ["variant", *CELL])


def _pooled_row(cells: pd.DataFrame) -> dict:
    values = cells["diff_normalised_pp"].to_numpy(float)
    ci = t_interval(values, bounds=(-_PP, _PP))
    test = wilcoxon_test(values)
    return {
        "n_cells": len(cells),
        "n_datasets": cells["dataset"].nunique(),
        "n_pairs": int(cells["n_pairs"].sum()),
        "n_failed_pairs": int(cells["n_failed_pairs"].sum()),
        "estimate_pp": ci.mean,
        "ci95_low": ci.low,
        "ci95_high": ci.high,
        "sd_cells": ci.std,
        "test": test.test,
        "p_value": test.pvalue,
    }


def pooled_contributions(
    runs: pd.DataFrame,
    *,
    reference: str = REFERENCE,
    anchors: Sequence[str] = ANCHORS,
) -> pd.DataFrame:
    """One row per (variant, setting, analysis), the primary analysis first and the
    survivors-only sensitivity row after it: n_cells, n_datasets, n_pairs, n_failed_pairs, the
    mean over cells of the chance-normalised paired difference (estimate_pp, pp) with a
    t-interval over cells, sd_cells, the Wilcoxon signed-rank test on the cell means, p_value,
    and p_holm (Holm over the primary rows; NaN for sensitivity rows)."""
    rows = []
    for analysis in (PRIMARY, SURVIVORS):
        cells = cell_contributions(runs, reference=reference, anchors=anchors, analysis=analysis)
        for key, g in cells.groupby(["variant", *SETTING], dropna=False, sort=True):
            row = dict(zip(["variant", *SETTING], key, strict=True))
            rows.append({**row, "analysis": analysis, **_pooled_row(g)})
    columns = ["variant", *SETTING, "analysis", "n_cells", "n_datasets", "n_pairs",
               "n_failed_pairs", "estimate_pp", "ci95_low", "ci95_high", "sd_cells", "test",
               "p_value", "p_holm"]  # fmt: skip
    counts = ("n_cells", "n_datasets", "n_pairs", "n_failed_pairs", "epochs")
    return finish_pooled(pd.DataFrame(rows, columns=columns), counts)


def finish_pooled(out: pd.DataFrame, counts) -> pd.DataFrame:
    """Pooled rows made presentable: Holm over the primary analyses' p-values (``p_holm``; the
    survivors-only rows get none), ``counts`` as nullable integers, sorted by variant and
    setting with the primary analysis first."""
    primary = (out["analysis"] == PRIMARY).to_numpy()
    p_holm = np.full(len(out), np.nan)
    p_holm[primary] = holm(out.loc[primary, "p_value"].to_numpy(float))
    out["p_holm"] = p_holm
    for col in counts:
        out[col] = out[col].astype("Int64")
    out["_a"] = (out["analysis"] != PRIMARY).astype(int)
    out = sort_by_variant(out, ["variant", *SETTING, "_a"])
    return out.drop(columns="_a").reset_index(drop=True)


def component_contributions(
    runs: pd.DataFrame,
    *,
    reference: str = REFERENCE,
    anchors: Sequence[str] = ANCHORS,
    pooled: bool = False,
) -> pd.DataFrame:
    """cell_contributions (primary analysis), or with `pooled=True` pooled_contributions."""
    if pooled:
        return pooled_contributions(runs, reference=reference, anchors=anchors)
    return cell_contributions(runs, reference=reference, anchors=anchors)
