"""Per-process set-up for every place that trains: the main process and each worker.

Two settings are process-wide in torch and so belong to process start-up, not to a run:

* intra-op threads: a set number per worker (default 1), so that a loaded machine slows a grid
  in proportion instead of 10-30x (oversubscribed thread pools spin against each other);
* denormal flushing: the Landau modulation drives activations towards underflow, and denormal
  floats (|x| < 1.2e-38) make CPU arithmetic up to 20x slower. Flushing them to zero changes no
  accuracy in practice; torch has no getter to restore it, hence once per process.

And the user's plugins the parent loaded (``plugins.loaded_plugins()``): a worker rebuilds run
configs by variant name, so a plugin's variants must be registered there too.
"""

from __future__ import annotations

from collections.abc import Iterable

from studies.experiment.plugins import PluginRef, restore

__all__ = ["DEFAULT_THREADS", "init_process"]

DEFAULT_THREADS = 1


def init_process(threads: int = DEFAULT_THREADS, plugins: Iterable[PluginRef] = ()) -> None:
    """Pin ``threads`` intra-op threads, flush denormals and load ``plugins`` in this process."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"`threads >= 1` must hold, but got threads={threads!r}")
    import torch  # here, not at import: the runner imports this module before it knows it trains

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    restore(plugins)
