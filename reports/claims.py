"""The blog's claims beside what was measured, each with a verdict.

Verdicts: `supported`, `not supported`, `inconclusive`, or `no data` (the measured column then
says what is missing and how to produce it). The rules, precisely:

- accuracy claims (1, 2): blog-preset runs of the reference on MNIST at the claimed depth (the
  largest `epochs` among them). With the 95% t-interval [lo, hi] of mean test accuracy over ok
  runs: `supported` if hi ≥ target (the target is inside or below the interval), `not supported`
  if hi < target, `inconclusive` with fewer than 2 ok runs.
- component claims (3–6): the pooled paired difference reference − ablation over all datasets
  and depths (setting with the most pairs). With its bootstrap 95% interval [lo, hi]:
  `supported` if lo > 0, `not supported` if hi < 0, `inconclusive` if it contains 0 or there are
  fewer than MIN_PAIRS pairs.
- loss ranking (7): `supported` if the perfect prediction has rank 1 (lowest loss) at every
  (alpha, gamma) in loss_ranking, `not supported` otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reports.contributions import component_contributions
from reports.data import REFERENCE, hint, normalise_runs, with_columns
from reports.stats import mean_ci

__all__ = [
    "CLAIMS_COLUMNS",
    "INCONCLUSIVE",
    "MIN_PAIRS",
    "NOT_SUPPORTED",
    "NO_DATA",
    "SUPPORTED",
    "claims_table",
]

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NO_DATA = (
    "supported", "not supported", "inconclusive", "no data",
)  # fmt: skip
MIN_PAIRS = 3  # fewer pairs than this cannot support or refute a component claim
BLOG_ALPHA, BLOG_GAMMA = 0.0095, 6.5  # the blog's table
CLAIMS_COLUMNS = [
    "id", "claim", "measured", "n", "estimate", "ci95_low", "ci95_high", "verdict", "rule",
]  # fmt: skip

_ACCURACY_RULE = "supported if the 95% t-interval's upper end ≥ {t:.2f}; needs ≥ 2 ok runs"
_PAIRED_RULE = (
    "bootstrap 95% CI of full − {v} (pooled over datasets and depths): "
    "supported if > 0, not supported if < 0, else inconclusive; needs ≥ {m} pairs"
)
# (id, claim, ablation variant) for the component claims; the reference is compared with each
_PAIRED_CLAIMS = [
    ("3a", "Langevin noise improves exploration (vs the same optimizer without noise)", "no_noise"),
    ("3b", "Langevin dynamics improves exploration (vs plain SGD)", "sgd"),
    ("4", "the quartic term adds useful stable states", "no_quartic"),
    ("5", "the spatial term adds useful coherence", "no_spatial"),
    ("6", "the dynamic (Allen–Cahn) β helps", "static_beta"),
]


def _row(
    id_: str,
    claim: str,
    measured: str,
    verdict: str,
    rule: str,
    n=0,
    est=np.nan,
    low=np.nan,
    high=np.nan,
) -> dict[str, Any]:
    return dict(
        zip(CLAIMS_COLUMNS, (id_, claim, measured, n, est, low, high, verdict, rule), strict=True)
    )


def _accuracy_claim(
    r: pd.DataFrame, id_: str, depth: int, target: float, reference: str, meta: dict[str, Any]
) -> dict[str, Any]:
    claim = f"MNIST {target:.0%} with {'one layer' if depth == 1 else 'two layers'}"
    rule = _ACCURACY_RULE.format(t=target)
    where = f"dataset='mnist', variant={reference!r}, depth={depth}, params_source='preset:blog'"
    sel = r[
        (r["dataset"] == "mnist")
        & (r["variant"] == reference)
        & (r["depth"] == depth)
        & (r["params_source"] == "preset:blog")
    ]
    if sel.empty:
        return _row(id_, claim, f"no runs with {where} — {hint(meta, 'blog')}", NO_DATA, rule)
    epochs = int(sel["epochs"].max())
    sel = sel[sel["epochs"] == epochs]
    ok = sel[(sel["status"] == "ok") & sel["test_accuracy"].notna()]
    ci = mean_ci(ok["test_accuracy"])
    counts = (
        f"{len(sel)} runs ({epochs} epochs): {len(ok)} ok, "
        f"{int((sel['status'] == 'diverged').sum())} diverged, "
        f"{int((sel['status'] == 'failed').sum())} failed"
    )
    if ci.n < 2:
        shown = f"; mean {ci.mean:.4f}" if ci.n == 1 else ""
        return _row(id_, claim, f"{counts}{shown}", INCONCLUSIVE, rule, ci.n, ci.mean)
    measured = f"mean test accuracy {ci.mean:.4f}, 95% CI [{ci.low:.4f}, {ci.high:.4f}]; {counts}"
    verdict = SUPPORTED if ci.high >= target else NOT_SUPPORTED
    return _row(id_, claim, measured, verdict, rule, ci.n, ci.mean, ci.low, ci.high)


def _paired_claim(
    pooled: pd.DataFrame, id_: str, claim: str, variant: str, reference: str, meta: dict[str, Any]
) -> dict[str, Any]:
    rule = _PAIRED_RULE.format(v=variant, m=MIN_PAIRS)
    rows = pooled[pooled["variant"] == variant]
    if rows.empty:
        missing = (
            f"no runs of {reference!r} and {variant!r} on the same (dataset, depth, seed, "
            f"setting) — {hint(meta, 'runs')}"
        )
        return _row(id_, claim, missing, NO_DATA, rule)
    best = rows.sort_values(["n_pairs", "n_datasets"], ascending=False).iloc[0]
    n, lost = int(best["n_pairs"]), int(best["n_lost"])
    where = (
        f"{n} pairs over {int(best['n_datasets'])} datasets, setting {best['source']}/"
        f"{int(best['epochs'])} epochs; {lost} pairs lost to failed/diverged runs"
    )
    if n < MIN_PAIRS:
        return _row(id_, claim, f"only {where}", INCONCLUSIVE, rule, n, best["mean_diff"])
    low, high, est = float(best["ci95_low"]), float(best["ci95_high"]), float(best["mean_diff"])
    measured = (
        f"{reference} − {variant} = {est:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], "
        f"{best['test']} p={best['p_value']:.3g} (Holm {best['p_holm']:.3g}); {where}"
    )
    verdict = SUPPORTED if low > 0 else NOT_SUPPORTED if high < 0 else INCONCLUSIVE
    return _row(id_, claim, measured, verdict, rule, n, est, low, high)


def _is_true(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "1.0", "yes")


def _ranking_claim(loss_ranking: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    claim = "the blog's loss ranks a perfect prediction best (implicit in using it as a loss)"
    rule = "supported if the perfect prediction has rank 1 at every (alpha, gamma) measured"
    lr = with_columns(loss_ranking, "loss_ranking")
    if lr["is_perfect"].notna().any():
        flag = lr["is_perfect"].map(_is_true)
    else:
        flag = lr["prediction"] == "perfect"
    if lr["rank"].isna().any():  # rank by loss within each (alpha, gamma), 1 = lowest
        lr["rank"] = lr.groupby(["alpha", "gamma"], dropna=False)["loss"].rank(method="min")
    perfect = lr[flag & lr["rank"].notna()]
    if perfect.empty:
        missing = f"no ranked perfect prediction in loss_ranking — {hint(meta, 'loss_ranking')}"
        return _row("7", claim, missing, NO_DATA, rule)
    sizes = lr.groupby(["alpha", "gamma"], dropna=False).size()
    parts, ranks = [], []
    for _, p in perfect.sort_values(["alpha", "gamma"]).iterrows():
        rank = int(p["rank"])
        ranks.append(rank)
        blog = (
            " (blog values)"
            if np.isclose(p["alpha"], BLOG_ALPHA) and np.isclose(p["gamma"], BLOG_GAMMA)
            else ""
        )
        size = sizes.get((p["alpha"], p["gamma"]), "?")
        parts.append(f"rank {rank} of {size} at alpha={p['alpha']:g}, gamma={p['gamma']:g}{blog}")
    shown = "; ".join(parts[:6]) + ("; …" if len(parts) > 6 else "")
    verdict = SUPPORTED if all(k == 1 for k in ranks) else NOT_SUPPORTED
    measured = f"perfect prediction: {shown}"
    return _row("7", claim, measured, verdict, rule, len(ranks), float(max(ranks)))


def claims_table(
    runs: pd.DataFrame,
    loss_ranking: pd.DataFrame | None = None,
    *,
    reference: str = REFERENCE,
    meta: dict[str, Any] | None = None,
    pooled: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per claim: id, claim, measured (text), n, estimate, ci95_low, ci95_high, verdict,
    rule. `pooled` may pass a precomputed component_contributions(runs, pooled=True)."""
    meta = meta or {}
    r = normalise_runs(runs)
    if pooled is None:
        pooled = component_contributions(r, reference=reference, pooled=True)
    rows = [
        _accuracy_claim(r, "1", 1, 0.92, reference, meta),
        _accuracy_claim(r, "2", 2, 0.96, reference, meta),
        *(_paired_claim(pooled, i, c, v, reference, meta) for i, c, v in _PAIRED_CLAIMS),
        _ranking_claim(loss_ranking if loss_ranking is not None else pd.DataFrame(), meta),
    ]
    out = pd.DataFrame(rows, columns=CLAIMS_COLUMNS)
    return out.astype({"n": "Int64", "estimate": float, "ci95_low": float, "ci95_high": float})
