"""The blog's claims beside what was measured, each with a verdict.

One module per kind of rule, each stating its estimand, procedure and family:
accuracy (a target the typical run reaches), paired (an effect of a component, datasets as
units, via units), equivalence (within a margin), stability (failure rates), structure and
thresholds (meshes, shares of runs, the loss ranking). registry declares the claims, their
families, protocols and rationales; table computes the table and its verdicts.
"""

from reports.claims.base import (
    DATASET_DEPENDENT,
    EQUIVALENT,
    INCONCLUSIVE,
    NO_DATA,
    NOT_EQUIVALENT,
    NOT_SUPPORTED,
    SUPPORTED,
    UNDETERMINED,
    VERDICTS,
    Measurement,
)
from reports.claims.registry import (
    ACCURACY,
    CLAIMS,
    EQUIVALENCE,
    FAMILIES,
    MECHANISM,
    PRIMARY,
    SENSITIVITY,
    STABILITY,
    STRUCTURE,
    Claim,
)
from reports.claims.table import CLAIMS_COLUMNS, claims_table, verdict

__all__ = [
    "ACCURACY",
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "DATASET_DEPENDENT",
    "EQUIVALENCE",
    "EQUIVALENT",
    "FAMILIES",
    "INCONCLUSIVE",
    "MECHANISM",
    "Measurement",
    "NOT_EQUIVALENT",
    "NOT_SUPPORTED",
    "NO_DATA",
    "PRIMARY",
    "SENSITIVITY",
    "STABILITY",
    "STRUCTURE",
    "SUPPORTED",
    "UNDETERMINED",
    "VERDICTS",
    "Claim",
    "claims_table",
    "verdict",
]
