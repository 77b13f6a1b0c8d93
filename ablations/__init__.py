"""The variants of the Landau model, declared as data (see ``variants.py``), and the grids."""

from ablations.presets import BLOG, PRESETS, get_preset
from ablations.spec import FAMILIES, Param, Variant, build_registry
from ablations.variants import (
    LANDAU_DEFAULTS,
    LANDAU_OPTIONS,
    LANDAU_SETTINGS,
    VARIANTS,
    landau_variant,
    space,
)

__all__ = [
    "BLOG",
    "FAMILIES",
    "LANDAU_DEFAULTS",
    "LANDAU_OPTIONS",
    "LANDAU_SETTINGS",
    "PRESETS",
    "VARIANTS",
    "Param",
    "Variant",
    "build_registry",
    "get_preset",
    "landau_variant",
    "space",
]
