"""What every claim rule shares: the inputs, the measurement a rule returns, the verdict names,
and the selections by protocol and setting.

A rule (a *measure*) states its estimand and procedure in `rule()` and returns a Measurement:
an estimate with a 95% interval and a p-value from one procedure, the number of independent
units it rests on and the smallest p-value that number allows, and a one-line reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reports.contributions import paired_runs
from reports.data import FIXED, TUNED

__all__ = [
    "ALPHA",
    "DATASET_DEPENDENT",
    "EQUIVALENT",
    "INCONCLUSIVE",
    "NOT_EQUIVALENT",
    "NOT_SUPPORTED",
    "NO_DATA",
    "SUPPORTED",
    "UNDETERMINED",
    "VERDICTS",
    "ClaimInputs",
    "Measure",
    "Measurement",
    "no_data",
    "other_protocol",
    "protocol_mask",
    "reference_cell",
    "setting_text",
]

ALPHA = 0.05
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NO_DATA = (
    "supported", "not supported", "inconclusive", "no data",
)  # fmt: skip
EQUIVALENT, NOT_EQUIVALENT, UNDETERMINED = "equivalent", "not equivalent", "undetermined"
DATASET_DEPENDENT = "dataset-dependent"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NO_DATA, EQUIVALENT, NOT_EQUIVALENT,
            UNDETERMINED, DATASET_DEPENDENT)  # fmt: skip
_MAX_HP = 6  # hyperparameters named in a setting


@dataclass(frozen=True)
class ClaimInputs:
    runs: pd.DataFrame  # normalised (reports.data.normalise_runs)
    loss_ranking: pd.DataFrame
    reference: str
    meta: dict[str, Any]
    epochs: pd.DataFrame = field(default_factory=pd.DataFrame)
    betas: pd.DataFrame = field(default_factory=pd.DataFrame)
    meshes: pd.DataFrame = field(default_factory=pd.DataFrame)
    _pairs: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def pairs(self, variant: str) -> pd.DataFrame:
        """reports.contributions.paired_runs of the reference and `variant`, computed once."""
        if variant not in self._pairs:
            self._pairs[variant] = paired_runs(self.runs, variant, self.reference, normalised=True)
        return self._pairs[variant]


@dataclass(frozen=True)
class Measurement:
    """What a rule measured. `verdict` is set for `no data` and for rules judged without a
    p-value; otherwise the table reads the verdict from the (Holm-adjusted) p-value and the
    interval: `reference_value` is what the interval must exclude, `band` (equivalence) the
    margin it must lie inside, `dataset_dependent` that the datasets disagree significantly."""

    measured: str
    setting: str = ""
    n: int = 0
    estimate: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    p_value: float = np.nan
    unit: str = ""
    reference_value: float = 0.0
    power: str = ""  # what the data could have detected, shown when undecided
    verdict: str | None = None
    band: float | None = None
    units: str = ""  # "10 runs", "6 datasets"
    reading: str = ""  # one plain-language line
    min_p: float = np.nan  # the smallest p-value the units allow
    dataset_dependent: bool = False


class Measure(Protocol):
    def rule(self, reference: str) -> str: ...

    def measure(self, inputs: ClaimInputs) -> Measurement: ...


def no_data(text: str) -> Measurement:
    return Measurement(text, verdict=NO_DATA, reading=text.split(" — ")[0])


def other_protocol(protocol: str) -> str:
    if protocol not in (FIXED, TUNED):
        raise ValueError(f"unknown protocol {protocol!r}; known: {FIXED}, {TUNED}")
    return TUNED if protocol == FIXED else FIXED


def reference_cell(inputs: ClaimInputs, dataset: str, depth: int) -> pd.DataFrame:
    """The reference variant's runs on ``dataset`` at ``depth``."""
    r = inputs.runs
    return r[(r["dataset"] == dataset) & (r["variant"] == inputs.reference) & (r["depth"] == depth)]


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
