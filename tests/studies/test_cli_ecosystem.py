"""The everyday commands around the grid: --version, a fast `list`, --set overrides, exports
of every frame, compare, the plan line."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

import optuna
import pandas as pd
import pytest

from studies.cli import main
from studies.store.store import Store
from studies.tuning import open_storage

_HEAVY = ("torch", "sklearn", "optuna", "scipy", "pandas", "matplotlib")


def test_version_prints_the_suite_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("landau ")


def test_list_imports_neither_torch_nor_scikit_learn():
    """In a fresh interpreter: `landau list` prints the registry, the datasets with their
    descriptions and the grids, and leaves torch and scikit-learn unimported."""
    code = (
        "import json, sys\n"
        "from studies.cli import main\n"
        "status = main(['list'])\n"
        f"print(json.dumps([status, [m for m in {_HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    *listing, last = done.stdout.strip().splitlines()
    status, imported = json.loads(last)
    assert status == 0 and imported == []
    text = "\n".join(listing)
    for expected in ("full", "plain_mlp", "logreg", "two interleaving half-moons", "quick"):
        assert expected in text


# ---- --set KEY=VALUE ------------------------------------------------------------------------

TINY = """
name = "tiny"
variants = ["full", "logreg"]
datasets = ["moons"]
seeds = 1
depths = [1]
epochs = 1

[tuning]
trials = 1
epochs = 2
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return str(path)


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_set_overrides_reach_the_runs_as_their_declared_kinds(spec, tmp_path, capsys):
    db = str(tmp_path / "r.db")
    args = ["grid", spec, "--store", db, "--no-progress"]
    assert main([*args, "--set", "hidden=8", "--set", "temperature=0"]) == 0
    out = capsys.readouterr().out
    assert "plan: 2 runs (0 already stored), largest model ≈ " in out and "time unknown (no" in out
    assert "experiment 'tiny[hidden=8,temperature=0]'" in out
    with Store(db) as store:
        runs = store.runs_frame().set_index("variant")
        members, _ = store.experiment_members("tiny[hidden=8,temperature=0]")
    assert runs.loc["full", "hp_hidden"] == 8 and runs.loc["full", "hp_temperature"] == 0.0
    assert pd.isna(runs.loc["logreg", "hp_hidden"])  # logreg takes neither: left alone
    assert set(runs["run_id"]) == members
    # the same overrides again: nothing to do, and the plan says so
    assert main([*args, "--set", "temperature=0.0", "--set", "hidden=8"]) == 0
    assert "plan: 2 runs (2 already stored); nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize(
    "item, message",
    [
        ("nosuch=1", "unknown parameter 'nosuch' in --set nosuch=…; the grid's variants take: C,"),
        ("hidden=0", "`1 <= hidden <= 16384` must hold, but got hidden=0"),
        ("hidden=2.5", "`hidden` must be an integer"),
        ("hidden=abc", "VALUE must be a TOML literal"),
        ("hidden", "--set takes KEY=VALUE"),
    ],
)
def test_set_refuses_bad_overrides_with_exit_2(spec, tmp_path, capsys, item, message):
    db = tmp_path / "r.db"
    assert main(["grid", spec, "--store", str(db), "--no-progress", "--set", item]) == 2
    assert message in _err(capsys)
    assert not db.exists()


def test_tune_set_fixes_an_untuned_parameter_and_names_it_in_the_study(spec, tmp_path, capsys):
    db = str(tmp_path / "r.db")
    common = ["--store", db, "--no-progress"]
    # a tuned parameter cannot be fixed: the tuned value would replace it
    assert main(["tune", spec, *common, "--set", "temperature=0"]) == 2
    assert "temperature is tuned for full" in _err(capsys)
    assert main(["grid", spec, *common, "--tuned", "--set", "lr=0.1"]) == 2
    assert "--set lr=… with --tuned: lr is tuned for full, so" in _err(capsys)
    assert main(["tune", spec, *common, "--set", "hidden=8", "--seeds", "2"]) == 2
    assert "--seeds has no meaning for `landau tune`" in _err(capsys)

    assert main(["tune", spec, *common, "--set", "hidden=8"]) == 0
    out = capsys.readouterr().out
    assert "plan: 2 studies × 1 trials of 2 epochs" in out
    assert ",hidden=8]: best" in out  # full's study is another study than without --set
    studies = {s.study_name: s for s in open_storage(db).get_all_studies()}
    full = next(s for n, s in studies.items() if n.startswith("full["))
    assert full.study_name.endswith(",hidden=8]") and full.user_attrs["fixed"] == {"hidden": 8}
    logreg = next(n for n in studies if n.startswith("logreg["))
    assert "hidden" not in logreg  # a parameter logreg does not take leaves its study alone

    # the grid finds the studies with the same fixed parameters, and no others
    assert main(["grid", spec, *common, "--tuned"]) == 2
    assert "1 of 2 studies" in _err(capsys)
    assert main(["grid", spec, *common, "--tuned", "--set", "hidden=8"]) == 0
    with Store(db) as store:
        runs = store.runs_frame().set_index("variant")
    assert runs.loc["full", "hp_hidden"] == 8
    assert runs.loc["full", "params_source"].startswith("study:full[")


