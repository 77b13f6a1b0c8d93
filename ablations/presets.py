"""Named hyperparameter presets. ``blog`` is the table of the blog post, as printed."""

from __future__ import annotations

from types import MappingProxyType

# The blog's table (both the 1- and 2-layer columns carry the same values). Note that the blog's
# *code* builds its layers with LandauLayer's own defaults alpha=0.0035, gamma=5.0, so the table's
# alpha/gamma may not be what produced its numbers; the table is what is reproduced here.
BLOG = MappingProxyType(
    {
        "alpha": 0.0095,
        "gamma": 6.5,
        "beta_init": 1e-3,
        "lr": 1e-2,
        "kappa": 1e-2,
        "hidden": 156,
        "damping": 0.001,
        "temperature": 0.008,
        "dt": 0.001,
        "epochs": 100,
    }
)

PRESETS = MappingProxyType({"blog": BLOG})


def get_preset(name: str) -> MappingProxyType:
    """The preset called ``name``; ValueError lists the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
