"""``--compile``: torch.compile of the training forward pass, a run option that is part of the
run's id (compiled kernels round differently from eager ones)."""

from __future__ import annotations

import shutil

import pytest
import torch

from studies.data.datasets import load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.runner import run_grid
from studies.experiment.seed_batch import fit_seeds
from studies.experiment.training import train
from studies.store.store import Store


def test_compiled_runs_have_their_own_ids_and_eager_ids_are_unchanged():
    eager = RunConfig("full", "moons", 0, 2, 3)
    compiled = RunConfig("full", "moons", 0, 2, 3, compile=True)
    assert compiled.run_id != eager.run_id
    assert "compile" not in eager.hashed()  # ids stored before the option existed still match
    assert compiled.name == eager.name and compiled.train_seed == eager.train_seed


@pytest.mark.parametrize(
    "kwargs, rule",
    [({"variant": "logreg", "compile": True}, "needs a torch variant"), ({"compile": 1}, "True")],
)
def test_bad_compile_values_are_refused(kwargs, rule):
    base = {"variant": "full", "dataset": "moons", "seed": 0, "depth": 1, "epochs": 1}
    with pytest.raises(ValueError, match=rule):
        RunConfig(**{**base, **kwargs})


@pytest.mark.slow  # compiling takes 10-100 s on 2 loaded cores
@pytest.mark.skipif(shutil.which("g++") is None, reason="inductor on CPU needs a C++ compiler")
def test_compiled_grid_run_matches_eager_within_float_rounding(tmp_path):
    """run_grid(compile=True) trains the torch runs compiled (own ids; logreg untouched) and their
    per-epoch losses follow the eager run's to float rounding (1e-4 relative over 3 epochs)."""
    eager = train(RunConfig("full", "moons", 0, 2, 3))
    runs = [RunConfig("full", "moons", 0, 2, 3), RunConfig("logreg", "moons", 0, 1, 1)]
    torch._dynamo.reset()
    try:
        with Store(tmp_path / "c.db") as store:
            summary = run_grid(runs, store, progress=False, compile=True)
            frame, epochs = store.runs_frame(), store.epochs_frame()
    finally:
        torch._dynamo.reset()
    assert summary.counts["ok"] == 2
    compiled_id = RunConfig("full", "moons", 0, 2, 3, compile=True).run_id
    assert set(frame["run_id"]) == {compiled_id, runs[1].run_id}
    losses = epochs.loc[epochs["run_id"] == compiled_id, "train_loss"].tolist()
    assert losses == pytest.approx([e.train_loss for e in eager.epoch_records], rel=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="inductor on CPU needs a C++ compiler")
def test_compiled_seed_batch_matches_eager_seed_batch():
    data = load_dataset("moons")
    eager = fit_seeds([RunConfig("full", "moons", s, 2, 2) for s in range(2)], data)
    torch._dynamo.reset()
    try:
        # compiled runs never share a population (inductor's kernels are not member-invariant)
        compiled = [
            fit_seeds([RunConfig("full", "moons", s, 2, 2, compile=True)], data)[0]
            for s in range(2)
        ]
    finally:
        torch._dynamo.reset()
    for e, c in zip(eager, compiled, strict=True):
        assert c.status == e.status == "ok"
        got = [r.train_loss for r in c.epoch_records]
        assert got == pytest.approx([r.train_loss for r in e.epoch_records], rel=1e-4)
