"""Friedman test with the Nemenyi post-hoc test across datasets (autorank).

Variants are the populations, datasets the blocks, and the measure is mean test accuracy per
(variant, dataset) in the primary analysis (failed and diverged runs at chance accuracy, so a
variant that fails is ranked low, not dropped). One analysis per depth, on the setting (source,
epochs) with the most runs. The test needs complete blocks: a dataset lacking some variant's runs
altogether is dropped, and the result says which and why (`dropped`). It runs only when at least
`min_datasets` datasets remain; otherwise the result carries the reason it was skipped.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reports.data import normalise_runs, variant_order
from reports.render.document import format_p

__all__ = ["MIN_DATASETS", "Ranking", "friedman_nemenyi"]

MIN_DATASETS = 5  # autorank's own minimum sample size for its tests


@dataclass(frozen=True)
class Ranking:
    """The outcome for one depth: either `result` (an autorank RankResult) and `table`, or a
    `reason` it was skipped. `matrix` is datasets × variants of mean test accuracy (percent)."""

    depth: int
    setting: str
    matrix: pd.DataFrame
    table: pd.DataFrame | None = None
    result: Any = None
    reason: str | None = None
    dropped: str = ""  # datasets left out of the test (incomplete blocks), with the reason

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def summary(self) -> str:
        if not self.ok:
            return f"depth {self.depth}: skipped — {self.reason}"
        r = self.result
        verdict = "significant" if r.pvalue < r.alpha else "not significant"
        dropped = f" Dropped: {self.dropped}." if self.dropped else " No dataset dropped."
        return (
            f"depth {self.depth} ({self.setting}): {r.omnibus} p={format_p(r.pvalue)} "
            f"({verdict} at α={r.alpha}), {r.posthoc} critical difference {r.cd:.3g} over "
            f"{len(self.matrix)} datasets × {self.matrix.shape[1]} variants.{dropped}"
        )


def _matrix(ok: pd.DataFrame) -> pd.DataFrame:
    m = ok.pivot_table(index="dataset", columns="variant", values="accuracy", aggfunc="mean")
    m = 100 * m  # percent, the report's unit for accuracy
    return m.reindex(columns=variant_order(m.columns)).rename_axis(index=None, columns=None)


def _one_depth(ok: pd.DataFrame, depth: int, min_datasets: int, alpha: float) -> Ranking:
    settings = ok.groupby(["source", "epochs"]).size().reset_index(name="n")
    best = settings.sort_values(["n", "source", "epochs"], ascending=[False, True, True]).iloc[0]
    source, epochs = best["source"], best["epochs"]
    setting = f"{source}/{epochs} epochs"
    full = _matrix(ok[(ok["source"] == source) & (ok["epochs"] == epochs)])
    if full.shape[1] < 2:
        return Ranking(depth, setting, full, reason="fewer than 2 variants have runs")
    complete = full.dropna()
    gaps = {c: sorted(full.index[full[c].isna()]) for c in full.columns if full[c].isna().any()}
    missing = "; ".join(f"{v} lacks {', '.join(d)}" for v, d in gaps.items()) or "none"
    lost = sorted(set(full.index) - set(complete.index))
    dropped = (
        f"{', '.join(lost)} (no runs of some variant, so no complete block: {missing})"
        if lost
        else ""
    )
    if len(complete) < min_datasets:
        reason = (
            f"only {len(complete)} of {len(full)} datasets have runs of all {full.shape[1]} "
            f"variants ({setting}); at least {min_datasets} are needed. Missing: {missing}"
        )
        return Ranking(depth, setting, full, reason=reason, dropped=dropped)
    from autorank import autorank  # slow import (~3 s): only when a test will run

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        result = autorank(complete, alpha=alpha, verbose=False, force_mode="nonparametric")
    table = result.rankdf[["meanrank", "median", "mad", "ci_lower", "ci_upper"]].copy()
    table = table.rename_axis("variant").reset_index()
    for col in ["median", "mad", "ci_lower", "ci_upper"]:
        table[col] = pd.to_numeric(table[col], errors="coerce")
    return Ranking(depth, setting, complete, table=table, result=result, dropped=dropped)


def friedman_nemenyi(
    runs: pd.DataFrame, min_datasets: int = MIN_DATASETS, alpha: float = 0.05
) -> list[Ranking]:
    """One Ranking per depth present among the runs (empty list when there are none)."""
    if min_datasets < 2:
        raise ValueError(f"`min_datasets >= 2` must hold, but got min_datasets={min_datasets}")
    r = normalise_runs(runs)
    ok = r[r["accuracy"].notna() & r["depth"].notna()]
    return [
        _one_depth(ok[ok["depth"] == d], int(d), min_datasets, alpha)
        for d in sorted(ok["depth"].unique())
    ]
