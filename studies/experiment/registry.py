"""The merged registry: Landau variants and baselines under one name -> entry dict."""

from __future__ import annotations

from ablations import VARIANTS, Variant, build_registry
from baselines import BASELINES

REGISTRY: dict[str, Variant] = build_registry(VARIANTS, BASELINES)


def get_variant(name: str) -> Variant:
    """The entry called ``name``; ValueError lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(REGISTRY)}") from None


def parse_names(text: str | list[str] | tuple[str, ...], known, what: str) -> tuple[str, ...]:
    """Split a comma list (or take a list) and check every name is known and given once."""
    names = (
        [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n) for n in text]
    )
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"no {what} given; known: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {what} {name!r}; known: {', '.join(known)}")
    repeated = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    if repeated:  # a repeated name is a typo for another one, not a wish to run it twice
        raise ValueError(f"the {what} {repeated[0]!r} is listed {names.count(repeated[0])} times")
    return tuple(names)
