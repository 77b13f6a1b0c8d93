"""Populations: runs of one cell trained as ONE model, every tensor with a leading member axis.

Each member keeps what it has alone: its initial weights (its net is built under its own
``torch.manual_seed``), its batch order (its own generator) and its Langevin noise stream (one
generator per member, drawn in parameter order). The population's kernels (``landau.stack_nets``)
compute every member's forward pass, loss, gradient and update with no reduction across members
and with each member's elements in the same vector lanes whatever the population
(``landau.batched.memberwise``), so a member's record is bitwise the same alone (a population of
one: the path every batchable run takes, ``training.fit`` included) or among any others, in any
order (tested). A member that diverges is recorded as diverged at that epoch and stops counting;
the others go on. The one exception is torch.compile: its generated kernels are not
member-invariant, so compiled runs always train alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence

import torch
from torch import nn

from landau import seed_cross_entropy, stack_nets, unstack_state_dict
from studies.data.datasets import DatasetSplits, batch_indices
from studies.experiment.config import RunConfig
from studies.experiment.models import (
    build_beta_update,
    build_loss,
    build_model,
    build_optimizer,
    landau_options,
    resolve_device,
    training_forward,
)
from studies.experiment.provenance import provenance
from studies.experiment.recording import (
    EVAL_CHUNK,
    chance,
    diagnose,
    make_record,
    mesh,
    predict,
    read_test_split,
    score_test_split,
)
from studies.store.records import EpochRecord, RunRecord

__all__ = ["batch_key", "batchable", "fit_seeds", "group_seeds"]


def batch_key(config: RunConfig) -> Hashable:
    """Configs with equal keys differ only in their training seed: they can share a model.
    Compiled runs never share one (torch.compile's kernels are not member-invariant)."""
    if config.compile:
        return config.run_id
    hashed = config.hashed()
    hashed.pop("seed"), hashed.pop("train_seed")
    return repr(sorted(hashed.items()))


def batchable(config: RunConfig) -> bool:
    """Torch runs, except the blog's sequential per-parameter gradients (one backward pass per
    parameter of one net: nothing to share across seeds) and Landau layers without the
    input-adaptive t term (the seed-batched layer implements the full layer only)."""
    if config.family == "sklearn":
        return False
    if config.family != "landau":
        return True
    options = landau_options(config)
    return options["gradients"] != "blog" and options["t_dynamic"]


def group_seeds(configs: Sequence[RunConfig], cap: int | None = None) -> list[list[RunConfig]]:
    """``configs`` in batches of at most ``cap`` seeds (None: all seeds of a cell); the order of
    first appearance is kept, and sklearn models (nothing to batch) run alone."""
    if cap is not None and (not isinstance(cap, int) or cap < 1):
        raise ValueError(f"`population >= 1` must hold, but got population={cap!r}")
    groups: dict[Hashable, list[RunConfig]] = {}
    for config in configs:
        key = batch_key(config) if batchable(config) else config.run_id
        groups.setdefault(key, []).append(config)
    size = cap or max((len(g) for g in groups.values()), default=1)
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def fit_seeds(
    configs: Sequence[RunConfig],
    data: DatasetSplits,
    *,
    evaluate_test: bool = True,
    on_epoch: Sequence[Callable[[int, float], None] | None] | None = None,
) -> list[RunRecord]:
    """Train the population ``configs`` (one :func:`batch_key`) on ``data``; one record each.
    ``on_epoch[s](epoch, val_accuracy)`` is called after each epoch member s completes (it may
    raise, e.g. optuna.TrialPruned: the exception propagates)."""
    keys = {batch_key(c) for c in configs}
    if on_epoch is not None and len(on_epoch) != len(configs):
        raise ValueError(
            f"on_epoch needs one callback per member ({len(configs)}), got {len(on_epoch)}"
        )
    if len(keys) != 1 or not batchable(configs[0]):
        raise ValueError("fit_seeds takes batchable configs that differ only in their seed")
    start = time.perf_counter()
    started = provenance()
    first = configs[0]
    device = resolve_device(first.device)
    nets, batch_gens, noise_gens = [], [], []
    for c in configs:  # exactly as each sequential run draws them
        torch.manual_seed(c.train_seed)
        nets.append(build_model(c, data.n_features, data.n_classes).to(device))
        batch_gens.append(torch.Generator().manual_seed(c.train_seed))
        noise_gens.append(torch.Generator(device=device).manual_seed(c.train_seed + 1))
    model = stack_nets(nets)
    forward = training_forward(first, model)  # the model, or compiled (--compile)
    gl_loss = build_loss(first)
    beta_update = build_beta_update(first, model)
    optimizer = build_optimizer(first, model, noise_gens)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_val, y_val = data.x_val.to(device), data.y_val.to(device)
    n_seeds = len(configs)
    field = first.family == "landau" and first.settings["beta_shape"] == "field"
    initial = _betas_per_seed(model, n_seeds)
    epochs: list[list[EpochRecord]] = [[] for _ in configs]
    alive = [True] * n_seeds
    for epoch in range(1, first.epochs + 1):
        model.train()
        sums = torch.zeros(n_seeds, 4, device=device)  # (S, [loss, quadratic, quartic, spatial])
        n_batches = 0
        orders = [
            batch_indices(len(y_train), first.params["batch_size"], generator=g) for g in batch_gens
        ]
        for idx in zip(*orders, strict=True):
            if len(idx[0]) < 2:  # BatchNorm cannot train on a single sample
                continue
            idx = torch.stack(idx).to(device)  # (S, B)
            out = forward(x_train[idx])  # (S, B, classes)
            if gl_loss is None:
                losses, terms, per_unit = seed_cross_entropy(out, y_train[idx]), None, None
            else:
                losses, terms, per_unit = gl_loss.evaluate_seeds(out, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # each seed's parameters get their own loss's gradient
            optimizer.step()
            if beta_update is not None:
                for layer in model.landau_layers.values():
                    force = per_unit if (field and layer is model.output_layer) else None
                    beta_update.step_seeds(layer.beta, force)
            sums[:, 0] += losses.detach()
            if terms is not None:
                sums[:, 1:] += terms
            n_batches += 1
        means = (sums / max(n_batches, 1)).tolist()
        finite = _finite_per_seed(model, n_seeds)
        val_pred = _predict_seeds(model, x_val, n_seeds)
        now = time.perf_counter() - start
        betas_now = _betas_per_seed(model, n_seeds)
        for s in range(n_seeds):
            if not alive[s]:
                continue
            if not (math.isfinite(means[s][0]) and finite[s]):
                alive[s] = False
                continue
            m = means[s] if gl_loss is not None else [means[s][0]] + [math.nan] * 3
            epochs[s].append(
                EpochRecord(
                    epoch=epoch,
                    train_loss=m[0],
                    loss_quadratic=m[1],
                    loss_quartic=m[2],
                    loss_spatial=m[3],
                    val_accuracy=float((val_pred[s] == y_val).float().mean()),
                    seconds=now,
                    betas=betas_now[s],
                )
            )
            if on_epoch is not None and on_epoch[s] is not None:
                on_epoch[s](epoch, epochs[s][-1].val_accuracy)
        if not any(alive):
            break
    test = read_test_split(data) if evaluate_test else None  # one read for the whole batch
    base_rate = chance(None if test is None else test[1], data.n_classes)
    seconds = time.perf_counter() - start
    nets_out = _unstacked(model, nets)
    records = []
    for s, config in enumerate(configs):
        run_epochs = epochs[s]
        share = seconds / n_seeds  # this run's share of the batch's wall time
        fields = dict(
            n_params=sum(q.numel() for q in nets_out[s].parameters()),
            epochs_run=len(run_epochs),
            initial_betas=initial[s],
            epoch_records=run_epochs,
            final_train_loss=run_epochs[-1].train_loss if run_epochs else None,
            seconds_per_epoch=share / len(run_epochs) if run_epochs else None,
            samples_per_second=len(y_train) * len(run_epochs) / share if run_epochs else None,
            seed_batch=n_seeds,
        )
        status, error = "ok", None
        if not alive[s]:
            status = "diverged"
            error = f"non-finite training loss or parameters at epoch {len(run_epochs) + 1}"
        else:
            fields["val_accuracy"] = run_epochs[-1].val_accuracy
            net = nets_out[s]
            if test is not None:
                pred = predict(net, test[0].to(device))
                fields.update(score_test_split(pred, test[1], base_rate["chance_accuracy"]))
                fields.update(diagnose(config, net, gl_loss, x_train, y_train))
            fields["mesh"] = mesh(data, lambda g, net=net: predict(net, g.to(device)))
        records.append(
            make_record(
                config,
                device,
                status=status,
                error=error,
                seconds=share,
                **fields,
                **started,
                **base_rate,
            )
        )
    return records


def _betas_per_seed(model: nn.Module, n_seeds: int) -> list[dict[str, list[float]]]:
    layers = getattr(model, "landau_layers", {})
    out: list[dict[str, list[float]]] = [{} for _ in range(n_seeds)]
    for name, layer in layers.items():
        values = layer.beta.detach().reshape(n_seeds, -1).tolist()  # (S, units)
        for s in range(n_seeds):
            out[s][name] = values[s]
    return out


def _finite_per_seed(model: nn.Module, n_seeds: int) -> list[bool]:
    ok = torch.ones(n_seeds, dtype=torch.bool)
    for q in model.parameters():
        ok &= torch.isfinite(q.detach().reshape(n_seeds, -1)).all(dim=1).cpu()
    return ok.tolist()


@torch.no_grad()
def _predict_seeds(model: nn.Module, x: torch.Tensor, n_seeds: int) -> torch.Tensor:
    """(S, N) predicted classes of every seed on the same inputs, in evaluation chunks."""
    model.eval()
    chunks = [
        model(x[i : i + EVAL_CHUNK].expand(n_seeds, -1, -1)).argmax(dim=-1)
        for i in range(0, len(x), EVAL_CHUNK)
    ]
    return torch.cat(chunks, dim=1)


def _unstacked(model: nn.Module, nets: list[nn.Module]) -> list[nn.Module]:
    """The S ordinary nets holding the batched net's final state (for evaluation)."""
    for net, state in zip(nets, unstack_state_dict(model.state_dict()), strict=True):
        net.load_state_dict(state)
    return nets
