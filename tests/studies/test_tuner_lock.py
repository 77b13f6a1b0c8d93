"""One tuner per study on SQLite when topping up to a budget (`--trials N`): a second tuner of a
study another process tunes is refused (write-behind copies would each add the trials the study
lacks: 19 trials for 10 were measured), the lock dies with its process, and a server database is
not locked (it claims trial by trial). Adding N trials (`--add N`) may share a study
(test_tuning's two processes)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studies.cli import main
from studies.experiment import TuningBudget
from studies.tuning import StudyKey, study_name
from studies.tuning.storage import open_storage, study_trials
from studies.tuning.study import prepare_studies, tune_study
from studies.tuning.tuner_lock import one_tuner, sqlite_file

BUDGET = TuningBudget(trials=2, epochs=1, seed=0)
KEY = StudyKey("logreg", "moons", 1)

# A process that holds the lock of one study of a store, says so, and waits to be killed.
HOLDER = """
import sys, time
from studies.tuning.tuner_lock import one_tuner
with one_tuner(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process holding a study's lock; yields a function (url, study) -> Popen."""
    started = []

    def start(url: str, study: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url, study], stdout=subprocess.PIPE, text=True, env=env
        )
        started.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'r.db'}"


def test_a_second_tuner_of_a_study_is_refused_and_nothing_is_added(tmp_path, holder):
    url = _url(tmp_path)
    prepare_studies([KEY], BUDGET, open_storage(url))
    name = study_name(KEY, BUDGET)
    holder(url, name)
    with pytest.raises(ValueError, match="is being tuned by another process"):
        tune_study(KEY, BUDGET, url, 2, top_up=True)
    assert study_trials(open_storage(url), name)[1] == []  # the refused tuner ran nothing


def test_the_lock_dies_with_its_process_kill_9_included(tmp_path, holder):
    url = _url(tmp_path)
    prepare_studies([KEY], BUDGET, open_storage(url))
    name = study_name(KEY, BUDGET)
    proc = holder(url, name)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = tune_study(KEY, BUDGET, url, 2, top_up=True)  # the dead holder's lock is gone
    assert result.states["COMPLETE"] == 2


def test_other_studies_and_the_same_process_in_turn_are_free(tmp_path, holder):
    url = _url(tmp_path)
    holder(url, "another study")
    with one_tuner(url, "mine"):
        pass
    with one_tuner(url, "mine"):  # released on exit: a later tuner of the study may start
        pass
    lock = tmp_path / "r.db-tuners"
    digest = hashlib.sha256(b"mine").hexdigest()[:16]
    assert (lock / f"{digest}.lock").is_file()  # beside the store, as SQLite's -wal is


def test_server_databases_and_memory_are_not_locked():
    assert sqlite_file("postgresql+psycopg2://u:p@host/db") is None
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("results.db") == Path("results.db")
    with one_tuner("postgresql+psycopg2://u:p@host/db", "s"), one_tuner("sqlite://", "s"):
        pass  # nothing to hold: a server database claims each trial under its own lock


def test_the_cli_refuses_a_second_tuner_with_one_line_exit_2(tmp_path, holder, capsys):
    import optuna

    store = str(tmp_path / "r.db")

    def tune(trials: int) -> int:
        return main(
            ["tune", "--variant", "logreg", "--dataset", "moons", "--depth", "1", "--trials",
             str(trials), "--epochs", "1", "--store", store]
        )  # fmt: skip

    assert tune(2) == 0  # the study exists, 2 trials
    capsys.readouterr()
    url = f"sqlite:///{Path(store).resolve()}"
    (summary,) = optuna.get_all_study_summaries(open_storage(url))
    holder(url, summary.study_name)
    assert tune(4) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is being tuned by another process" in err[0]
    assert len(study_trials(open_storage(url), summary.study_name)[1]) == 2  # nothing added
