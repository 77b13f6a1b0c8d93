"""The measures that judge a claim (see reports.claims): each states its rule and measures an
estimate, a 95% interval, a p-value and the smallest detectable effect on the report's data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reports.contributions import PRIMARY, SURVIVORS, _pooled_row
from reports.data import FIXED, STATED, TUNED, hint, with_columns
from reports.intervals import bounded_mean_ci, bounded_mean_pvalue
from reports.stats import detectable_effect, min_sign_flip_p

__all__ = [
    "ALPHA",
    "AccuracyTarget",
    "ClaimInputs",
    "LossRanking",
    "Measure",
    "Measurement",
    "PairedEffect",
    "accuracy_measurement",
    "pooled_by_source",
    "protocol_mask",
    "reference_cell",
    "setting_text",
]

ALPHA = 0.05
BLOG_ALPHA, BLOG_GAMMA = STATED["alpha"], STATED["gamma"]  # the blog's table
_MAX_HP = 6  # hyperparameters named in a setting


def reference_cell(inputs: ClaimInputs, dataset: str, depth: int) -> pd.DataFrame:
    """The reference variant's runs on ``dataset`` at ``depth``."""
    r = inputs.runs
    return r[(r["dataset"] == dataset) & (r["variant"] == inputs.reference) & (r["depth"] == depth)]


@dataclass(frozen=True)
class ClaimInputs:
    runs: pd.DataFrame  # normalised
    pooled: pd.DataFrame  # pooled_contributions
    loss_ranking: pd.DataFrame
    reference: str
    meta: dict[str, Any]
    epochs: pd.DataFrame = field(default_factory=pd.DataFrame)
    betas: pd.DataFrame = field(default_factory=pd.DataFrame)
    meshes: pd.DataFrame = field(default_factory=pd.DataFrame)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # cell_contributions, both analyses


@dataclass(frozen=True)
class Measurement:
    measured: str
    setting: str = ""
    n: int = 0
    estimate: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    p_value: float = np.nan
    unit: str = ""
    reference_value: float = 0.0  # what the interval must exclude
    power: str = ""  # smallest detectable effect, shown when inconclusive
    verdict: str | None = None  # set for `no data` and deterministic measurements
    band: float | None = None  # equivalence: supported if the interval lies inside ±band


class Measure(Protocol):
    def rule(self, reference: str) -> str: ...

    def measure(self, inputs: ClaimInputs) -> Measurement: ...


def setting_text(runs: pd.DataFrame) -> str:
    """`source, E epochs` of the runs, then the hp_* values they share and the names of those
    that vary between them (tuned per cell)."""
    settings = sorted(
        {f"{s}, {e} epochs" for s, e in zip(runs["source"], runs["epochs"], strict=True)}
    )
    hps = sorted(c for c in runs.columns if str(c).startswith("hp_") and runs[c].notna().any())
    fixed, varied = [], []
    for c in hps:
        values = runs[c].dropna().astype(str).unique()
        (fixed if len(values) == 1 else varied).append((c.removeprefix("hp_"), values[0]))
    parts = ["; ".join(settings)]
    if fixed:
        shown = ", ".join(f"{k}={v}" for k, v in fixed[:_MAX_HP])
        parts.append(shown + (f" (+{len(fixed) - _MAX_HP} more)" if len(fixed) > _MAX_HP else ""))
    if varied:
        parts.append("varying by cell: " + ", ".join(k for k, _ in varied))
    return "; ".join(parts)


def protocol_mask(source: pd.Series, protocol: str | None) -> pd.Series:
    """Settings (`source` values) of a protocol: fixed = preset/defaults at the stated values
    (no sweep suffix), tuned = studies; None = every setting."""
    source = source.astype(str)
    if protocol is None:
        return pd.Series(True, index=source.index)
    if protocol == FIXED:
        return source.str.match(r"^(preset:[^|]*|defaults)$").fillna(False).astype(bool)
    if protocol == TUNED:
        return (source == "study").fillna(False).astype(bool)
    raise ValueError(f"unknown protocol {protocol!r}; known: {FIXED}, {TUNED}")


def pooled_by_source(
    cells: pd.DataFrame, variant: str, protocol: str | None, analysis: str
) -> dict[str, tuple[dict, pd.DataFrame]]:
    """`variant`'s cells (reports.contributions.cell_contributions) pooled per setting source
    of `protocol`: each (dataset, depth) cell at its largest epochs, so a grid with per-dataset
    epochs (MNIST at fewer) pools as one setting. source -> (pooled row, the cells used)."""
    if cells.empty:
        return {}
    c = cells[(cells["variant"] == variant) & (cells["analysis"] == analysis)]
    c = c[protocol_mask(c["source"], protocol)]
    out = {}
    for source, g in c.groupby("source", sort=True):
        g = g.sort_values("epochs", kind="mergesort").groupby(["dataset", "depth"]).tail(1)
        out[str(source)] = (_pooled_row(g), g)
    return out


