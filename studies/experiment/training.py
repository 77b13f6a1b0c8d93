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
from studies.experiment.models import (
    build_beta_update,
    build_loss,
    build_model,
    build_optimizer,
    ce_loss,
    count_parameters,
    landau_options,
    resolve_device,
    training_forward,
)
from studies.experiment.provenance import provenance
from studies.experiment.recording import (
    accuracy,
    betas,
    chance,
    diagnose,
    failed_record,
    make_record,
    mesh,
    predict,
    read_test_split,
    score_test_split,
)
from studies.store.records import EpochRecord, RunRecord

EpochCallback = Callable[[int, float], None]


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
        data = data or load_dataset(
            config.dataset,
            data_seed=config.data_seed,
            data_dir=data_dir,
            custom=config.custom_dataset,
        )
        return fit(config, data, evaluate_test=evaluate_test)
    except Exception as exc:  # out of memory: a retryable record, see failed_record
        device = "cpu" if config.device == "auto" else config.device
        return failed_record(config, device, exc, time.perf_counter() - start)


def train_seeds(
    configs: list[RunConfig], *, data_dir: str | None = None, data: DatasetSplits | None = None
) -> list[RunRecord]:
    """:func:`train` for the runs of one population, as one model (each member on its own data
    split); an exception makes every run of it a ``failed`` record (the same boundary)."""
    from studies.experiment.seed_batch import fit_seeds

    start = time.perf_counter()
    first = configs[0]
    try:
        splits = data or {
            seed: load_dataset(
                first.dataset, data_seed=seed, data_dir=data_dir, custom=first.custom_dataset
            )
            for seed in dict.fromkeys(c.data_seed for c in configs)
        }
        return fit_seeds(configs, splits)
    except Exception as exc:
        seconds = (time.perf_counter() - start) / len(configs)
        device = "cpu" if first.device == "auto" else first.device
        return [failed_record(c, device, exc, seconds) for c in configs]


def fit(
    config: RunConfig,
    data: DatasetSplits,
    *,
    evaluate_test: bool = True,
    on_epoch: EpochCallback | None = None,
    sequential: bool = False,
) -> RunRecord:
    """Train ``config`` on ``data``: an ``ok`` or ``diverged`` record; exceptions propagate
    (``on_epoch(epoch, val_accuracy)`` may raise, e.g. optuna.TrialPruned).

    A batchable run trains as a population of one (the kernels it would share with others, so
    the same bits as in any population); ``sequential=True`` takes the plain one-net loop
    instead, the reference the population kernels are tested against (float rounding apart)."""
    from studies.experiment.seed_batch import batchable, fit_seeds, population_id

    if batchable(config) and not sequential:
        return fit_seeds([config], data, evaluate_test=evaluate_test, on_epoch=[on_epoch])[0]
    start = time.perf_counter()
    started = provenance()  # the load average at the start, not at the end
    device = resolve_device(config.device)
    if config.family == "sklearn":
        record = _train_sklearn(config, data, start, evaluate_test, on_epoch)
        return dataclasses.replace(record, **started)
    setup = _build(config, data, device)
    initial_betas, epochs = betas(setup.model), []
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
        seed_batch=1,
        population=population_id([config]),
    )
    test = read_test_split(data) if evaluate_test else None  # the one read of the test split
    base_rate = chance(None if test is None else test[1], data.n_classes)
    if status == "ok":
        fields["val_accuracy"] = epochs[-1].val_accuracy
        fields.update(_evaluate(setup, data, test, base_rate))
    return make_record(
        config,
        device,
        status=status,
        error=error,
        seconds=time.perf_counter() - start,
        **fields,
        **started,
        **base_rate,
    )


@dataclass
class _Setup:
    """Everything one torch run trains with (built once, from the config)."""

    config: RunConfig
    model: nn.Module
    forward: nn.Module  # the model, or the model under torch.compile (training only)
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
        forward=training_forward(config, model),
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
        out = s.forward(s.x_train[idx])  # (B, classes)
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
        betas=betas(s.model),
    )


def _evaluate(s: _Setup, data: DatasetSplits, test, base_rate: dict) -> dict:
    """Test accuracy and collapse (when the test split was read), the loss-landscape
    diagnostics (not for tuning trials, which read no test split) and the boundary mesh."""
    fields = {}
    if test is not None:
        pred = predict(s.model, test[0].to(s.device))
        fields.update(score_test_split(pred, test[1], base_rate["chance_accuracy"]))
        fields.update(diagnose(s.config, s.model, s.gl_loss, s.x_train, s.y_train))
    fields["mesh"] = mesh(data, lambda g: predict(s.model, g.to(s.device)))
    return fields


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
    test, base_rate = {}, chance(None, data.n_classes)
    if evaluate_test:
        x_test, y_test = read_test_split(data)  # the one read of the test split
        base_rate = chance(y_test, data.n_classes)
        pred = model.predict(x_test.numpy())
        test = score_test_split(pred, y_test, base_rate["chance_accuracy"])
    return make_record(
        config,
        "cpu",
        status="ok",
        val_accuracy=val_acc,
        **test,
        **base_rate,
        final_train_loss=train_loss,
        seconds=time.perf_counter() - start,
        seconds_per_epoch=seconds,
        samples_per_second=len(y_train) / seconds,
        n_params=int(model.coef_.size + model.intercept_.size),
        epochs_run=1,
        epoch_records=[epoch],
        mesh=mesh(data, lambda g: model.predict(g.numpy())),
    )