def test_tuned_epochs_takes_another_budget_and_the_error_names_it(spec, tmp_path, capsys):
    db = str(tmp_path / "r.db")
    common = ["--store", db, "--no-progress"]
    assert main(["tune", spec, *common, "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main(["grid", spec, *common, "--tuned"]) == 2
    assert "tuned with 1 epochs per trial (take those with --tuned-epochs 1)" in _err(capsys)
    assert main(["grid", spec, *common, "--tuned", "--tuned-epochs", "1"]) == 0
    assert "the best trials of 2 studies tuned with 1 epochs/trial" in capsys.readouterr().out
    assert main(["grid", spec, *common, "--tuned-epochs", "1"]) == 2
    assert "--tuned-epochs goes with --tuned" in _err(capsys)


# ---- landau export --------------------------------------------------------------------------


@pytest.fixture
def stored(spec, tmp_path):
    """A store with two experiments (tiny, tiny[hidden=8]) of 2 runs each (logreg's run, which
    takes no hidden, is one run in both), and 2 studies."""
    db = str(tmp_path / "results" / "r.db")
    (tmp_path / "results").mkdir()
    common = ["--store", db, "--no-progress"]
    assert main(["grid", spec, *common]) == 0
    assert main(["grid", spec, *common, "--set", "hidden=8"]) == 0
    assert main(["tune", spec, *common]) == 0
    return db


def test_export_writes_every_frame_with_its_dtypes_beside_the_store(stored, tmp_path, capsys):
    capsys.readouterr()
    assert main(["export", "--store", stored]) == 0
    out = tmp_path / "results" / "export" / "all"  # the default: never the current folder
    assert f"wrote 10 parquet files to {out}/" in capsys.readouterr().out
    frames = {p.stem: pd.read_parquet(p) for p in out.glob("*.parquet")}
    assert set(frames) == {
        "runs", "epochs", "betas", "meshes", "points", "loss_ranking", "trials",
        "experiments", "experiment_members", "run_settings",
    }  # fmt: skip
    runs = frames["runs"]
    assert len(runs) == 4 and runs["run_id"].nunique() == 3  # logreg's run: in both experiments
    assert len(frames["trials"]) == 2 and len(frames["experiments"]) == 2
    assert str(runs["hp_hidden"].dtype) == "Int64" and str(runs["hp_max_iter"].dtype) == "Int64"
    assert sorted(runs["hp_hidden"].dropna()) == [8, 156]
    assert str(runs["seed"].dtype) == "int64" and str(runs["hp_lr"].dtype) == "float64"
    assert len(frames["epochs"]) == 3 and len(frames["betas"]) > 0  # 1 epoch x 3 runs
    assert set(frames["experiment_members"]["kind"]) == {"run", "study"}
    settings = frames["run_settings"]  # each experiment's 2 runs, at the grid's defaults
    assert len(settings) == 4 and set(settings["experiment"]) == set(frames["experiments"]["name"])
    assert set(settings["params_source"]) == {"defaults"}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_of_one_experiment_keeps_integers_integers(stored, tmp_path, fmt):
    out = tmp_path / "one"
    args = ["export", "--store", stored, "--format", fmt, "--out", str(out)]
    assert main([*args, "--experiment", "tiny[hidden=8]"]) == 0
    path = out / f"runs.{fmt}"
    if fmt == "json":
        rows = {r["variant"]: r for r in json.loads(path.read_text())}
        assert rows["full"]["hp_hidden"] == 8 and isinstance(rows["full"]["hp_hidden"], int)
        assert rows["logreg"]["hp_hidden"] is None and rows["logreg"]["hp_max_iter"] == 200
    else:
        text = path.read_text()
        assert ",8," in text and ",8.0," not in text and ",200," in text
    experiments = pd.read_csv(out / f"experiments.{fmt}") if fmt == "csv" else None
    assert experiments is None or list(experiments["name"]) == ["tiny[hidden=8]"]
    assert main([*args, "--format", "xlsx"]) == 2


# ---- landau tune --scheduler ----------------------------------------------------------------


@pytest.mark.slow
def test_tune_on_a_dask_local_cluster_shares_the_storage(spec, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    db = str(tmp_path / "r.db")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        args = ["tune", spec, "--store", db, "--no-progress", "--trials", "2"]
        assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    out = capsys.readouterr().out
    assert "2 studies: 4 trials run now, in " in out
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    for study in storage.get_all_studies():  # each worker wrote its study's trials
        trials = storage.get_all_trials(storage.get_study_id_from_name(study.study_name))
        assert len(trials) == 2 and all(t.state.is_finished() for t in trials)
    other = tmp_path / "other.db"
    for command in (args, ["grid", spec, "--store", str(other)]):  # refused before any change
        assert main([*command, "--scheduler", "tcp://127.0.0.1:9"]) == 2
        assert "cannot reach the Dask scheduler" in _err(capsys)
    assert not other.exists()


# ---- landau compare -------------------------------------------------------------------------


@pytest.mark.slow
def test_compare_two_experiments_writes_table_and_figure(stored, tmp_path, capsys):
    capsys.readouterr()
    assert main(["compare", "tiny", "tiny[hidden=8]", "--store", stored]) == 0
    out = capsys.readouterr().out
    assert "compare 'tiny[hidden=8]' − 'tiny' (paired): 2 matched pairs of runs in 2" in out
    folder = tmp_path / "results" / "compare" / "tiny_vs_tiny_hidden=8"
    cells = pd.read_csv(folder / "compare_cells.csv").set_index("variant")
    assert cells.loc["logreg", "diff_pp"] == 0  # one run, in both experiments
    assert set(cells.index) == {"full", "logreg"} and (folder / "compare.png").stat().st_size
    # B in another store: the same runs, copied
    other = tmp_path / "other.db"
    shutil.copy(stored, other)
    args = ["compare", "tiny", "tiny", "--store", stored, "--store-b", str(other)]
    assert main([*args, "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "compare_pooled.csv").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["tiny", "tiny"], "A and B are the same experiment 'tiny'"),
        (["tiny", "nosuch"], "unknown experiment 'nosuch'; known: tiny, tiny[hidden=8]"),
    ],
)
def test_compare_bad_input_is_exit_2(stored, capsys, args, message):
    capsys.readouterr()
    assert main(["compare", *args, "--store", stored]) == 2
    assert message in _err(capsys)


# ---- optuna-dashboard (the `dashboard` extra) -------------------------------------------------


def test_optuna_dashboard_lists_the_studies_of_the_store(stored):
    dashboard = pytest.importorskip("optuna_dashboard", reason="the `dashboard` extra")
    import io
    import wsgiref.util

    from studies.cli.dashboard import storage_for

    # what `landau dashboard --store …` serves: the store's own Optuna storage object
    args = argparse.Namespace(store=stored, storage=None)
    app = dashboard.wsgi(storage_for(args))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/studies", "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith("200")
    names = {s["study_name"] for s in json.loads(body)["study_summaries"]}
    assert {n.split("[")[0] for n in names} == {"full", "logreg"}


# ---- run and report: --set refused where tuning decides, progress of the report ---------------


def test_run_refuses_to_set_a_tuned_parameter(spec, tmp_path, capsys):
    db = tmp_path / "r.db"
    assert main(["run", spec, "--store", str(db), "--set", "temperature=0"]) == 2
    assert "--set temperature=… with `landau run` (it tunes): temperature is tuned" in _err(capsys)
    assert not db.exists()


@pytest.mark.slow
def test_report_names_each_section_as_it_builds_it(stored, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "report"
    assert main(["report", "--store", stored, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()  # stdout: stderr is for errors
    stages = [line for line in lines if line.startswith("report: ")]
    assert stages[0].startswith("report: reading the runs and studies")
    sections = [line for line in stages if line.startswith("report: section ")]
    n = int(sections[0].split("/")[1].split(":")[0])
    assert len(sections) == n and sections[-1].startswith(f"report: section {n}/{n}: ")
    assert (out / "index.html").is_file()
