"""Claim measures read from what a run leaves besides its accuracy (see reports.claims): the
decision-boundary meshes of the 2-D datasets, the recorded loss terms and the final β's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.claim_measures import ClaimInputs, Measurement, _no_data, protocol_mask
from reports.claim_paired import _pool, _power
from reports.data import FIXED, TWO_D_DATASETS, hint, with_columns

__all__ = ["BoundaryUse", "PhaseBoundaries", "SeedDisagreement", "SignedMean"]

_PP = 100.0


def _mesh_runs(inputs: ClaimInputs) -> pd.DataFrame:
    """Mesh points joined with their run's setting (only runs that finished ok)."""
    meshes = with_columns(inputs.meshes, "meshes")
    runs = inputs.runs[inputs.runs["survived"]]
    cols = ["run_id", "source", "epochs", "data_seed", "protocol"]
    return meshes.drop(columns=["data_seed"], errors="ignore").merge(runs[cols], on="run_id")


def _grid(points: pd.DataFrame) -> np.ndarray:
    """One run's predictions as a (len(y), len(x)) array."""
    return points.pivot_table(index="y", columns="x", values="pred", aggfunc="first").to_numpy()


@dataclass(frozen=True)
class SeedDisagreement:
    """How many distinct solutions: the fraction of mesh points where two seeds' predictions
    differ, averaged over seed pairs, reference minus `variant` per (dataset, depth, split)."""

    variant: str
    protocol: str | None = FIXED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol} protocol, 2-D datasets: per (dataset, depth, data split, setting), "
            "the mean over seed pairs of the share of decision-mesh points predicted "
            f"differently; {reference} − {self.variant} in pp per cell, t-interval over cells, "
            "Wilcoxon signed-rank test on the cells: supported (more distinct solutions with the "
            "term) if p_holm < 0.05 and the interval lies above 0, not supported if below, else "
            "inconclusive"
        )

    def _disagreement(self, points: pd.DataFrame) -> pd.Series:
        out = {}
        keys = ["variant", "dataset", "depth", "data_seed", "source", "epochs"]
        for key, g in points.groupby(keys):
            grids = [_grid(s).ravel() for _, s in g.groupby("seed")]
            if len(grids) < 2:
                continue
            pairs = list(itertools.combinations(grids, 2))
            out[key] = _PP * float(np.mean([np.mean(a != b) for a, b in pairs]))
        return pd.Series(out, dtype=float)

    def measure(self, inputs: ClaimInputs) -> Measurement:
        points = _mesh_runs(inputs)
        points = points[
            points["variant"].isin([inputs.reference, self.variant])
            & protocol_mask(points["source"], self.protocol)
        ]
        dis = self._disagreement(points)
        if dis.empty:
            return _no_data(
                f"no meshes of ≥ 2 seeds of {inputs.reference!r} and {self.variant!r} "
                f"({self.protocol} protocol) — {hint(inputs.meta, 'meshes')}"
            )
        frame = dis.rename("d").reset_index()
        frame.columns = ["variant", "dataset", "depth", "data_seed", "source", "epochs", "d"]
        wide = frame.pivot_table(
            index=["dataset", "depth", "data_seed", "source", "epochs"], columns="variant",
            values="d",
        ).dropna()  # fmt: skip
        if wide.empty or self.variant not in wide or inputs.reference not in wide:
            return _no_data(
                f"no cell with meshes of both {inputs.reference!r} and {self.variant!r} — "
                f"{hint(inputs.meta, 'meshes')}"
            )
        cells = (wide[inputs.reference] - wide[self.variant]).rename("diff").reset_index()
        pooled = _pool(cells, "diff", (-_PP, _PP))
        measured = (
            f"seed disagreement {inputs.reference} {wide[inputs.reference].mean():.1f}% vs "
            f"{self.variant} {wide[self.variant].mean():.1f}% of the mesh; difference "
            f"{pooled['mean']:+.1f} pp [{pooled['low']:+.1f}, {pooled['high']:+.1f}] over "
            f"{pooled['k']} cells; {pooled['test']} p={pooled['p']:.3g}"
        )
        return Measurement(
            measured, f"{self.protocol} protocol, 2-D datasets' meshes", pooled["k"],
            pooled["mean"], pooled["low"], pooled["high"], pooled["p"], "pp of mesh points",
            0.0, _power(pooled["k"], pooled["sd"], "pp"),
        )  # fmt: skip


