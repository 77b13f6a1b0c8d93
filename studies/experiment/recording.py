"""What every run hands back: the record, and the measurements taken at its end (accuracy,
the one read of the test split, collapse, the decision-boundary mesh), shared by the sequential
and the seed-batched training loops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from studies.data.datasets import DatasetSplits
from studies.experiment.config import RunConfig
from studies.experiment.diagnostics import landscape
from studies.experiment.fingerprint import git_state, run_fingerprint
from studies.experiment.models import ce_loss
from studies.store.records import RunRecord

__all__ = [
    "MESH_RESOLUTION",
    "accuracy",
    "betas",
    "chance",
    "diagnose",
    "make_record",
    "mesh",
    "predict",
    "read_test_split",
    "score_test_split",
]

MESH_RESOLUTION = 60
EVAL_CHUNK = 8192


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum(
        int((model(x[i : i + EVAL_CHUNK]).argmax(dim=1) == y[i : i + EVAL_CHUNK]).sum())
        for i in range(0, len(y), EVAL_CHUNK)
    )
    return correct / len(y)


def betas(model: nn.Module) -> dict[str, list[float]]:
    layers = getattr(model, "landau_layers", {})
    return {name: layer.beta.detach().reshape(-1).tolist() for name, layer in layers.items()}


# The error of a run that ran out of memory starts with this: such a run is not a result (the
# same run may fit with fewer workers, a smaller seed batch or another machine), so the grid
# does not store it and runs it again on resume.
OUT_OF_MEMORY = "out of memory (not stored; retried on resume): "


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed allocation: MemoryError (NumPy's included), torch's
    OutOfMemoryError (CUDA), or the CPU allocator's RuntimeError."""
    if isinstance(exc, MemoryError | torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text.lower() or "can't allocate memory" in text
    )


def failed_record(config: RunConfig, device: str, exc: BaseException, seconds: float) -> RunRecord:
    """The record of a run that raised ``exc``: ``failed``, or retryable when it ran out of
    memory (:func:`retryable`)."""
    prefix = OUT_OF_MEMORY if out_of_memory(exc) else ""
    error = f"{prefix}{type(exc).__name__}: {exc}"
    return make_record(config, device, status="failed", error=error, seconds=seconds)


def retryable(record: RunRecord) -> bool:
    """A run that failed for want of memory: not stored, run again on resume."""
    return record.status == "failed" and (record.error or "").startswith(OUT_OF_MEMORY)


def make_record(config: RunConfig, device: str, **fields) -> RunRecord:
    revision, dirty = git_state()
    base = dict(
        code_fingerprint=run_fingerprint(config),  # of the code in THIS (worker) process
        git_revision=revision,
        git_dirty=dirty,
        data_seed=config.data_seed,
        run_id=config.run_id,
        name=config.name,
        grid=config.grid,
        variant=config.variant,
        dataset=config.dataset,
        seed=config.seed,
        depth=config.depth,
        epochs=config.epochs,
        device=device,
        params=dict(config.params),
        params_source=config.params_source,
        study_name=config.study_name,
        trial_number=config.trial_number,
        sweep=config.sweep_text,
        config=config.as_dict(),
        error=None,
        val_accuracy=None,
        test_accuracy=None,
        final_train_loss=None,
        seconds_per_epoch=None,
        samples_per_second=None,
        n_params=0,
        epochs_run=0,
        initial_betas={},
        epoch_records=[],
        mesh=None,
    )
    base.update(fields)
    return RunRecord(**base)


def read_test_split(data: DatasetSplits) -> tuple[torch.Tensor, np.ndarray]:
    """The one read of the test split of a run: inputs (N, F) and labels (N,)."""
    return data.x_test, data.y_test.numpy()


def chance(y_test: np.ndarray | None, n_classes: int) -> dict:
    """The class count, and the test split's majority-class rate when its labels were read."""
    if y_test is None:
        return {"n_classes": int(n_classes)}
    counts = np.bincount(y_test, minlength=n_classes)
    return {"n_classes": int(n_classes), "chance_accuracy": float(counts.max() / counts.sum())}


def score_test_split(pred: np.ndarray, y_test: np.ndarray, chance_accuracy: float) -> dict:
    """Test accuracy, and whether the run collapsed: one predicted class for the whole test
    split, or an accuracy not above the majority-class rate."""
    acc = float((pred == y_test).mean())
    collapsed = len(np.unique(pred)) == 1 or acc <= chance_accuracy
    return {"test_accuracy": acc, "collapsed": bool(collapsed)}


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Predicted classes, in the same chunks as :func:`accuracy`."""
    model.eval()
    chunks = [model(x[i : i + EVAL_CHUNK]).argmax(dim=1) for i in range(0, len(x), EVAL_CHUNK)]
    return torch.cat(chunks).cpu().numpy()


def mesh(data: DatasetSplits, predict: Callable[[torch.Tensor], np.ndarray]) -> dict | None:
    if data.n_features != 2:
        return None
    _, _, grid = data.mesh(MESH_RESOLUTION)
    return {"x": grid[:, 0].tolist(), "y": grid[:, 1].tolist(), "pred": predict(grid).tolist()}


def diagnose(
    config: RunConfig, model: nn.Module, gl_loss, x_train: torch.Tensor, y_train: torch.Tensor
) -> dict:
    """Sharpness and Hessian trace of the training loss at ``model``'s final weights, within
    the config's diagnostics budget (see studies.experiment.diagnostics)."""

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ce_loss(out, y) if gl_loss is None else gl_loss.evaluate(out, y)[0]

    found = landscape(
        model,
        loss,
        x_train,
        y_train,
        batch_size=config.params["batch_size"],
        budget=config.diagnostics,
        seed=config.train_seed,
    )
    return {"sharpness": found.sharpness, "hessian_trace": found.hessian_trace}
