"""Which device a run trains on, decided without importing torch where that is possible.

Importing torch costs seconds (10-12 s on a loaded 2-core machine), and a grid whose runs are all
stored has nothing to train: ``cpu``, and ``auto`` with a CPU-only torch build (its version
carries the ``+cpu`` label), are answered from the installed distribution's metadata. Anything
else asks torch.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["resolve_device"]

_KINDS = ("cpu", "cuda", "mps")


def _cpu_only_build() -> bool:
    """The installed torch is a CPU-only wheel (PyTorch's CPU index labels it ``+cpu``)."""
    try:
        return metadata.version("torch").endswith("+cpu")
    except metadata.PackageNotFoundError:
        return False


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else must be usable."""
    if name == "auto" and _cpu_only_build():
        return "cpu"
    kind = name.split(":")[0]
    if name != "auto" and kind not in _KINDS:
        raise ValueError(f"unknown device {name!r}; known: auto, cpu, cuda, cuda:N, mps")
    if kind == "cpu":
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False")
    return name
