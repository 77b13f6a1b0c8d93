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

MNIST comes from ``--data-dir DIR``, else ``$LANDAU_DATA``, else where the tests look
(``$LANDAU_TEST_MNIST``, or ``../shared/data/mnist`` beside the checkout), else the user cache
that ``load_dataset`` defaults to; the MNIST benchmarks skip, saying where they looked, without it.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

THREADS = int(os.environ.get("LANDAU_BENCH_THREADS", "1"))
CLOCK = time.thread_time if THREADS == 1 else time.perf_counter
RESULTS: list[dict] = []


MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def pytest_addoption(parser):
    parser.addoption(
        "--data-dir",
        default=None,
        help="folder with MNIST's IDX files for the benchmarks (default: $LANDAU_DATA, then "
        "where the tests look: $LANDAU_TEST_MNIST or ../shared/data/mnist)",
    )


def _has_mnist(folder: Path) -> bool:
    return all(
        any(
            (root / f"{name}{ext}").is_file()
            for root in (folder, folder / "MNIST" / "raw")
            for ext in (".gz", "")
        )
        for name in MNIST_FILES
    )


@pytest.fixture(scope="session")
def mnist_dir(request) -> Path:
    """The first folder holding MNIST's four IDX files; skip, naming where we looked, if none."""
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    candidates = [
        request.config.getoption("--data-dir"),
        os.environ.get("LANDAU_DATA"),
        os.environ.get("LANDAU_TEST_MNIST", beside),
        Path.home() / ".cache" / "landau-bench",
    ]
    looked = [Path(c).expanduser() for c in candidates if c]
    for folder in looked:
        if _has_mnist(folder):
            return folder
    pytest.skip(f"MNIST IDX files not found in {', '.join(map(str, looked))} (pass --data-dir)")


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


def _record(benchmark, request, subj, ref, reference_name, target, clock, threads, **extra):
    """Save subject / reference (median seconds each) with what was compared in the benchmark's
    extra_info and in the summary printed at the end; the ratio."""
    ratio = subj / ref
    benchmark.extra_info.update(
        ratio=round(ratio, 3),
        subject_us=round(subj * 1e6, 1),
        reference_us=round(ref * 1e6, 1),
        reference=reference_name,
        target=target,
        clock=clock,
        threads=threads,
        **extra,
    )
    RESULTS.append({"name": request.node.name, **benchmark.extra_info})
    return ratio


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
        ratio = _record(
            benchmark, request, subj, ref, reference_name, target, CLOCK.__name__, THREADS
        )
        benchmark.pedantic(subject, rounds=rounds, warmup_rounds=warmup)
        return ratio

    return run


@pytest.fixture
def compare_long(benchmark, request, intra_op_threads):
    """``compare_long(subject, reference, rounds=..., clock=...)`` for subjects of seconds: each
    round runs the reference (pytest-benchmark's untimed setup), then the subject (what
    pytest-benchmark times and saves), so nothing runs twice; the ratio uses ``clock`` for both
    (default the thread CPU clock; ``time.perf_counter`` where the wall time is the point)."""

    def run(
        subject: Callable[[], object],
        reference: Callable[[], object],
        *,
        rounds: int,
        warmup: int = 0,
        clock: Callable[[], float] = CLOCK,
        target: str = "",
        reference_name: str = "",
        **info,
    ) -> float:
        if benchmark.disabled:
            subject()
            reference()
            return float("nan")
        for _ in range(warmup):
            subject()
            reference()
        times: tuple[list[float], list[float]] = ([], [])

        def timed(fn, out):
            start = clock()
            fn()
            out.append(clock() - start)

        benchmark.pedantic(
            lambda: timed(subject, times[0]),
            setup=lambda: timed(reference, times[1]),
            rounds=rounds,
            iterations=1,
        )
        subj, ref = statistics.median(times[0]), statistics.median(times[1])
        ratio = _record(
            benchmark, request, subj, ref, reference_name, target, clock.__name__,
            torch.get_num_threads(),
            subject_s=[round(t, 3) for t in times[0]],  # every round: how noisy the load was
            reference_s=[round(t, 3) for t in times[1]],
            **info,
        )  # fmt: skip
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.getplugin("capturemanager")
        if reporter is not None and capture is not None:
            # at once: a long run cut short still shows what it measured
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"\n{request.node.name}: {ratio:.2f}x {benchmark.extra_info}")
        return ratio

    return run


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section(f"ratios subject / reference (medians; clock {CLOCK.__name__} unless named)")
    for r in RESULTS:
        clock = "" if r["clock"] == CLOCK.__name__ else f", {r['clock']}"
        times = f"{r['subject_us']:.0f} / {r['reference_us']:.0f} us{clock} vs {r['reference']}"
        tr.write_line(f"{r['name']:<45} {r['ratio']:7.2f}x  ({times})  target {r['target']}")