@dataclass(frozen=True)
class SignedMean:
    """The sign of the loss's mean inside the absolute value at the last epoch (the recorded
    batch means of the three terms: quadratic − quartic + spatial)."""

    def rule(self, reference: str) -> str:
        return (
            f"deterministic, every {reference} run's last epoch: signed mean = quadratic − "
            "quartic + spatial (batch means of the terms). Under |·| a negative mean flips every "
            "term, so the spatial term is then maximised (outputs that differ across the batch "
            "are rewarded): not supported if the mean is negative in more than half of the runs, "
            "supported if positive in more than half, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        e = with_columns(inputs.epochs, "epochs")
        e = e[e["variant"] == inputs.reference].dropna(
            subset=["loss_quadratic", "loss_quartic", "loss_spatial"]
        )
        if e.empty:
            return _no_data(
                f"no loss terms of {inputs.reference!r} — {hint(inputs.meta, 'epochs')}"
            )
        last = e.sort_values("epoch").groupby("run_id").tail(1)
        signed = last["loss_quadratic"] - last["loss_quartic"] + last["loss_spatial"]
        neg = float((signed < 0).mean())
        verdict = "not supported" if neg > 0.5 else "supported" if neg < 0.5 else "inconclusive"
        measured = (
            f"signed mean at the last epoch: median {signed.median():+.3g} (range "
            f"{signed.min():+.3g} to {signed.max():+.3g}); negative in {100 * neg:.0f}% of "
            f"{len(signed)} runs; spatial term's batch mean {last['loss_spatial'].median():.3g}"
        )
        return Measurement(
            measured, "every run of the reference, last epoch", len(signed),
            float(signed.median()), float(signed.min()), float(signed.max()), unit="loss units",
            verdict=verdict,
        )  # fmt: skip


@dataclass(frozen=True)
class PhaseBoundaries:
    """Kinks in a field β at the last epoch: interfaces between neighbouring units in opposite
    phases (|β| > `phase` on both sides, opposite signs) and jumps |Δβ| > `jump`."""

    variant: str = "field_beta"
    phase: float = 0.5
    jump: float = 0.5

    def rule(self, reference: str) -> str:
        return (
            f"deterministic, every {self.variant} run, last epoch, each layer's β over its units: "
            f"an interface is a neighbouring pair with |β| > {self.phase:g} on both sides and "
            f"opposite signs; a jump is |Δβ| > {self.jump:g}. Supported if at least half of "
            "the runs have an interface, not supported if none has one, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        b = with_columns(inputs.betas, "betas")
        b = b[b["variant"] == self.variant].dropna(subset=["beta", "unit", "epoch"])
        if b.empty:
            return _no_data(
                f"no β records of {self.variant!r} — run `landau grid standard` (it includes "
                f"{self.variant})"
            )
        last = b[b["epoch"] == b.groupby("run_id")["epoch"].transform("max")]
        per_run = []
        for _, g in last.groupby("run_id"):
            n_int = n_jump = units = 0
            for _, layer in g.groupby("layer"):
                beta = layer.sort_values("unit")["beta"].to_numpy(float)
                a, c = beta[:-1], beta[1:]
                phases = (np.abs(a) > self.phase) & (np.abs(c) > self.phase)
                n_int += int(np.sum(phases & (np.sign(a) != np.sign(c))))
                n_jump += int(np.sum(np.abs(c - a) > self.jump))
                units += len(beta)
            per_run.append((n_int, n_jump, units))
        arr = np.array(per_run, dtype=float)
        with_int = float(np.mean(arr[:, 0] > 0))
        verdict = (
            "supported" if with_int >= 0.5 else "not supported" if with_int == 0 else "inconclusive"
        )
        share = float(np.mean(np.abs(last["beta"].to_numpy(float)) > self.phase))
        measured = (
            f"{len(arr)} runs: interfaces per run median {np.median(arr[:, 0]):g} (max "
            f"{arr[:, 0].max():g}), jumps median {np.median(arr[:, 1]):g}; runs with an "
            f"interface {100 * with_int:.0f}%; units in a phase (|β| > {self.phase:g}) "
            f"{100 * share:.0f}%"
        )
        return Measurement(
            measured, f"{self.variant}, last epoch", len(arr), float(np.median(arr[:, 0])),
            unit="interfaces per run", verdict=verdict,
        )  # fmt: skip


@dataclass(frozen=True)
class BoundaryUse:
    """Does the model use both inputs of the 2-D datasets? The share of prediction changes along
    x₀ among all changes between neighbouring mesh points (0: boundaries parallel to x₀, i.e.
    x₀ unused; 0.5: both inputs alike)."""

    anchor: str = "plain_mlp"
    unused: float = 0.05
    used: float = 0.2

    def rule(self, reference: str) -> str:
        return (
            f"deterministic, {reference} runs on the 2-D datasets' decision meshes: share of "
            "neighbouring-point prediction changes that lie along x₀, median per dataset; "
            f"supported if ≥ {self.used:g} on every 2-D dataset present (both inputs used), not "
            f"supported if < {self.unused:g} on any (x₀ unused), else inconclusive; "
            f"{self.anchor} shown for comparison"
        )

    @staticmethod
    def _share(points: pd.DataFrame) -> float:
        grid = _grid(points)
        along_x0 = np.sum(grid[:, 1:] != grid[:, :-1])
        along_x1 = np.sum(grid[1:, :] != grid[:-1, :])
        total = along_x0 + along_x1
        return float(along_x0 / total) if total else np.nan

    def measure(self, inputs: ClaimInputs) -> Measurement:
        points = _mesh_runs(inputs)
        points = points[points["dataset"].isin(TWO_D_DATASETS)]
        shares = {
            (v, ds, rid): self._share(g)
            for (v, ds, rid), g in points.groupby(["variant", "dataset", "run_id"])
            if v in (inputs.reference, self.anchor)
        }
        frame = pd.Series(shares, dtype=float).rename("share").reset_index()
        if frame.empty or not (frame["level_0"] == inputs.reference).any():
            return _no_data(f"no meshes of {inputs.reference!r} — {hint(inputs.meta, 'meshes')}")
        frame.columns = ["variant", "dataset", "run_id", "share"]
        med = frame.groupby(["variant", "dataset"])["share"].median()
        ours = med.loc[inputs.reference].dropna()
        verdict = (
            "not supported" if (ours < self.unused).any()
            else "supported" if (ours >= self.used).all() else "inconclusive"
        )  # fmt: skip
        parts = []
        for ds, v in ours.items():
            anchor = med.get((self.anchor, ds), np.nan)
            parts.append(f"{ds} {v:.2f} ({self.anchor} {anchor:.2f})")
        n = int((frame["variant"] == inputs.reference).sum())
        measured = f"median share of boundary changes along x₀: {'; '.join(parts)}"
        return Measurement(
            measured, "every run's decision mesh (2-D datasets)", n, float(ours.median()),
            float(ours.min()), float(ours.max()), unit="share along x₀", verdict=verdict,
        )  # fmt: skip
