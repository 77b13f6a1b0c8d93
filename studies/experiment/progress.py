"""Progress of a grid or a tuning: a tqdm bar on a terminal, a line per tenth of the work
elsewhere (a log file gets ten readable lines, not one line of carriage returns).

The time left is estimated from a rate that starts at the plan's estimate (the stored speed of
matching runs, ``studies.cli.plan``) and moves to the measured rate as work finishes: the plan
counts as ``PRIOR_WEIGHT`` finished units, so the first finished run (fast, or slow while the
processes start) does not swing the estimate by hours. Without a plan (no stored speed) the
time left is shown once PRIOR_WEIGHT units are done.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from tqdm.std import tqdm

__all__ = ["PRIOR_WEIGHT", "blended_rate", "progress_bar"]

PRIOR_WEIGHT = 3.0  # the plan's estimate counts as this many finished units


def blended_rate(done: float, elapsed: float, prior_rate: float | None) -> float | None:
    """Units per second: (done + w) / (elapsed + w / prior_rate), w = PRIOR_WEIGHT; without a
    prior the measured rate done / elapsed, once w units are done (None before: unknown)."""
    if prior_rate is None or prior_rate <= 0:
        return done / elapsed if done >= PRIOR_WEIGHT and elapsed > 0 else None
    return (done + PRIOR_WEIGHT) / (elapsed + PRIOR_WEIGHT / prior_rate)


def _interval(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _SeededBar(tqdm):
    """tqdm whose rate (and so time left) starts at the plan's estimate; without one, the time
    left reads ``?`` until PRIOR_WEIGHT units are done (tqdm shows ``?`` for a rate of 0)."""

    def __init__(self, *args, prior_rate: float | None = None, **kwargs) -> None:
        self._prior_rate = prior_rate  # before tqdm's __init__, which draws the bar
        super().__init__(*args, **kwargs)

    @property
    def format_dict(self) -> dict:
        d = super().format_dict
        d["rate"] = blended_rate(d["n"] - d["initial"], d["elapsed"], self._prior_rate) or 0.0
        return d


class _Lines:
    """A line on ``stream`` each time another tenth of the work is done (tqdm's interface:
    update, set_postfix, close, context manager)."""

    def __init__(self, total, initial, desc, unit, prior_rate, stream: TextIO) -> None:
        self.total, self.n, self.initial = total, initial, initial
        self.desc, self.unit, self.prior_rate, self.stream = desc, unit, prior_rate, stream
        self.postfix: dict = {}
        self.start = time.perf_counter()
        self.tenths = self._tenths()

    def _tenths(self) -> int:
        return math.floor(10 * self.n / self.total) if self.total > 0 else 10

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._tenths() > self.tenths:
            self.tenths = self._tenths()
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        rate = blended_rate(self.n - self.initial, elapsed, self.prior_rate)
        left = self.total - self.n
        text = (
            f"{self.desc}: {self.n}/{self.total} {self.unit}s ({100 * self.n / self.total:.0f} %)"
            f", {_interval(elapsed)} elapsed"
        )
        if left > 0 and rate:
            text += f", about {_interval(left / rate)} left"
        extra = ", ".join(f"{k} {v}" for k, v in self.postfix.items())
        return text + (f" ({extra})" if extra else "")

    def set_postfix(self, **values) -> None:
        self.postfix = values

    def close(self) -> None:
        pass

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def progress_bar(
    total: int,
    *,
    desc: str,
    unit: str,
    initial: int = 0,
    enabled: bool = True,
    expected_seconds: float | None = None,
    stream: TextIO | None = None,
):
    """A progress display for ``total`` units of which ``initial`` are done: a tqdm bar when
    ``stream`` (default stderr) is a terminal, else a line per tenth; nothing when not
    ``enabled``. ``expected_seconds`` (the plan's estimate of the rest) seeds the rate."""
    stream = stream if stream is not None else sys.stderr
    if not enabled:
        return tqdm(total=total, disable=True)
    left = total - initial
    prior = left / expected_seconds if expected_seconds and left > 0 else None
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return _Lines(total, initial, desc, unit, prior, stream)
    return _SeededBar(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=stream,
        dynamic_ncols=True,
        prior_rate=prior,
    )
