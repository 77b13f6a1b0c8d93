"""The plan line printed before a grid, tune or run starts: what will run, how much memory its
largest run needs (studies.experiment.memory), and roughly how long.

The time estimate is the stored speed of matching runs (same variant, dataset, depth and
device): their median seconds per epoch times the epochs to do, divided among the workers.
Without a matching run for some of the work the time is "unknown" for that share, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["plan_line", "plan_seconds"]


def _speeds(store) -> dict[tuple, float]:
    """(variant, dataset, depth, device) -> median seconds per epoch of the stored ok runs."""
    frame = store.runs_frame()
    frame = frame[(frame["status"] == "ok") & frame["seconds_per_epoch"].notna()]
    if frame.empty:
        return {}
    keys = ["variant", "dataset", "depth", "device"]
    medians = frame.groupby(keys)["seconds_per_epoch"].median()
    return {tuple(k): float(v) for k, v in medians.items()}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _work(store, runs, keys, trials, trial_epochs, device, reuse_stale=False):
    """The unique runs, the pending ones, the seconds of the work of known speed, how many jobs
    have no stored speed, and the ids of stored runs that other code produced (pending unless
    ``reuse_stale``)."""
    from studies.experiment.runner import stale_ids

    speeds = _speeds(store)
    done = store.completed_ids()
    unique = {r.run_id: r for r in runs}
    stale = stale_ids(store, list(unique.values())) if runs else set()
    if not reuse_stale:
        done -= stale
    pending = [r for r in unique.values() if r.run_id not in done]
    device = device.split(":")[0]
    work = [((r.variant, r.dataset, r.depth, device), r.epochs) for r in pending]
    work += [((k.variant, k.dataset, k.depth, device), trials * trial_epochs) for k in keys]
    known = [speeds[cell] * epochs for cell, epochs in work if cell in speeds]
    return unique, pending, known, len(work) - len(known), stale


def plan_seconds(
    store,
    runs: Sequence = (),
    *,
    keys: Sequence = (),
    trials: int = 0,
    trial_epochs: int = 0,
    device: str = "cpu",
    workers: int = 1,
    reuse_stale: bool = False,
) -> float | None:
    """The plan's estimate in seconds (what seeds the progress bar's rate); None when some of
    the work has no stored speed, or there is nothing to do."""
    _, _, known, unknown, _ = _work(store, runs, keys, trials, trial_epochs, device, reuse_stale)
    if unknown or not known:
        return None
    return sum(known) / max(1, min(workers, len(known)))


def plan_line(
    store,
    runs: Sequence = (),
    *,
    keys: Sequence = (),
    trials: int = 0,
    trial_epochs: int = 0,
    device: str = "cpu",
    workers: int = 1,
    reuse_stale: bool = False,
) -> str:
    """``N runs (M already stored), K studies × T trials; roughly X at the last measured
    speed`` (runs: RunConfigs; keys: StudyKeys, each with ``trials`` trials of
    ``trial_epochs`` epochs at most). Stored runs that other code produced are named, and
    counted as work unless ``reuse_stale``."""
    from studies.experiment.runner import stale_line

    unique, pending, known, unknown, stale = _work(
        store, runs, keys, trials, trial_epochs, device, reuse_stale
    )
    parts = []
    if runs:
        stored = f"{len(unique) - len(pending)} already stored"
        if stale:
            stored += f"; {stale_line(len(stale), reuse_stale)}"
        parts.append(f"{len(unique)} runs ({stored})")
    if pending:
        from studies.experiment.memory import largest_run, readable

        run, size = largest_run(pending)
        parts.append(f"largest model ≈ {readable(size)} of memory per run ({run.name})")
    if keys:
        parts.append(f"{len(keys)} studies × {trials} trials of {trial_epochs} epochs")
    jobs = len(known) + unknown
    if not jobs:
        estimate = "nothing to do"
    elif not known:
        estimate = "time unknown (no stored run of these cells to measure the speed)"
    else:
        seconds = sum(known) / max(1, min(workers, jobs))
        estimate = f"roughly {_minutes(seconds)} at the last measured speed"
        if unknown:
            estimate += f", plus {unknown} jobs of unknown speed"
    return "plan: " + ", ".join(parts) + f"; {estimate}"
