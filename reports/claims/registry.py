"""The blog's claims, declared before the data: each with its rule, family, role and the
rationale for its protocol.

Families (Holm within each): the accuracy claims; the mechanism claims, each tested once under
the protocol that fits it (fixed: a one-component ablation at the blog's stated values, so only
the component differs; tuned: a comparison with another optimizer or model, each at its own
best); the equivalence claim; the stability rows. The other protocol of a mechanism claim is a
sensitivity row outside every family (one hypothesis, one row in a family). Rows judged by a
threshold on an interval or by a deterministic computation carry no p-value (family
"structure", no correction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reports.claims.accuracy import AccuracyBest, AccuracyTarget
from reports.claims.base import Measure, other_protocol
from reports.claims.equivalence import Equivalence
from reports.claims.paired import PairedEffect, PairedOutcome, SweepEffect
from reports.claims.stability import Stability
from reports.claims.structure import BoundaryUse, SeedDisagreement
from reports.claims.thresholds import LossRanking, PhaseBoundaries, SignedMean
from reports.data import FIXED, TUNED

__all__ = [
    "ACCURACY",
    "CLAIMS",
    "EQUIVALENCE",
    "FAMILIES",
    "MECHANISM",
    "PRIMARY",
    "SENSITIVITY",
    "STABILITY",
    "STRUCTURE",
    "Claim",
]

ACCURACY, MECHANISM, EQUIVALENCE, STABILITY, STRUCTURE = (
    "accuracy", "mechanism", "equivalence", "stability", "structure",
)  # fmt: skip
FAMILIES = (ACCURACY, MECHANISM, EQUIVALENCE, STABILITY, STRUCTURE)
PRIMARY, SENSITIVITY = "primary", "sensitivity"
_CORRECTED = (ACCURACY, MECHANISM, EQUIVALENCE, STABILITY)  # the families Holm runs over


@dataclass(frozen=True)
class Claim:
    """One row of the claims table: `id`, the claim in words, the measure that judges it, its
    family ("" for a sensitivity row), role, and why it is tested the way it is."""

    id: str
    claim: str
    measure: Measure
    family: str = MECHANISM
    role: str = PRIMARY
    rationale: str = ""

    def __post_init__(self) -> None:
        if self.role not in (PRIMARY, SENSITIVITY):
            raise ValueError(f"unknown role {self.role!r}; known: {PRIMARY}, {SENSITIVITY}")
        if self.role == SENSITIVITY and self.family:
            raise ValueError(f"a sensitivity row has no family, but got family={self.family!r}")
        if self.role == PRIMARY and self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; known: {', '.join(FAMILIES)}")

    @property
    def corrected(self) -> bool:
        return self.family in _CORRECTED


_FIXED_WHY = "one component removed or swapped: fixed protocol, so only the component differs"
_TUNED_WHY = "a comparison with another optimizer or model: tuned protocol, each at its own best"


def _tested_once(
    cid: str, text: str, make: Callable[[str], Measure], protocol: str, why: str,
    family: str = MECHANISM,
) -> tuple[Claim, Claim]:  # fmt: skip
    """The claim under its declared protocol, and the other protocol as a sensitivity row."""
    other = other_protocol(protocol)
    return (
        Claim(f"{cid}-{protocol}", text, make(protocol), family, PRIMARY, why),
        Claim(f"{cid}-{other}", text, make(other), "", SENSITIVITY,
              f"sensitivity: the {other} protocol, outside the family"),
    )  # fmt: skip


def _component(
    cid: str, text: str, variant: str, protocol: str, why: str, favours_variant: bool = False
) -> tuple[Claim, ...]:
    """An accuracy claim about a component, tested once, and its stability row."""
    rows = _tested_once(
        cid, text, lambda p: PairedEffect(variant, p, favours_variant=favours_variant),
        protocol, why,
    )  # fmt: skip
    stability = Claim(
        f"{cid}-stability", f"stability of the comparison in {cid}: {variant} fails more often",
        Stability(variant, protocol), STABILITY, PRIMARY,
        "diverged and collapsed runs are results: their rate, beside the accuracy row",
    )  # fmt: skip
    return (*rows, stability)


_ACC_WHY = "a blog's whole-percent accuracy is what a typical run reaches: the median run"

CLAIMS: tuple[Claim, ...] = (
    Claim("1a", "MNIST 92% with one layer, at the blog's setting (T = 0.008, 100 epochs)",
          AccuracyTarget("mnist", 1, 0.92), ACCURACY, PRIMARY, _ACC_WHY),
    Claim("1b", "MNIST 92% with one layer, at the best setting found (chosen on validation)",
          AccuracyBest("mnist", 1, 0.92), ACCURACY, PRIMARY, _ACC_WHY),
    Claim("2a", "MNIST 96% with two layers, at the blog's setting (T = 0.008, 100 epochs)",
          AccuracyTarget("mnist", 2, 0.96), ACCURACY, PRIMARY, _ACC_WHY),
    Claim("2b", "MNIST 96% with two layers, at the best setting found (chosen on validation)",
          AccuracyBest("mnist", 2, 0.96), ACCURACY, PRIMARY, _ACC_WHY),
    *_tested_once("3", "performance comparable to a standard fully connected network (±5 pp)",
                  lambda p: Equivalence("plain_mlp", 5.0, p), TUNED,
                  "a comparison with another model: each at its own tuned setting",
                  EQUIVALENCE),
    *_component("4a", "Langevin noise improves exploration (vs the same optimizer without "
                "noise, i.e. Langevin at T = 0)", "no_noise", FIXED, _FIXED_WHY),
    Claim("4c", "Langevin noise improves exploration (temperature sweep: T = 0.008 vs T = 0)",
          SweepEffect("temperature", 0.008, 0.0), "", SENSITIVITY,
          "the same hypothesis as 4a (no_noise is Langevin at T = 0) on the sweep's runs: "
          "a sensitivity row, not a second test"),
    *_component("4b", "Langevin dynamics improves exploration (vs plain SGD)", "sgd", TUNED,
                _TUNED_WHY),
    *_tested_once("5a", "Langevin escapes local minima / finds global optima: lower final "
                  "training loss than without noise",
                  lambda p: PairedOutcome("no_noise", "final_train_loss", p), FIXED, _FIXED_WHY),
    *_tested_once("5b", "Langevin escapes local minima / finds global optima: lower final "
                  "training loss than SGD",
                  lambda p: PairedOutcome("sgd", "final_train_loss", p), TUNED, _TUNED_WHY),
    *_tested_once("5c", "Langevin escapes sharp local minima: lower sharpness (top Hessian "
                  "eigenvalue) than without noise",
                  lambda p: PairedOutcome("no_noise", "sharpness", p), FIXED, _FIXED_WHY),
    *_tested_once("5d", "Langevin escapes sharp local minima: lower sharpness than SGD",
                  lambda p: PairedOutcome("sgd", "sharpness", p), TUNED, _TUNED_WHY),
    *_component("6a", "the quartic term adds useful stable states (accuracy)", "no_quartic",
                FIXED, _FIXED_WHY),
    *_tested_once("6b", "the quartic term allows multiple stable states (distinct solutions "
                  "across seeds)", lambda p: SeedDisagreement("no_quartic", p), FIXED,
                  _FIXED_WHY),
    *_component("7a", "the spatial term adds useful coherence (accuracy)", "no_spatial", FIXED,
                _FIXED_WHY),
    Claim("7b", "the spatial term promotes coherence of the outputs (what it does under the "
          "loss's absolute value)", SignedMean(), STRUCTURE, PRIMARY,
          "a threshold on a share of runs: judged on its interval, no p-value"),
    *_component("8", "the dynamic (Allen–Cahn) β helps", "static_beta", FIXED, _FIXED_WHY),
    *_component("9", "the hyperbolic modulation captures structure (vs plain bias-free linear "
                "layers, same loss and optimizer)", "linear_layers", FIXED, _FIXED_WHY),
    *_component("10", "the input-adaptive t_dynamic term helps", "no_tdynamic", FIXED,
                _FIXED_WHY),
    Claim("11", "Allen–Cahn propagates phase boundaries (kinks in a field β at the end)",
          PhaseBoundaries(), STRUCTURE, PRIMARY,
          "a threshold on a share of runs: judged on its interval, no p-value"),
    *_component("12", "Mish activation (the table's caption) does better than the code's "
                "rrelu", "mish", FIXED, _FIXED_WHY, favours_variant=True),
    Claim("13", "the model draws the decision boundaries of moons, circles, classification "
          "(uses both inputs)", BoundaryUse(), STRUCTURE, PRIMARY,
          "a threshold on each dataset's median run: judged on its interval, no p-value"),
    Claim("14", "the blog's loss ranks a perfect prediction best (implicit in using it as a "
          "loss)", LossRanking(), STRUCTURE, PRIMARY, "a deterministic computation"),
)  # fmt: skip
