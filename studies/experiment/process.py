"""Per-process set-up for every place that trains: the main process and each worker.

Two settings are process-wide in torch and so belong to process start-up, not to a run:

* intra-op threads: a set number per worker (default 1), so that a loaded machine slows a grid
  in proportion instead of 10-30x (oversubscribed thread pools spin against each other);
* denormal flushing: the Landau modulation drives activations towards underflow, and denormal
  floats (|x| < 1.2e-38) make CPU arithmetic up to 20x slower. Flushing them to zero changes no
  accuracy in practice; torch has no getter to restore it, hence once per process.

And the user's plugins the parent loaded (``plugins.loaded_plugins()``): a worker rebuilds run
configs by variant name, so a plugin's variants must be registered there too.

Local worker processes (``worker_pool``) die with their parent: a worker asks the kernel for
SIGTERM when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``), and a watchdog thread polls
its parent's pid as the portable fallback, so a ``kill -9`` of ``landau grid --workers N``
leaves no worker (each holds a dataset and a model) behind. Ctrl-C, which the terminal sends
to every process of the group, is the parent's to handle: workers ignore SIGINT, and the parent
ends them (SIGTERM, then SIGKILL after ``GRACE_S``) when it is interrupted or fails.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from studies.experiment.plugins import PluginRef, restore

__all__ = ["DEFAULT_THREADS", "GRACE_S", "init_process", "worker_pool"]

DEFAULT_THREADS = 1
GRACE_S = 3.0  # a worker told to stop (SIGTERM) has this long to clean up before SIGKILL
_PR_SET_PDEATHSIG = 1


def init_process(threads: int = DEFAULT_THREADS, plugins: Iterable[PluginRef] = ()) -> None:
    """Pin ``threads`` intra-op threads, flush denormals and load ``plugins`` in this process."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"`threads >= 1` must hold, but got threads={threads!r}")
    import torch  # here: a worker dies with its parent (set up first) even while importing it

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    restore(plugins)


def _watch_parent(parent: int) -> None:
    """SIGTERM this process once ``parent`` is gone (reparented), and exit after GRACE_S if the
    handler did not end it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(143)


def die_with_parent(parent: int) -> None:
    """Make this process get SIGTERM when ``parent`` (the process that started it) dies."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone
            pass
    if os.getppid() != parent:  # died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent").start()


def _init_worker(
    threads: int, parent: int, setup: str | None, setup_args: tuple, plugins: tuple = ()
) -> None:
    """First what needs no import (torch takes seconds to import on a loaded machine: the
    parent may die meanwhile), then ``init_process`` and ``setup`` ("module:function")."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends the workers
    die_with_parent(parent)
    init_process(threads, plugins)
    if setup is not None:
        module, name = setup.split(":")
        getattr(importlib.import_module(module), name)(*setup_args)


def _end(processes: set) -> None:
    """SIGTERM, then SIGKILL what is still alive after GRACE_S."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(1.0)


@contextmanager
def worker_pool(
    workers: int,
    threads: int,
    setup: str | None = None,
    setup_args: tuple = (),
    plugins: Iterable[PluginRef] = (),
) -> Iterator[ProcessPoolExecutor]:
    """``workers`` spawned processes, each set up with ``init_process(threads, plugins)`` (the
    parent's plugins) and then ``setup(*setup_args)`` (``setup`` names a function,
    "module:function", imported only once the worker is set to die with this process); they die
    with this process, and when the block raises (Ctrl-C, SIGTERM, an error) they are ended at
    once instead of finishing their work first."""
    ctx = multiprocessing.get_context("spawn")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(threads, os.getpid(), setup, setup_args, tuple(plugins)),
    )
    try:
        yield pool
    except BaseException:
        _end(set(multiprocessing.active_children()) - before)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