def _no_data(text: str) -> Measurement:
    return Measurement(text, verdict="no data")


@dataclass(frozen=True)
class AccuracyTarget:
    """Mean test accuracy of the reference on `dataset` at `depth` in runs of `source` (the
    largest `epochs` among them) reaches `target`."""

    dataset: str
    depth: int
    target: float
    source: str = "preset:blog"

    def rule(self, reference: str) -> str:
        return (
            f"{reference} on {self.dataset}, depth {self.depth}, {self.source} runs (failures at "
            f"chance): Anderson's distribution-free 95% interval of mean accuracy and its "
            f"p-value against {100 * self.target:g}%; supported if p_holm < 0.05 and the "
            f"interval lies above {100 * self.target:g}%, not supported if below, else "
            "inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        cell = reference_cell(inputs, self.dataset, self.depth)
        sel = cell[cell["params_source"] == self.source]
        note = ""
        if sel.empty and self.source == "preset:blog":
            # the stated values at fewer epochs than the blog's 100 (fixed protocol, unswept)
            sel = cell[protocol_mask(cell["source"], FIXED)]
            if not sel.empty:
                note = f"the blog's values at {int(sel['epochs'].max())} epochs, not 100; "
        if sel.empty:
            where = f"dataset={self.dataset!r}, variant={inputs.reference!r}, depth={self.depth}"
            return _no_data(
                f"no runs with {where}, params_source={self.source!r} — {hint(inputs.meta, 'blog')}"
            )
        sel = sel[sel["epochs"] == sel["epochs"].max()]
        m = accuracy_measurement(sel, self.target)
        return dataclasses.replace(m, setting=note + m.setting)


def accuracy_measurement(sel: pd.DataFrame, target: float, chosen: str = "") -> Measurement:
    """Anderson's interval of the mean test accuracy of `sel` (failures at chance) and its
    p-value against `target`; `chosen` says how the setting was chosen."""
    acc = sel["accuracy"].dropna()
    ci = bounded_mean_ci(acc)
    p = bounded_mean_pvalue(acc, target) if ci.n >= 1 else np.nan
    counts = (
        f"{len(sel)} runs: {int(sel['survived'].sum())} ok "
        f"({int(sel['collapsed'].sum())} collapsed), "
        f"{int((sel['status'] == 'diverged').sum())} diverged, "
        f"{int((sel['status'] == 'failed').sum())} failed (counted at chance)"
    )
    shown = ", ".join(f"{100 * a:.1f}" for a in acc)
    measured = (
        f"{chosen}mean {100 * ci.mean:.1f}% (runs: {shown}), 95% interval "
        f"[{100 * ci.low:.1f}, {100 * ci.high:.1f}]%; {counts}"
    )
    mde = detectable_effect(ci.n, ci.std)
    power = (
        f"a t-test on {ci.n} runs with this spread detects ≈{100 * mde:.1f} pp from the "
        "target (80% power, α = 0.05); the distribution-free interval needs more runs"
        if np.isfinite(mde)
        else f"{ci.n} run(s) cannot give an interval that excludes anything"
    )
    return Measurement(
        measured, setting_text(sel), ci.n, 100 * ci.mean, 100 * ci.low, 100 * ci.high, p,
        "% accuracy", 100 * target, power,
    )  # fmt: skip


@dataclass(frozen=True)
class PairedEffect:
    """Reference − `variant` in chance-normalised test accuracy, pooled over (dataset, depth)
    cells (reports.contributions), on the setting with the most cells: the component the
    variant removes or replaces helps when the effect is positive."""

    variant: str
    protocol: str | None = None  # "fixed" (preset/defaults, unswept) or "tuned" (studies)
    favours_variant: bool = False  # the claim is that the variant does better

    def rule(self, reference: str) -> str:
        a, b = (self.variant, reference) if self.favours_variant else (reference, self.variant)
        where = {
            FIXED: "fixed protocol (preset/defaults at the blog's stated values), ",
            TUNED: "tuned protocol (each variant's own study), ",
        }.get(self.protocol, "")
        return (
            f"{where}{a} − {b}, paired by (seed, data split), failures at chance; "
            "mean over (dataset, depth) cells of the chance-normalised difference (pp), "
            "t-interval over cells, Wilcoxon signed-rank test on the cell means: supported if "
            "p_holm < 0.05 and the interval lies above 0, not supported if below 0, else "
            "inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        by_source = pooled_by_source(inputs.cells, self.variant, self.protocol, PRIMARY)
        if not by_source:
            which = f" under the {self.protocol} protocol" if self.protocol else ""
            how = "`landau run standard`" if self.protocol == TUNED else hint(inputs.meta, "runs")
            return _no_data(
                f"no runs of {inputs.reference!r} and {self.variant!r} on the same (dataset, "
                f"depth, seed, data split, setting){which} — {how}"
            )
        source = min(by_source, key=lambda s: (-by_source[s][0]["n_cells"], s))
        best, used = by_source[source]
        r = inputs.runs
        keys = set(zip(used["dataset"], used["depth"], used["epochs"], strict=True))
        in_cells = [
            k in keys for k in zip(r["dataset"], r["depth"], r["epochs"], strict=True)
        ]  # fmt: skip
        sel = r[
            r["variant"].isin([inputs.reference, self.variant])
            & (r["source"] == source)
            & pd.Series(in_cells, index=r.index, dtype=bool)
        ]
        survivors = pooled_by_source(inputs.cells, self.variant, self.protocol, SURVIVORS)
        sens = pd.DataFrame([survivors[source][0]]) if source in survivors else pd.DataFrame()
        k = int(best["n_cells"])
        sign = -1.0 if self.favours_variant else 1.0
        est, lo, hi = (sign * best[c] for c in ("estimate_pp", "ci95_low", "ci95_high"))
        lo, hi = min(lo, hi), max(lo, hi)
        a, b = (self.variant, inputs.reference) if self.favours_variant else (
            inputs.reference, self.variant)  # fmt: skip
        measured = (
            f"{a} − {b} = {est:+.1f} pp "
            f"[{lo:+.1f}, {hi:+.1f}] over {k} cells "
            f"({int(best['n_datasets'])} datasets, {int(best['n_pairs'])} pairs, "
            f"{int(best['n_failed_pairs'])} with a failed/diverged run counted at chance); "
            f"{best['test']} p={best['p_value']:.3g}"
        )
        if not sens.empty:
            s = sens.iloc[0]
            measured += (
                f"; survivors only: {s['estimate_pp']:+.1f} pp "
                f"[{s['ci95_low']:+.1f}, {s['ci95_high']:+.1f}], p={s['p_value']:.3g}"
            )
        mde = detectable_effect(k, float(best["sd_cells"]))
        power = f"smallest effect detectable over {k} cells ≈{mde:.1f} pp (80% power, α = 0.05)"
        if min_sign_flip_p(k) >= ALPHA:  # Wilcoxon's exact minimum p over k cells is 2/2^k
            power = f"{k} cells cannot reach p < 0.05 (the exact minimum is {2 / 2**k:.3g})"
        elif not np.isfinite(mde) or mde == 0:
            power = f"{k} cell(s) with no spread between them: no detectable effect to size"
        return Measurement(
            measured, f"{self.protocol or 'any'} protocol: {setting_text(sel)}", k, float(est),
            float(lo), float(hi), float(best["p_value"]), "pp (chance-normalised)", 0.0, power,
        )  # fmt: skip


def _is_true(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "1.0", "yes")


@dataclass(frozen=True)
class LossRanking:
    """The perfect prediction has the lowest loss (rank 1) at every (alpha, gamma) measured: a
    deterministic computation, so no test."""

    def rule(self, reference: str) -> str:
        return (
            "deterministic: supported if the perfect prediction has rank 1 at every (alpha, "
            "gamma) measured, not supported otherwise"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        lr = with_columns(inputs.loss_ranking, "loss_ranking")
        if lr["is_perfect"].notna().any():
            flag = lr["is_perfect"].map(_is_true)
        else:
            flag = lr["prediction"] == "perfect"
        if lr["rank"].isna().any():  # rank by loss within each (alpha, gamma), 1 = lowest
            lr["rank"] = lr.groupby(["alpha", "gamma"], dropna=False)["loss"].rank(method="min")
        perfect = lr[flag & lr["rank"].notna()]
        if perfect.empty:
            return _no_data(
                "no ranked perfect prediction in loss_ranking — "
                f"{hint(inputs.meta, 'loss_ranking')}"
            )
        sizes = lr.groupby(["alpha", "gamma"], dropna=False).size()
        parts, ranks = [], []
        for _, p in perfect.sort_values(["alpha", "gamma"]).iterrows():
            rank = int(p["rank"])
            ranks.append(rank)
            blog = np.isclose(p["alpha"], BLOG_ALPHA) and np.isclose(p["gamma"], BLOG_GAMMA)
            size = sizes.get((p["alpha"], p["gamma"]), "?")
            parts.append(
                f"rank {rank} of {size} at alpha={p['alpha']:g}, gamma={p['gamma']:g}"
                + (" (blog values)" if blog else "")
            )
        shown = "; ".join(parts[:6]) + ("; …" if len(parts) > 6 else "")
        verdict = "supported" if all(k == 1 for k in ranks) else "not supported"
        settings = sorted(
            {f"alpha={a:g}, gamma={g:g}" for a, g in zip(lr["alpha"], lr["gamma"], strict=True)}
        )
        return Measurement(
            f"perfect prediction: {shown}", "; ".join(settings[:4]), len(ranks), verdict=verdict
        )
