"""Component contributions: each ablation variant paired with the full model, seed by seed.

A pair is the reference run and the ablation run on the same (dataset, depth, seed, setting);
seeds are shared by every variant, so the comparison is paired. Only pairs where both runs are ok
count; the others are reported as lost. The difference is reference − ablation: positive means
the component the ablation removes or replaces helps test accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reports.data import ANCHORS, REFERENCE, normalise_runs, sort_by_variant
from reports.stats import bootstrap_mean_ci, holm, paired_test

__all__ = ["PAIR_KEYS", "component_contributions", "paired_runs"]

PAIR_KEYS = ["dataset", "depth", "seed", "source", "epochs"]
_SIDE = ["status", "test_accuracy"]


def paired_runs(runs: pd.DataFrame, variant: str, reference: str = REFERENCE) -> pd.DataFrame:
    """Every (dataset, depth, seed, setting) that has both a `reference` and a `variant` run:
    PAIR_KEYS, acc_reference, acc_variant, status_reference, status_variant, and `paired`
    (both ok with finite accuracies). A repeated key keeps its last run."""
    r = normalise_runs(runs)

    def side(name: str, suffix: str) -> pd.DataFrame:
        part = r.loc[r["variant"] == name, [*PAIR_KEYS, *_SIDE]]
        part = part.drop_duplicates(PAIR_KEYS, keep="last")
        return part.rename(columns={"status": f"status_{suffix}", "test_accuracy": f"acc_{suffix}"})

    both = side(reference, "reference").merge(side(variant, "variant"), on=PAIR_KEYS, how="inner")
    both["paired"] = (
        (both["status_reference"] == "ok")
        & (both["status_variant"] == "ok")
        & np.isfinite(both["acc_reference"].astype(float))
        & np.isfinite(both["acc_variant"].astype(float))
    )
    return both.sort_values(PAIR_KEYS).reset_index(drop=True)


def _compare(pairs: pd.DataFrame, confidence: float, random_state: int) -> dict:
    ok = pairs[pairs["paired"]]
    ref = ok["acc_reference"].to_numpy(float)
    var = ok["acc_variant"].to_numpy(float)
    diff = ref - var
    low, high = bootstrap_mean_ci(diff, confidence=confidence, random_state=random_state)
    test = paired_test(ref, var)
    return {
        "n_pairs": len(ok),
        "n_lost": int((~pairs["paired"]).sum()),
        "mean_reference": ref.mean() if len(ok) else np.nan,
        "mean_variant": var.mean() if len(ok) else np.nan,
        "mean_diff": diff.mean() if len(ok) else np.nan,
        "ci95_low": low,
        "ci95_high": high,
        "test": test.test,
        "p_value": test.pvalue,
    }


def component_contributions(
    runs: pd.DataFrame,
    *,
    reference: str = REFERENCE,
    anchors: Sequence[str] = ANCHORS,
    pooled: bool = False,
    confidence: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """Paired difference reference − variant of test accuracy for every ablation variant (every
    variant other than `reference` and the `anchors`).

    One row per (variant, dataset, depth, setting), or with `pooled=True` one row per (variant,
    setting) pooling the pairs of all datasets and depths. Columns: n_pairs, n_lost (pairs with a
    failed or diverged member), mean_reference, mean_variant, mean_diff, a bootstrap interval
    (ci95_low, ci95_high; fixed `random_state`), test (`wilcoxon` when n ≥ 6 and the differences
    are not all zero, else `paired t`), p_value, and p_holm: Holm-adjusted across all rows of
    the returned table (the family of comparisons).
    """
    r = normalise_runs(runs)
    groups = ["source", "epochs"] if pooled else ["dataset", "depth", "source", "epochs"]
    extra = ["n_datasets"] if pooled else []
    columns = ["variant", *groups, *extra, "n_pairs", "n_lost", "mean_reference", "mean_variant"]
    columns += ["mean_diff", "ci95_low", "ci95_high", "test", "p_value", "p_holm"]
    variants = sorted(set(r["variant"].dropna()) - {reference} - set(anchors))
    rows = []
    for variant in variants:
        pairs = paired_runs(r, variant, reference)
        for key, g in pairs.groupby(groups, dropna=False, sort=True):
            row = {"variant": variant, **dict(zip(groups, key, strict=True))}
            if pooled:
                row["n_datasets"] = g.loc[g["paired"], "dataset"].nunique()
            rows.append({**row, **_compare(g, confidence, random_state)})
    out = pd.DataFrame(rows, columns=columns)
    out["p_holm"] = holm(out["p_value"].to_numpy(float)) if len(out) else []
    for col in ("n_pairs", "n_lost", "depth", "epochs", "n_datasets"):
        if col in out:
            out[col] = out[col].astype("Int64")
    return sort_by_variant(out, ["variant", *groups])
