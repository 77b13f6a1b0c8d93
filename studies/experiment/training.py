"""The training loop: (config, data) -> RunRecord. One function for every variant.

Status: ``ok``; ``diverged`` when the training loss (or a parameter) becomes NaN/inf — training
stops, the epochs so far are kept, no exception escapes; ``failed`` with the exception's text.
The test split is read once, after the last epoch (never by tuning: ``evaluate_test=False``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from baselines import fit_logreg
from landau import AllenCahn, GinzburgLandauLoss, blog_sequential_step
from studies.data.datasets import DatasetSplits, batch_indices, load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.diagnostics import landscape
from studies.experiment.models import (
    build_beta_update,
    build_loss,
    build_model,
    build_optimizer,
    ce_loss,
    count_parameters,
    landau_options,
    resolve_device,
)
from studies.experiment.provenance import provenance
from studies.store.records import EpochRecord, RunRecord

EpochCallback = Callable[[int, float], None]
MESH_RESOLUTION = 60
_EVAL_CHUNK = 8192


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum(
        int((model(x[i : i + _EVAL_CHUNK]).argmax(dim=1) == y[i : i + _EVAL_CHUNK]).sum())
        for i in range(0, len(y), _EVAL_CHUNK)
    )
    return correct / len(y)


def _betas(model: nn.Module) -> dict[str, list[float]]:
    layers = getattr(model, "landau_layers", {})
    return {name: layer.beta.detach().reshape(-1).tolist() for name, layer in layers.items()}


def _record(config: RunConfig, device: str, **fields) -> RunRecord:
    base = dict(
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


def train(
    config: RunConfig,
    *,
    data_dir: str | None = None,
    data: DatasetSplits | None = None,
    evaluate_test: bool = True,
) -> RunRecord:
    """Train ``config`` and return its record. This is the one boundary where an exception
    becomes a ``failed`` record (a failed run is a result, not a crash of the grid); callers
    that want the exception itself (tuning) call :func:`fit`."""
    start = time.perf_counter()
    try:
        data = data or load_dataset(config.dataset, data_seed=config.data_seed, data_dir=data_dir)
        return fit(config, data, evaluate_test=evaluate_test)
    except Exception as exc:
        return _record(
            config,
            "cpu" if config.device == "auto" else config.device,
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - start,
        )


def fit(
    config: RunConfig,
    data: DatasetSplits,
    *,
    evaluate_test: bool = True,
    on_epoch: EpochCallback | None = None,
) -> RunRecord:
    """Train ``config`` on ``data``: an ``ok`` or ``diverged`` record; exceptions propagate
    (``on_epoch(epoch, val_accuracy)`` may raise, e.g. optuna.TrialPruned)."""
    start = time.perf_counter()
    started = provenance()  # the load average at the start, not at the end
    device = resolve_device(config.device)
    if config.family == "sklearn":
        record = _train_sklearn(config, data, start, evaluate_test, on_epoch)
        return dataclasses.replace(record, **started, **_chance(data, evaluate_test))
    setup = _build(config, data, device)
    initial_betas, epochs = _betas(setup.model), []
    status, error = "ok", None
    for epoch in range(1, config.epochs + 1):
        means = _train_epoch(setup)
        if not _finite(means[0], setup.model):
            status, error = "diverged", f"non-finite training loss or parameters at epoch {epoch}"
            break
        val_acc = accuracy(setup.model, setup.x_val, setup.y_val)
        epochs.append(_epoch_record(epoch, means, val_acc, time.perf_counter() - start, setup))
        if on_epoch is not None:
            on_epoch(epoch, val_acc)
    train_seconds = time.perf_counter() - start
    fields = dict(
        n_params=count_parameters(setup.model),
        epochs_run=len(epochs),
        initial_betas=initial_betas,
        epoch_records=epochs,
        final_train_loss=epochs[-1].train_loss if epochs else None,
        seconds_per_epoch=train_seconds / len(epochs) if epochs else None,
        samples_per_second=len(setup.y_train) * len(epochs) / train_seconds if epochs else None,
    )
    if status == "ok":
        fields["val_accuracy"] = epochs[-1].val_accuracy
        fields.update(_evaluate(setup, data, evaluate_test))
    return _record(
        config,
        device,
        status=status,
        error=error,
        seconds=time.perf_counter() - start,
        **fields,
        **started,
        **_chance(data, evaluate_test),
    )


@dataclass
class _Setup:
    """Everything one torch run trains with (built once, from the config)."""

    config: RunConfig
    model: nn.Module
    gl_loss: GinzburgLandauLoss | None
    beta_update: AllenCahn | None
    optimizer: torch.optim.Optimizer
    batch_gen: torch.Generator
    x_train: torch.Tensor  # (N, F)
    y_train: torch.Tensor  # (N,)
    x_val: torch.Tensor
    y_val: torch.Tensor
    device: str
    blog_order: list | None = None  # parameters in the blog's order (gradients="blog")

    @property
    def field_out_layer(self) -> nn.Module | None:
        """The output layer when β is a field (it takes the per-unit loss force)."""
        c = self.config
        if c.family == "landau" and c.settings["beta_shape"] == "field":
            return self.model.output_layer
        return None


def _build(config: RunConfig, data: DatasetSplits, device: str) -> _Setup:
    # Threads and denormal flushing are process-wide: set at process start-up
    # (studies.experiment.process.init_process), not here.
    torch.manual_seed(config.train_seed)  # initial weights
    batch_gen = torch.Generator().manual_seed(config.train_seed)
    noise_gen = torch.Generator(device=device).manual_seed(config.train_seed + 1)
    model = build_model(config, data.n_features, data.n_classes).to(device)
    blog = config.family == "landau" and landau_options(config)["gradients"] == "blog"
    return _Setup(
        config=config,
        model=model,
        gl_loss=build_loss(config),
        beta_update=build_beta_update(config, model),
        optimizer=build_optimizer(config, model, noise_gen),
        batch_gen=batch_gen,
        x_train=data.x_train.to(device),
        y_train=data.y_train.to(device),
        x_val=data.x_val.to(device),
        y_val=data.y_val.to(device),
        device=device,
        blog_order=model.blog_parameters() if blog else None,
    )


def _train_epoch(s: _Setup) -> list[float]:
    """One pass over the training split; the mean loss and the GL terms (NaN for CE)."""
    s.model.train()
    sums = torch.zeros(4, device=s.device)  # loss, quadratic, quartic, spatial
    n_batches = 0
    out_layer = s.field_out_layer
    batch_size = s.config.params["batch_size"]
    for idx in batch_indices(len(s.y_train), batch_size, generator=s.batch_gen):
        if len(idx) < 2:  # BatchNorm cannot train on a single sample
            continue
        idx = idx.to(s.device)
        out = s.model(s.x_train[idx])  # (B, classes)
        if s.gl_loss is None:
            loss, terms, per_unit = ce_loss(out, s.y_train[idx]), None, None
        elif s.blog_order is not None:  # a plain graph: backward runs once per parameter
            _, terms, per_unit = s.gl_loss.evaluate(out.detach(), s.y_train[idx])
            loss = s.gl_loss(out, s.y_train[idx])
        else:
            loss, terms, per_unit = s.gl_loss.evaluate(out, s.y_train[idx])
        if s.blog_order is not None:  # the blog's sequential per-parameter gradients
            blog_sequential_step(s.optimizer, loss, s.blog_order)
        else:
            s.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            s.optimizer.step()
        if s.beta_update is not None:
            for layer in s.model.landau_layers.values():
                s.beta_update.step(layer.beta, per_unit if layer is out_layer else None)
        sums[0] += loss.detach()
        if terms is not None:
            sums[1:] += terms
        n_batches += 1
    means = (sums / max(n_batches, 1)).tolist()
    if s.gl_loss is None:
        means[1:] = [math.nan] * 3
    return means


def _finite(loss: float, model: nn.Module) -> bool:
    return math.isfinite(loss) and all(bool(torch.isfinite(q).all()) for q in model.parameters())


def _epoch_record(epoch: int, means: list[float], val_acc: float, seconds: float, s: _Setup):
    return EpochRecord(
        epoch=epoch,
        train_loss=means[0],
        loss_quadratic=means[1],
        loss_quartic=means[2],
        loss_spatial=means[3],
        val_accuracy=val_acc,
        seconds=seconds,
        betas=_betas(s.model),
    )


def _evaluate(s: _Setup, data: DatasetSplits, evaluate_test: bool) -> dict:
    """The one read of the test split (accuracy and collapse), the loss-landscape diagnostics
    (not for tuning trials) and the decision-boundary mesh."""
    fields = {}
    if evaluate_test:
        pred = _predict(s.model, data.x_test.to(s.device))
        fields.update(_test_fields(pred, data))
        found = landscape(
            s.model,
            _loss_fn(s),
            s.x_train,
            s.y_train,
            batch_size=s.config.params["batch_size"],
            budget=s.config.diagnostics,
            seed=s.config.train_seed,
        )
        fields.update(sharpness=found.sharpness, hessian_trace=found.hessian_trace)
    fields["mesh"] = _mesh(data, lambda g: _predict(s.model, g.to(s.device)))
    return fields


def _loss_fn(s: _Setup) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss of ``s`` as a function of (output, target)."""
    if s.gl_loss is None:
        return ce_loss
    return lambda out, y: s.gl_loss.evaluate(out, y)[0]


