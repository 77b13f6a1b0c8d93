"""studies.store.store against the contract of docs/data-model.md, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import re
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from studies.store import store as store_module
from studies.store.records import EpochRecord, RunRecord
from studies.store.store import Store, StoreError

# The column lists of docs/data-model.md, spelled out here rather than imported: they are the API.
RUNS_COLUMNS = [
    "run_id", "name", "grid", "variant", "dataset", "seed", "depth", "epochs", "status", "error",
    "val_accuracy", "test_accuracy", "final_train_loss", "seconds", "seconds_per_epoch",
    "samples_per_second", "n_params", "epochs_run", "device", "params_source", "study_name",
    "trial_number", "data_seed", "n_classes", "chance_accuracy", "collapsed", "sweep",
    "sharpness", "hessian_trace", "suite_version", "torch_version", "python_version", "platform",
    "threads", "load_avg", "seed_batch", "code_fingerprint", "git_revision", "git_dirty",
    "population",
]  # fmt: skip
KEY = ["run_id", "variant", "dataset", "seed", "depth"]
EPOCHS_COLUMNS = KEY + ["epoch", "train_loss", "loss_quadratic", "loss_quartic", "loss_spatial"]
EPOCHS_COLUMNS += ["val_accuracy", "seconds"]
BETAS_COLUMNS = KEY + ["epoch", "layer", "unit", "beta"]
MESHES_COLUMNS = KEY + ["x", "y", "pred"]
POINTS_COLUMNS = ["dataset", "x", "y", "label"]
RANKING_COLUMNS = ["prediction", "alpha", "gamma", "loss", "rank", "is_perfect"]


def _betas(epoch: int) -> dict[str, list[float]]:
    return {"llayer1": [0.5 + 0.1 * epoch, -0.25], "llayer2": [1.0 - 0.1 * epoch]}


def make_record(run_id: str = "run-a", *, n_epochs: int = 3, **changes: object) -> RunRecord:
    """A small 'ok' run on a 2-D dataset: NaN spatial loss, mesh of 4 points, 2+1 betas."""
    epochs = [
        EpochRecord(epoch=e, train_loss=1.0 / e, loss_quadratic=0.5 / e, loss_quartic=-0.1 / e,
                    loss_spatial=math.nan, val_accuracy=0.5 + 0.1 * e, seconds=0.25 * e,
                    betas=_betas(e))
        for e in range(1, n_epochs + 1)
    ]  # fmt: skip
    record = RunRecord(
        run_id=run_id, name="full[dataset=moons,seed=0,depth=2]", grid="smoke", variant="full",
        dataset="moons", seed=0, depth=2, epochs=n_epochs, status="ok", error=None,
        val_accuracy=0.8, test_accuracy=0.75, final_train_loss=1.0 / n_epochs, seconds=1.5,
        seconds_per_epoch=0.5, samples_per_second=1234.5, n_params=42, epochs_run=n_epochs,
        device="cpu", params={"lr": 0.01, "width": 16, "activation": "tanh", "langevin": True},
        params_source="defaults", study_name=None, trial_number=None,
        config={"variant": "full", "hidden": [16, 16], "optim": {"lr": 0.01}},
        initial_betas=_betas(0), epoch_records=epochs,
        mesh={"x": [-1.0, 1.0, -1.0, 1.0], "y": [-1.0, -1.0, 1.0, 1.0], "pred": [0, 1, 1, 0]},
    )  # fmt: skip
    return dataclasses.replace(record, **changes)


def diverged_record(run_id: str = "run-b") -> RunRecord:
    """A tuned run that diverged at epoch 2: an inf loss, other params, no mesh."""
    base = make_record(run_id, n_epochs=2)
    last = dataclasses.replace(base.epoch_records[-1], train_loss=math.inf)
    return dataclasses.replace(
        base, variant="no_quartic", seed=1, depth=1, status="diverged", epochs=5,
        error="non-finite loss at epoch 2", final_train_loss=math.inf, mesh=None,
        params={"lr": 0.5, "width": 8, "activation": "relu", "gamma": 0.1},
        params_source="study:full-moons#7", study_name="full-moons", trial_number=7,
        epoch_records=[base.epoch_records[0], last],
    )  # fmt: skip


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'results.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL cluster."""
    name = f"landau_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def test_record_round_trips_through_strict_json() -> None:
    record = diverged_record()
    text = json.dumps(record.to_dict(), allow_nan=False)  # what crosses a process boundary
    back = RunRecord.from_dict(json.loads(text))
    assert back.to_dict() == record.to_dict()
    assert math.isnan(back.epoch_records[0].loss_spatial)
    assert back.epoch_records[1].train_loss == math.inf


