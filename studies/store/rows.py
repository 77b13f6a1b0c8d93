"""Between records, table rows and DataFrames: JSON columns (non-finite floats kept as
``to_json_safe`` writes them), scalars every DBAPI driver accepts, and frames typed as
docs/data-model.md says (integer hyperparameters stay integers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from studies.store.records import EpochRecord, RunRecord, from_json_safe, to_json_safe
from studies.store.schema import _EPOCH_FLOATS, _RUN_DTYPES

__all__ = [
    "dumps",
    "epoch_record",
    "epoch_rows",
    "loads",
    "mesh_row",
    "params_columns",
    "plain",
    "run_row",
    "typed_frame",
]


def dumps(value: Any) -> str:
    return json.dumps(to_json_safe(value), allow_nan=False)


def loads(text: str) -> Any:
    return from_json_safe(json.loads(text))


def typed_frame(rows: Sequence[Sequence[Any]], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=list(dtypes)).astype(dtypes)


def plain(value: Any, dtype: str) -> Any:
    """Coerce numpy/torch scalars to what every DBAPI driver accepts."""
    if value is None or dtype == "str":
        return value
    if dtype in ("bool", "boolean"):
        return bool(value)
    return float(value) if dtype == "float64" else int(value)


def _readable(value: Any) -> Any:
    """``value``, or a float for an int past 64 bits (pandas' Int64 cannot hold it)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return float(value) if abs(value) < 2**1023 else (math.inf if value > 0 else -math.inf)
    return value


def params_columns(params: Sequence[dict], prefix: str, index: Any = None) -> pd.DataFrame:
    """One column ``<prefix><name>`` per parameter name of ``params`` (one dict per row), sorted
    by name, typed by the values present: Int64 when every one is an int (a run without the
    parameter is <NA>, not a float NaN that turns 64 into 64.0), boolean, float64, else object.
    An integer past 64 bits (stored before sizes had a maximum) is read as a float (±inf past a
    float's range) rather than failing every read and export of the store."""
    names = sorted({k for p in params for k in p})
    columns = {}
    for name in names:
        values = [_readable(p.get(name)) for p in params]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            dtype = "boolean"
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            dtype = "Int64"
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            dtype = "float64"
        else:
            dtype = "object"
        columns[prefix + name] = pd.Series(values, index=index, dtype=dtype)
    return pd.DataFrame(columns, index=index)


def run_row(record: RunRecord) -> dict[str, Any]:
    row = {n: plain(getattr(record, n), t) for n, t in _RUN_DTYPES.items()}
    row |= {"params": dumps(record.params), "config": dumps(record.config)}
    row |= {"initial_betas": dumps(record.initial_betas)}
    return row | {"created_at": datetime.now(UTC).replace(tzinfo=None)}


def epoch_rows(record: RunRecord) -> list[dict[str, Any]]:
    return [
        {"run_id": record.run_id, "epoch": int(e.epoch), "betas": dumps(e.betas)}
        | {n: plain(getattr(e, n), "float64") for n in _EPOCH_FLOATS}
        for e in record.epoch_records
    ]


def mesh_row(record: RunRecord) -> dict[str, Any]:
    return {"run_id": record.run_id, "payload": dumps(record.mesh)}


def epoch_record(row: Any) -> EpochRecord:
    losses = {n: float("nan") if row[n] is None else row[n] for n in _EPOCH_FLOATS}
    return EpochRecord(epoch=row["epoch"], betas=loads(row["betas"]), **losses)