def _chance(data: DatasetSplits, evaluate_test: bool = True) -> dict:
    """The test split's class count and majority-class rate (labels only; no model involved);
    nothing for tuning trials, which never read the test split."""
    if not evaluate_test:
        return {}
    counts = np.bincount(data.y_test.numpy(), minlength=data.n_classes)
    return {"n_classes": int(data.n_classes), "chance_accuracy": float(counts.max() / counts.sum())}


def _test_fields(pred: np.ndarray, data: DatasetSplits) -> dict:
    """Test accuracy, and whether the run collapsed: one predicted class for the whole test
    split, or an accuracy not above the majority-class rate."""
    y = data.y_test.numpy()
    acc = float((pred == y).mean())
    collapsed = len(np.unique(pred)) == 1 or acc <= _chance(data)["chance_accuracy"]
    return {"test_accuracy": acc, "collapsed": bool(collapsed)}


@torch.no_grad()
def _predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Predicted classes, in the same chunks as :func:`accuracy`."""
    model.eval()
    chunks = [model(x[i : i + _EVAL_CHUNK]).argmax(dim=1) for i in range(0, len(x), _EVAL_CHUNK)]
    return torch.cat(chunks).cpu().numpy()


def _mesh(data: DatasetSplits, predict: Callable[[torch.Tensor], np.ndarray]) -> dict | None:
    if data.n_features != 2:
        return None
    _, _, grid = data.mesh(MESH_RESOLUTION)
    return {"x": grid[:, 0].tolist(), "y": grid[:, 1].tolist(), "pred": predict(grid).tolist()}


def _train_sklearn(config, data, start, evaluate_test, on_epoch) -> RunRecord:
    p = config.params
    x_train, y_train = data.x_train.numpy(), data.y_train.numpy()
    model = fit_logreg(
        x_train,
        y_train,
        C=p["C"],
        max_iter=p["max_iter"],
        seed=config.train_seed % 2**31,
    )
    proba = model.predict_proba(x_train)
    train_loss = float(
        -np.log(np.clip(proba[np.arange(len(y_train)), y_train], 1e-12, None)).mean()
    )
    val_acc = float((model.predict(data.x_val.numpy()) == data.y_val.numpy()).mean())
    seconds = time.perf_counter() - start
    epoch = EpochRecord(
        epoch=1,
        train_loss=train_loss,
        loss_quadratic=math.nan,
        loss_quartic=math.nan,
        loss_spatial=math.nan,
        val_accuracy=val_acc,
        seconds=seconds,
        betas={},
    )
    if on_epoch is not None:
        on_epoch(1, val_acc)
    test = _test_fields(model.predict(data.x_test.numpy()), data) if evaluate_test else {}
    return _record(
        config,
        "cpu",
        status="ok",
        val_accuracy=val_acc,
        **test,
        final_train_loss=train_loss,
        seconds=time.perf_counter() - start,
        seconds_per_epoch=seconds,
        samples_per_second=len(y_train) / seconds,
        n_params=int(model.coef_.size + model.intercept_.size),
        epochs_run=1,
        epoch_records=[epoch],
        mesh=_mesh(data, lambda g: model.predict(g.numpy())),
    )