def test_round_trip(url: str) -> None:
    first, second = make_record(), diverged_record()
    ranking = pd.DataFrame(
        {"prediction": ["perfect", "uniform"], "alpha": [1.0, 1.0], "gamma": [0.5, 0.5],
         "loss": [-0.3, 0.2], "rank": [1, 2], "is_perfect": [True, False]}
    )  # fmt: skip
    with Store(url) as store:
        assert store.write_run(first) and store.write_run(second)
        assert store.write_points("moons", [0.1, 0.2], [0.3, 0.4], [0, 1])
        store.write_loss_ranking(ranking)
        assert store.completed_ids() == {"run-a", "run-b"}
        for record in (first, second):
            assert store.read_run(record.run_id).to_dict() == record.to_dict()
        runs, epochs, betas = store.runs_frame(), store.epochs_frame(), store.betas_frame()
        meshes, points = store.meshes_frame(), store.points_frame()
        stored_ranking = store.loss_ranking_frame()

    hp = ["hp_activation", "hp_gamma", "hp_langevin", "hp_lr", "hp_width"]
    assert list(runs.columns) == RUNS_COLUMNS + ["created_at"] + hp
    a, b = runs.set_index("run_id").loc["run-a"], runs.set_index("run_id").loc["run-b"]
    assert (a["status"], a["n_params"], a["hp_lr"], a["hp_activation"]) == ("ok", 42, 0.01, "tanh")
    assert pd.isna(a["error"]) and pd.isna(a["trial_number"]) and pd.isna(a["hp_gamma"])
    assert (b["status"], b["trial_number"], b["study_name"]) == ("diverged", 7, "full-moons")
    assert b["final_train_loss"] == math.inf and pd.isna(b["hp_langevin"])

    assert list(epochs.columns) == EPOCHS_COLUMNS and len(epochs) == 3 + 2
    assert epochs["loss_spatial"].isna().all() and epochs["train_loss"].iloc[-1] == math.inf
    assert epochs.loc[epochs.run_id == "run-a", "epoch"].tolist() == [1, 2, 3]

    assert list(betas.columns) == BETAS_COLUMNS
    assert len(betas) == (4 + 3) * 3  # (run-a: epochs 0..3, run-b: 0..2) x 3 betas
    initial = betas[(betas.run_id == "run-a") & (betas.epoch == 0)]
    assert initial[["layer", "unit", "beta"]].values.tolist() == [
        ["llayer1", 0, 0.5], ["llayer1", 1, -0.25], ["llayer2", 0, 1.0]
    ]  # fmt: skip

    assert list(meshes.columns) == MESHES_COLUMNS
    assert meshes["pred"].tolist() == [0, 1, 1, 0] and set(meshes.run_id) == {"run-a"}
    assert list(points.columns) == POINTS_COLUMNS and points["label"].tolist() == [0, 1]
    assert list(stored_ranking.columns) == RANKING_COLUMNS
    pd.testing.assert_frame_equal(stored_ranking, ranking, check_dtype=False)


def test_empty_store_frames_have_the_documented_columns(url: str) -> None:
    with Store(url) as store:
        frames = {
            "runs": (store.runs_frame(), RUNS_COLUMNS + ["created_at"]),
            "epochs": (store.epochs_frame(), EPOCHS_COLUMNS),
            "betas": (store.betas_frame(), BETAS_COLUMNS),
            "meshes": (store.meshes_frame(), MESHES_COLUMNS),
            "points": (store.points_frame(), POINTS_COLUMNS),
            "loss_ranking": (store.loss_ranking_frame(), RANKING_COLUMNS),
        }
        assert store.completed_ids() == set()
    for name, (frame, columns) in frames.items():
        assert frame.empty and list(frame.columns) == columns, name


def test_writes_are_idempotent(url: str) -> None:
    with Store(url) as store:
        assert store.write_run(make_record()) is True
        assert store.write_run(make_record(seconds=99.0)) is False
        assert store.write_points("moons", [0.0], [0.0], [1]) is True
        assert store.write_points("moons", [5.0, 6.0], [5.0, 6.0], [0, 0]) is False
        assert len(store.runs_frame()) == 1 and store.runs_frame()["seconds"].item() == 1.5
        assert len(store.epochs_frame()) == 3 and len(store.points_frame()) == 1
    with Store(url) as reopened:  # and across sessions
        assert reopened.write_run(make_record()) is False


