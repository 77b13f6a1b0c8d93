"""Progress and summary lines: a line per tenth when stderr is not a terminal, a bar whose time
left starts at the plan's estimate, the experiment's name as the label, and the tuning lines
(accuracy in percent beside chance, each time labelled)."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from studies.cli import main
from studies.experiment.progress import PRIOR_WEIGHT, blended_rate, progress_bar
from studies.tuning import StudyKey, StudyResult, TuningSummary


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_rate_starts_at_the_plan_and_moves_to_the_measured_one():
    assert blended_rate(0, 0.0, 2.0) == pytest.approx(2.0)
    assert blended_rate(0, 0.0, None) is None
    assert blended_rate(10, 5.0, None) == pytest.approx(2.0)
    assert blended_rate(1, 0.01, None) is None  # one unit measures nothing yet
    # a first run 100x slower than planned moves the estimate, but not by 100x
    assert 0.02 < blended_rate(1, 50.0, 2.0) < 2.0
    # many runs later the measured rate dominates
    assert blended_rate(1000, 100.0, 1.0) == pytest.approx(10.0, rel=PRIOR_WEIGHT / 100)


def test_without_a_terminal_a_line_per_tenth():
    stream = io.StringIO()
    with progress_bar(20, desc="quick", unit="run", stream=stream) as bar:
        for _ in range(20):
            bar.update(1)
            bar.set_postfix(failed=0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in stream.getvalue()
    assert lines[0].startswith("quick: 2/20 runs (10 %), ")
    assert lines[-1].startswith("quick: 20/20 runs (100 %), ") and lines[-1].endswith("(failed 0)")
    resumed = io.StringIO()  # 5 of 20 stored: the tenths still to come
    with progress_bar(20, desc="q", unit="run", initial=5, stream=resumed) as bar:
        bar.update(15)
    assert resumed.getvalue().splitlines() == [resumed.getvalue().splitlines()[0]]
    assert "20/20" in resumed.getvalue()


def test_the_first_estimate_of_time_left_is_the_plans():
    stream = io.StringIO()
    with progress_bar(10, desc="g", unit="run", expected_seconds=3600.0, stream=stream) as bar:
        bar.update(1)  # instantly: without the plan this would read "about 0 s left"
    # 9 runs at (1 + 3) / (0 s + 3 x 6 min) per second: 40 min (the plan alone: 54 min)
    assert "about 40 min left" in stream.getvalue()
    terminal = _Terminal()
    bar = progress_bar(100, desc="g", unit="run", expected_seconds=50.0, stream=terminal)
    try:
        assert bar.format_dict["rate"] == pytest.approx(2.0, rel=0.05)
    finally:
        bar.close()
    assert progress_bar(5, desc="g", unit="run", enabled=False).disable
    unplanned = progress_bar(100, desc="g", unit="run", stream=_Terminal())
    try:
        unplanned.update(1)
        assert "<?," in str(unplanned)  # no estimate from a single run
    finally:
        unplanned.close()


def test_a_grid_without_a_terminal_labels_its_lines_with_the_experiment(tmp_path, capsys):
    argv = ["grid", "quick", "--variants", "logreg", "--datasets", "moons,circles", "--seeds", "1"]
    argv += ["--depths", "1", "--store", str(tmp_path / "r.db"), "--experiment", "mine"]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in err] == [
        "mine: 1/2 runs (50 %)",
        "mine: 2/2 runs (100 %)",
    ]


def test_the_study_line_gives_accuracy_in_percent_beside_chance():
    states = Counter(COMPLETE=4, PRUNED=4)
    result = StudyResult(
        "s", StudyKey("logreg", "moons", 1), 8, 0.1833, {"C": 0.5}, 3, states, 10.0, 9.0
    )
    assert result.line().startswith(
        "s: best validation accuracy 18.3 % (chance 50.0 %, 1 of 2 classes; trial #3: C=0.5); "
        "the study holds 4 complete, 4 pruned and 0 failed trials"
    )
    digits = StudyResult("d", StudyKey("logreg", "digits", 1), 1, 0.9, {}, 0, states)
    assert "(chance 10.0 %, 1 of 10 classes;" in digits.line()
    summary = TuningSummary([result], wall_seconds=12.0, prepare_seconds=0.5).lines()[-1]
    assert summary.startswith("1 studies: 8 trials run now, in 12.0 s wall clock; the studies "
                              "hold 4 complete, 4 pruned and 0 failed trials; ")  # fmt: skip
