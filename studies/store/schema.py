"""Tables of the results store and the dtypes of the DataFrames read from them.

Columns follow docs/data-model.md ("Results store").
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SCHEMA_VERSION = 4  # 2: run columns below "added in 2", experiments tables; 3: code identity;
# 4: the population a run was trained in
_KIND = "landau-bench results store"

# DataFrame columns and dtypes, in the order of docs/data-model.md.
_KEY = {"run_id": "str", "variant": "str", "dataset": "str", "seed": "int64", "depth": "int64"}
_RUN_DTYPES = {
    "run_id": "str",
    "name": "str",
    "grid": "str",
    "variant": "str",
    "dataset": "str",
    "seed": "int64",
    "depth": "int64",
    "epochs": "int64",
    "status": "str",
    "error": "str",
    "val_accuracy": "float64",
    "test_accuracy": "float64",
    "final_train_loss": "float64",
    "seconds": "float64",
    "seconds_per_epoch": "float64",
    "samples_per_second": "float64",
    "n_params": "int64",
    "epochs_run": "int64",
    "device": "str",
    "params_source": "str",
    "study_name": "str",
    "trial_number": "Int64",
    # added in 2 (NULL in runs stored before; data_seed back-filled from the config)
    "data_seed": "Int64",
    "n_classes": "Int64",
    "chance_accuracy": "float64",
    "collapsed": "boolean",
    "sweep": "str",
    "sharpness": "float64",
    "hessian_trace": "float64",
    "suite_version": "str",
    "torch_version": "str",
    "python_version": "str",
    "platform": "str",
    "threads": "Int64",
    "load_avg": "float64",
    "seed_batch": "Int64",
    # added in 3 (NULL in runs stored before: their code is unknown, so a grid calls them stale)
    "code_fingerprint": "str",
    "git_revision": "str",
    "git_dirty": "boolean",
    # added in 4 (NULL in runs stored before: the composition was not recorded)
    "population": "str",
}
# Columns added to runs in version 2, with their SQL types (for the migration).
ADDED_IN_2: dict[str, Any] = {
    "data_seed": sa.Integer,
    "n_classes": sa.Integer,
    "chance_accuracy": sa.Float,
    "collapsed": sa.Boolean,
    "sweep": sa.Text,
    "sharpness": sa.Float,
    "hessian_trace": sa.Float,
    "suite_version": sa.Text,
    "torch_version": sa.Text,
    "python_version": sa.Text,
    "platform": sa.Text,
    "threads": sa.Integer,
    "load_avg": sa.Float,
    "seed_batch": sa.Integer,
}
# Columns added to runs in version 3: what code produced the run (studies.experiment.fingerprint).
ADDED_IN_3: dict[str, Any] = {
    "code_fingerprint": sa.Text,
    "git_revision": sa.Text,
    "git_dirty": sa.Boolean,
}
# Columns added to runs in version 4: the population (its members' run ids, in order, hashed)
# the run was trained in; ``seed_batch`` holds its size.
ADDED_IN_4: dict[str, Any] = {"population": sa.Text}
_EPOCH_FLOATS = ["train_loss", "loss_quadratic", "loss_quartic", "loss_spatial", "val_accuracy"]
_EPOCH_FLOATS += ["seconds"]
_EPOCH_DTYPES = _KEY | {"epoch": "int64"} | dict.fromkeys(_EPOCH_FLOATS, "float64")
_BETA_DTYPES = _KEY | {"epoch": "int64", "layer": "str", "unit": "int64", "beta": "float64"}
_MESH_DTYPES = _KEY | {"x": "float64", "y": "float64", "pred": "int64"}
_POINT_DTYPES = {"dataset": "str", "x": "float64", "y": "float64", "label": "int64"}
_RANKING_DTYPES = {"prediction": "str", "alpha": "float64", "gamma": "float64", "loss": "float64"}
_RANKING_DTYPES |= {"rank": "int64", "is_perfect": "bool"}


def _col(name: str, type_: Any, *args: Any, null: bool = False, **kwargs: Any) -> sa.Column:
    return sa.Column(name, type_, *args, nullable=null, **kwargs)


def _run_key() -> sa.Column:
    fk = sa.ForeignKey("runs.run_id", ondelete="CASCADE")
    return _col("run_id", sa.String(128), fk, primary_key=True)


_Str, _Int, _Float = sa.Text, sa.Integer, sa.Float
_md = sa.MetaData()
landau_meta = sa.Table(
    "landau_meta", _md, _col("key", sa.String(64), primary_key=True), _col("value", _Str)
)
runs = sa.Table(
    "runs",
    _md,
    _col("run_id", sa.String(128), primary_key=True),
    _col("name", _Str),
    _col("grid", _Str),
    _col("variant", _Str),
    _col("dataset", _Str),
    _col("seed", _Int),
    _col("depth", _Int),
    _col("epochs", _Int),
    _col("status", _Str),
    _col("error", _Str, null=True),
    _col("val_accuracy", _Float, null=True),
    _col("test_accuracy", _Float, null=True),
    _col("final_train_loss", _Float, null=True),
    _col("seconds", _Float),
    _col("seconds_per_epoch", _Float, null=True),
    _col("samples_per_second", _Float, null=True),
    _col("n_params", sa.BigInteger),
    _col("epochs_run", _Int),
    _col("device", _Str),
    _col("params_source", _Str),
    _col("study_name", _Str, null=True),
    _col("trial_number", _Int, null=True),
    _col("params", _Str),  # JSON
    _col("config", _Str),  # JSON
    _col("initial_betas", _Str),  # JSON: layer -> list of betas at epoch 0
    _col("created_at", sa.DateTime),  # UTC
    *(_col(name, type_, null=True) for name, type_ in ADDED_IN_2.items()),
    *(_col(name, type_, null=True) for name, type_ in ADDED_IN_3.items()),
    *(_col(name, type_, null=True) for name, type_ in ADDED_IN_4.items()),
    sa.CheckConstraint("status IN ('ok', 'diverged', 'failed')", name="runs_status"),
)
epochs = sa.Table(
    "epochs",
    _md,
    _run_key(),
    _col("epoch", _Int, sa.CheckConstraint("epoch >= 1", name="epochs_epoch"), primary_key=True),
    *(_col(name, _Float, null=True) for name in _EPOCH_FLOATS),  # NaN is NULL in SQLite
    _col("betas", _Str),  # JSON: layer -> list of betas
)
meshes = sa.Table("meshes", _md, _run_key(), _col("payload", _Str))  # JSON: x, y, pred lists
points = sa.Table(
    "points",
    _md,
    _col("dataset", sa.String(128), primary_key=True),
    _col("point", _Int, primary_key=True),
    _col("x", _Float),
    _col("y", _Float),
    _col("label", _Int),
)
loss_ranking = sa.Table(
    "loss_ranking",
    _md,
    _col("prediction", _Str),
    _col("alpha", _Float),
    _col("gamma", _Float),
    _col("loss", _Float, null=True),
    _col("rank", _Int),
    _col("is_perfect", sa.Boolean),
)
# An experiment names a set of runs and studies (a run shared by two experiments is stored once
# and belongs to both). Membership is recorded when a grid or tune starts, so it may name runs
# not stored yet: a report shows them as missing.
experiments = sa.Table(
    "experiments",
    _md,
    _col("name", sa.String(256), primary_key=True),
    _col("created_at", sa.DateTime),
    _col("updated_at", sa.DateTime),
    _col("description", _Str, null=True),
)
experiment_runs = sa.Table(
    "experiment_runs",
    _md,
    _col("experiment", sa.String(256), primary_key=True),
    _col("run_id", sa.String(128), primary_key=True),
)
experiment_studies = sa.Table(
    "experiment_studies",
    _md,
    _col("experiment", sa.String(256), primary_key=True),
    _col("study_name", sa.String(512), primary_key=True),
)
# The settings a grid asked for each member run under. A run is stored once, labelled with the
# setting (params_source) that first produced it; when another grid of the experiment asks for the
# same run under another setting (the tuned protocol, where tuning chose the blog's values: same
# parameters, same run id), the run belongs to that setting too. Additive: created on open in a
# schema-2 store (an older landau-bench ignores it and reports each run under its stored label).
run_settings = sa.Table(
    "run_settings",
    _md,
    _col("experiment", sa.String(256), primary_key=True),
    _col("run_id", sa.String(128), primary_key=True),
    _col("params_source", sa.String(512), primary_key=True),
    _col("study_name", _Str, null=True),
    _col("trial_number", _Int, null=True),
    _col("sweep", _Str, null=True),
)