def test_failure_mid_transaction_stores_nothing(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(record: RunRecord) -> dict:
        raise RuntimeError("boom")  # after the run and epoch rows were inserted

    with Store(url) as store:
        monkeypatch.setattr(store_module, "mesh_row", broken)  # as store.py calls it
        with pytest.raises(RuntimeError, match="boom"):
            store.write_run(make_record())
        monkeypatch.undo()
        duplicate = make_record(epoch_records=make_record().epoch_records * 2)
        with pytest.raises(sa.exc.IntegrityError):  # the second epoch 1 violates the key
            store.write_run(duplicate)
        assert "run-a" not in store.completed_ids()
        assert store.epochs_frame().empty and store.meshes_frame().empty
        assert store.write_run(make_record()) is True


def _write_then_die(url: str) -> None:
    def die(record: RunRecord) -> dict:
        os.kill(os.getpid(), signal.SIGKILL)

    store_module.mesh_row = die
    Store(url).write_run(make_record())


def test_kill_9_mid_transaction_leaves_the_run_absent(sqlite_url: str) -> None:
    Store(sqlite_url).close()
    process = multiprocessing.get_context("spawn").Process(
        target=_write_then_die, args=(sqlite_url,)
    )
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    with Store(sqlite_url) as store:
        assert store.completed_ids() == set() and store.epochs_frame().empty
        assert store.write_run(make_record()) is True


def test_other_tables_do_not_disturb_a_store(url: str) -> None:
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as Optuna does when it shares the file
        conn.exec_driver_sql("CREATE TABLE studies (study_id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO studies VALUES (7)")
    with Store(url) as store:
        assert store.write_run(make_record())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT study_id FROM studies").scalars().all() == [7]
    engine.dispose()


def test_a_newer_schema_is_refused(sqlite_url: str) -> None:
    Store(sqlite_url).close()
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE landau_meta SET value = '99' WHERE key = 'schema_version'")
    engine.dispose()
    with pytest.raises(StoreError, match="schema_version=99"):
        Store(sqlite_url)


def _snapshot(path: Path) -> tuple:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


@pytest.mark.parametrize("kind", ["other tables", "not a database"])
def test_a_foreign_file_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "other.db"
    if kind == "other tables":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE measurements (x REAL)")
            conn.execute("INSERT INTO measurements VALUES (1.5)")
        conn.close()
        expected = "is not a landau results store: it holds tables (measurements)"
    else:
        path.write_text("just some text, long enough to be taken for a database header" * 4)
        expected = "file is not a database"
    before = _snapshot(path)
    with pytest.raises(StoreError, match=re.escape(expected)) as caught:
        Store(path)
    assert "\n" not in str(caught.value)
    assert _snapshot(path) == before


@pytest.mark.parametrize(
    "bad",
    ["nosuchdialect://x", "sqlite:///{tmp}/no/such/dir/results.db", "{tmp}",
     "postgresql+psycopg2://nobody@127.0.0.1:1/none"],
)  # fmt: skip
def test_an_unopenable_url_raises_store_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError, match="cannot open results store") as caught:
        Store(bad.format(tmp=tmp_path))
    assert "\n" not in str(caught.value)


def test_a_plain_path_opens_a_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    with Store(path) as store:
        assert store.write_run(make_record())
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export(url: str, tmp_path: Path, fmt: str) -> None:
    with Store(url) as store:
        store.write_run(make_record())
        store.write_run(diverged_record())
        path = store.export(tmp_path / f"runs.{fmt}", format=fmt)
        expected = store.runs_frame()
        with pytest.raises(ValueError, match="unknown export format 'xlsx'; known: csv, parquet"):
            store.export(tmp_path / "runs.xlsx", format="xlsx")
    exported = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    assert list(exported.columns) == list(expected.columns)
    assert exported["run_id"].tolist() == ["run-a", "run-b"]


def _write_many(url: str, run_ids: list[str], barrier: object, results: object) -> None:
    try:
        with Store(url) as store:
            barrier.wait()  # start together, so the transactions really interleave
            results.put(sum(store.write_run(make_record(run_id)) for run_id in run_ids))
    except Exception as exc:  # report it rather than leave the parent waiting
        results.put(f"{type(exc).__name__}: {exc}")


def _write_concurrently(url: str, jobs: list[list[str]]) -> int:
    """Each job's runs written by its own process; the number of runs newly stored."""
    Store(url).close()  # initialised once, as the grid's parent process does
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    processes = [ctx.Process(target=_write_many, args=(url, ids, barrier, results)) for ids in jobs]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
    assert all(isinstance(n, int) for n in outcomes), outcomes
    return sum(outcomes)


def test_two_processes_write_one_sqlite_file(sqlite_url: str) -> None:
    shared = [f"shared-{i}" for i in range(10)]  # both write these: each must land once
    jobs = [[f"p0-{i}" for i in range(30)] + shared, [f"p1-{i}" for i in range(30)] + shared]
    assert _write_concurrently(sqlite_url, jobs) == 70
    with Store(sqlite_url) as store:
        assert store.completed_ids() == set(jobs[0]) | set(jobs[1])
        assert len(store.epochs_frame()) == 70 * 3


@pytest.mark.postgres
def test_two_processes_race_on_the_same_runs_in_postgres(pg_url: str) -> None:
    shared = [f"shared-{i}" for i in range(30)]
    assert _write_concurrently(pg_url, [shared, shared]) == 30
    with Store(pg_url) as store:
        assert store.completed_ids() == set(shared) and len(store.epochs_frame()) == 30 * 3
