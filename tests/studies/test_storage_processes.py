"""The Optuna storage of a SQLite store across processes: Optuna's own storage conformance
tests (pickling included), a pickle round trip that reconnects, and forked tuners each with
their own connection (keyed by process, not by URL alone)."""

from __future__ import annotations

import multiprocessing
import pickle

import optuna
import pytest
from optuna.testing.pytest_storages import StorageTestCase

from studies.tuning.journal import StoreJournal
from studies.tuning.storage import close_storage, open_storage, storage_url


@pytest.fixture
def storage(tmp_path):
    """A fresh journal on a SQLite file, for Optuna's storage test suite."""
    path = tmp_path / "conformance.db"
    yield open_storage(path)
    close_storage(path)


class TestStoreJournalIsAnOptunaStorage(StorageTestCase):
    """Optuna's tests for every storage (``test_pickle_storage`` among them)."""


def test_a_pickled_journal_reconnects_from_its_url_and_sees_the_same_studies(tmp_path):
    journal = open_storage(tmp_path / "s.db")
    study_id = journal.create_new_study([optuna.study.StudyDirection.MAXIMIZE], "s")
    journal.create_new_trial(study_id)
    restored = pickle.loads(pickle.dumps(journal))
    assert isinstance(restored, StoreJournal) and restored.url == journal.url
    assert restored.engine is not journal.engine  # its own connection
    restored.create_new_trial(restored.get_study_id_from_name("s"))
    assert len(journal.get_all_trials(study_id)) == 2  # written through, seen by the other
    restored.close()


_TRIALS_EACH = 20


def _tune_forked(url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="shared", storage=open_storage(url))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=_TRIALS_EACH)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_forked_tuners_each_open_their_own_connection_and_lose_no_trial(tmp_path):
    url = storage_url(tmp_path / "forked.db")
    parent = open_storage(url)  # opened (and cached) before the fork
    optuna.create_study(storage=parent, study_name="shared", direction="maximize")
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_tune_forked, args=(url,)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert [c.exitcode for c in children] == [0] * 4
    fresh = pickle.loads(pickle.dumps(parent))  # replays the whole log
    trials = fresh.get_all_trials(fresh.get_study_id_from_name("shared"))
    assert len(trials) == 4 * _TRIALS_EACH
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
