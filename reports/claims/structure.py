"""Structure claims read from the decision meshes of the 2-D datasets.

- SeedDisagreement (6b, "multiple stable states"): estimand, the share of mesh points two seeds
  predict differently, reference − ablation; procedure and family as the paired effects
  (datasets as units, Hodges–Lehmann with the Wilcoxon-inverted interval; mechanism family).
- BoundaryUse (13, "draws the decision boundaries"): estimand, each dataset's median run's share
  of boundary changes along x₀; procedure, the exact order-statistic interval of that median
  over runs (reports.claims.accuracy.median_test), per dataset; a threshold rule on the
  intervals, so a data draw cannot flip it silently; no p-value, outside the Holm families.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.claims.accuracy import median_test
from reports.claims.base import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    ClaimInputs,
    Measurement,
    no_data,
    protocol_mask,
)
from reports.claims.paired import PROCEDURE, paired_measurement
from reports.claims.units import pool_datasets
from reports.data import FIXED, TWO_D_DATASETS, hint, with_columns

__all__ = ["BoundaryUse", "SeedDisagreement"]

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
    """How many distinct solutions: the share of mesh points where two seeds' predictions
    differ, averaged over seed pairs, reference minus `variant` per (dataset, depth, split)."""

    variant: str
    protocol: str | None = FIXED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol} protocol, 2-D datasets: per (dataset, depth, data split, setting), "
            "the mean over seed pairs of the share of decision-mesh points predicted "
            f"differently; {reference} − {self.variant} in pp; {PROCEDURE}: supported (more "
            "distinct solutions with the term) if p_holm < 0.05 and the interval lies above 0, "
            "not supported if below, else inconclusive"
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
            return no_data(
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
            return no_data(
                f"no cell with meshes of both {inputs.reference!r} and {self.variant!r} — "
                f"{hint(inputs.meta, 'meshes')}"
            )
        cells = (wide[inputs.reference] - wide[self.variant]).rename("diff").reset_index()
        pooled = pool_datasets(cells.assign(seed=0), "diff", ["depth", "source", "epochs"])
        extra = (
            f"; seed disagreement {inputs.reference} {wide[inputs.reference].mean():.1f}% vs "
            f"{self.variant} {wide[self.variant].mean():.1f}% of the mesh"
        )
        return paired_measurement(
            pooled, f"{inputs.reference} − {self.variant} disagreement", "pp of mesh points",
            f"{self.protocol} protocol, 2-D datasets' meshes", extra,
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
            f"{reference} runs on the 2-D datasets' decision meshes: share of neighbouring-point "
            "prediction changes that lie along x₀; per dataset the median run with its exact "
            f"order-statistic 95% interval over runs; supported if every 2-D dataset's interval "
            f"lies at or above {self.used:g} (both inputs used), not supported if any lies "
            f"below {self.unused:g} (x₀ unused), else inconclusive; {self.anchor} for comparison"
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
            return no_data(f"no meshes of {inputs.reference!r} — {hint(inputs.meta, 'meshes')}")
        frame.columns = ["variant", "dataset", "run_id", "share"]
        ours = frame[frame["variant"] == inputs.reference].dropna(subset=["share"])
        anchor = frame[frame["variant"] == self.anchor].groupby("dataset")["share"].median()
        tests = {
            ds: median_test(g["share"], self.used, bounds=(0.0, 1.0))
            for ds, g in ours.groupby("dataset", sort=True)
        }
        lows = np.array([t.low for t in tests.values()])
        highs = np.array([t.high for t in tests.values()])
        verdict = (
            NOT_SUPPORTED if (highs < self.unused).any()
            else SUPPORTED if (lows >= self.used).all() else INCONCLUSIVE
        )  # fmt: skip
        parts = [
            f"{ds} {t.median:.2f} [{t.low:.2f}, {t.high:.2f}] over {t.n} runs "
            f"({self.anchor} {anchor.get(ds, np.nan):.2f})"
            for ds, t in tests.items()
        ]
        measured = f"median run's share of boundary changes along x₀: {'; '.join(parts)}"
        medians = np.array([t.median for t in tests.values()])
        return Measurement(
            measured, "every run's decision mesh (2-D datasets)", len(ours),
            float(np.median(medians)), float(lows.min()), float(highs.max()),
            unit="share along x₀", verdict=verdict,
            units=f"{len(ours)} runs, {len(tests)} datasets",
            reading="median share along x₀: " + "; ".join(parts),
        )  # fmt: skip
