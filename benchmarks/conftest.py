"""pytest-benchmark suites: speed as a ratio against a reference measured in the same run.

Run with ``python -m pytest benchmarks -q -p no:randomly --benchmark-only`` (pyproject's
``python_files`` collects ``bench_*.py``; the default run only looks in ``tests/``).

Each benchmark using the ``compare`` fixture times its subject and its reference *interleaved*
(subject, reference, subject, ...), so that load from other processes hits both alike, and records
the ratio of the medians in ``benchmark.extra_info`` (printed at the end of the run);
pytest-benchmark's own table holds the subject's times.
Timing uses one intra-op thread and the calling thread's CPU time (``time.thread_time``), which a
busy neighbour on a shared machine does not inflate; CPU autograd runs on the calling thread, so
that is all the work. ``LANDAU_BENCH_THREADS=n`` (n > 1) switches to n threads and wall-clock time.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator

import pytest
import torch

THREADS = int(os.environ.get("LANDAU_BENCH_THREADS", "1"))
CLOCK = time.thread_time if THREADS == 1 else time.perf_counter
RESULTS: list[dict] = []


@pytest.fixture
def intra_op_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def interleaved_medians(
    subject: Callable[[], object],
    reference: Callable[[], object],
    rounds: int,
    warmup: int,
    repeats: tuple[int, int] = (1, 1),
) -> tuple[float, float]:
    """Median seconds per call of subject and reference, timed alternately.

    Each round calls the subject ``repeats[0]`` times, then the reference ``repeats[1]`` times,
    timing every call: more reference calls per round when the subject is so large that it flushes
    the caches the reference would otherwise find warm.
    """
    for _ in range(warmup):
        subject()
        reference()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, n, out in ((subject, repeats[0], times[0]), (reference, repeats[1], times[1])):
            for _ in range(n):
                start = CLOCK()
                fn()
                out.append(CLOCK() - start)
    return statistics.median(times[0]), statistics.median(times[1])


@pytest.fixture
def compare(benchmark, request, intra_op_threads):
    """``compare(subject, reference, rounds=..., target=...)``: record subject / reference."""

    def run(
        subject: Callable[[], object],
        reference: Callable[[], object],
        *,
        rounds: int,
        warmup: int = 20,
        repeats: tuple[int, int] = (1, 1),
        target: str = "",
        reference_name: str = "",
    ) -> float:
        if benchmark.disabled:  # --benchmark-disable: just check that both run
            subject()
            reference()
            return float("nan")
        subj, ref = interleaved_medians(subject, reference, rounds, warmup, repeats)
        ratio = subj / ref
        benchmark.extra_info.update(
            ratio=round(ratio, 3),
            subject_us=round(subj * 1e6, 1),
            reference_us=round(ref * 1e6, 1),
            reference=reference_name,
            target=target,
            clock=CLOCK.__name__,
            threads=THREADS,
        )
        RESULTS.append({"name": request.node.name, **benchmark.extra_info})
        benchmark.pedantic(subject, rounds=rounds, warmup_rounds=warmup)
        return ratio

    return run


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section(f"ratios subject / reference (medians, {CLOCK.__name__}, {THREADS} thread(s))")
    for r in RESULTS:
        times = f"{r['subject_us']:.0f} / {r['reference_us']:.0f} us vs {r['reference']}"
        tr.write_line(f"{r['name']:<45} {r['ratio']:7.2f}x  ({times})  target {r['target']}")
