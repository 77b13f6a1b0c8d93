"""Where and how a run ran: library versions, the CPU, the thread count, the load at its start.

Stored with every run, so that a runtime table can explain an outlier (a run that started under
load, or on another machine) instead of hiding it.
"""

from __future__ import annotations

import functools
import os
import platform as _platform
import sys
from importlib import metadata

import torch

__all__ = ["provenance"]


@functools.cache
def _static() -> dict[str, str]:
    try:
        suite = metadata.version("landau-bench")
    except metadata.PackageNotFoundError:  # running from a checkout without an install
        suite = "unknown"
    return {
        "suite_version": suite,
        "torch_version": torch.__version__,
        "python_version": _platform.python_version(),
        "platform": _cpu_model(),
    }


def _cpu_model() -> str:
    """The CPU model name (Linux: /proc/cpuinfo), else what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({sys.platform})"
    except OSError:
        pass
    return f"{_platform.processor() or _platform.machine()} ({sys.platform})"


def provenance() -> dict[str, str | int | float | None]:
    """The provenance columns of a run starting now, in this process."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not available on this platform
        load = None
    return {**_static(), "threads": torch.get_num_threads(), "load_avg": load}
