"""Populations: runs of one cell trained as ONE model, every tensor with a leading member axis.

Each member keeps what it has alone: its initial weights (its net is built under its own
``torch.manual_seed``), its batch order (its own generator) and its Langevin noise stream (one
generator per member, drawn in parameter order). The population's kernels (``landau.stack_nets``)
compute every member's forward pass, loss, gradient and update with no reduction across members
and with each member's elements in the same vector lanes whatever the population
(``landau.batched.memberwise``) and its matrices aligned alike for BLAS
(``landau.member_bmm``), so a member's record is bitwise the same alone (a population of one:
the path every batchable run takes, ``training.fit`` included) or among any others, in any order
(tested). A member that diverges is recorded as diverged at that epoch and stops counting;
the others go on. The one exception is torch.compile: its generated kernels are not
member-invariant, so compiled runs always train alone.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence

import torch
from torch import nn

from landau import stack_nets
from landau.population_optim import PopulationLangevin
from studies.data.datasets import DatasetSplits, batch_indices
from studies.experiment.config import RunConfig, check_seed_batch
from studies.experiment.diagnostics import population_landscape
from studies.experiment.members import MemberData, member_data, member_values, population_key
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
    MESH_RESOLUTION,
    chance,
    make_record,
    mesh,
    read_test_split,
    score_test_split,
)
from studies.store.records import EpochRecord, RunRecord

__all__ = ["batch_key", "batchable", "fit_seeds", "group_seeds", "population_id"]

EpochCallback = Callable[[int, float], None]
batch_key = population_key  # the name seed batching had


def population_id(configs: Sequence[RunConfig]) -> str:
    """The population a run trained in: its members' run ids, in order, hashed (16 hex)."""
    text = "\n".join(c.run_id for c in configs).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def batchable(config: RunConfig) -> bool:
    """Torch runs, except the blog's sequential per-parameter gradients (one backward pass per
    parameter of one net: nothing to share across members) and Landau layers without the
    input-adaptive t term (the population layer implements the full layer only)."""
    if config.family == "sklearn":
        return False
    if config.family != "landau":
        return True
    options = landau_options(config)
    return options["gradients"] != "blog" and options["t_dynamic"]


def group_seeds(configs: Sequence[RunConfig], cap: int | None = None) -> list[list[RunConfig]]:
    """``configs`` in populations of at most ``cap`` members (None: a whole cell); the order of
    first appearance is kept, and sklearn models (nothing to share) run alone."""
    check_seed_batch(cap)
    groups: dict[Hashable, list[RunConfig]] = {}
    for config in configs:
        key = batch_key(config) if batchable(config) else config.run_id
        groups.setdefault(key, []).append(config)
    size = cap or max((len(g) for g in groups.values()), default=1)
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


class _Population:
    """The model, loss, β update and optimizer of a population, with per-member values."""

    def __init__(self, configs: Sequence[RunConfig], data: MemberData, device: str) -> None:
        first = configs[0]
        nets, self.batch_gens, noise_gens = [], [], []
        n_features, n_classes = data.splits[0].n_features, data.splits[0].n_classes
        for c in configs:  # exactly as each run alone draws them
            torch.manual_seed(c.train_seed)
            nets.append(build_model(c, n_features, n_classes).to(device))
            self.batch_gens.append(torch.Generator().manual_seed(c.train_seed))
            noise_gens.append(torch.Generator(device=device).manual_seed(c.train_seed + 1))
        self.nets = nets
        self.model = stack_nets(nets)
        self.forward = training_forward(first, self.model)  # the model, or compiled
        self.gl_loss = build_loss(first)
        self.beta_update = build_beta_update(first, self.model)
        dtype = data.x_train.dtype

        def values(name: str) -> torch.Tensor | None:
            return member_values(configs, name, dtype, device) if name in first.params else None

        self.alpha, self.gamma = values("alpha"), values("gamma")
        self.dt, self.kappa = values("dt"), values("kappa")
        if first.family == "landau" and first.settings["optimizer"] == "langevin":
            params = [q for q in self.model.parameters() if q.requires_grad]
            self.optimizer = PopulationLangevin(
                params,
                lr=[c.params["lr"] for c in configs],
                damping=[c.params["damping"] for c in configs],
                temperature=[c.params["temperature"] for c in configs],
                generator=noise_gens,
            )
        else:  # one value for all members (in the population key)
            self.optimizer = build_optimizer(first, self.model, noise_gens)
        field = first.family == "landau" and first.settings["beta_shape"] == "field"
        self.field_out = self.model.output_layer if field else None

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One training step on x (P, B, F), y (P, B): the losses (P,) and GL terms (P, 3)."""
        out = self.forward(x)  # (P, B, classes)
        if self.gl_loss is None:
            losses, terms, per_unit = _member_cross_entropy(out, y), None, None
        else:
            losses, terms, per_unit = self.gl_loss.evaluate_seeds(out, y, self.alpha, self.gamma)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # each member's parameters get their own loss's gradient
        self.optimizer.step()
        if self.beta_update is not None:
            for layer in self.model.landau_layers.values():
                force = per_unit if layer is self.field_out else None
                self.beta_update.step_seeds(layer.beta, force, self.dt, self.kappa)
        return losses.detach(), terms


def _member_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per member, mean over its batch: (P, B, C), (P, B) -> (P,). The log-softmax
    is written out (max, exp, sum, log: kernels that round the same in any lane) rather than
    F.cross_entropy, whose fused kernel is not checked member-invariant."""
    shifted = logits - logits.detach().amax(dim=2, keepdim=True)  # (P, B, C)
    logp = shifted - shifted.exp().sum(dim=2, keepdim=True).log()
    return -logp.gather(2, target.unsqueeze(2)).squeeze(2).mean(dim=1)


def fit_seeds(
    configs: Sequence[RunConfig],
    data: DatasetSplits | Mapping[int, DatasetSplits],
    *,
    evaluate_test: bool = True,
    on_epoch: Sequence[EpochCallback | None] | None = None,
    stop_on: tuple[type[BaseException], ...] = (),
) -> list[RunRecord | None]:
    """Train the population ``configs`` (one :func:`batch_key`); one record each. ``data``: the
    split of all members, or the splits by data_seed. ``on_epoch[s](epoch, val_accuracy)`` is
    called after each epoch member s completes. An exception it raises of a type in ``stop_on``
    (e.g. optuna.TrialPruned, for a tuning trial) stops member s alone: it has no record (None
    in its place; nothing after training is measured for it) and the others go on. Any other
    exception propagates."""
    if on_epoch is not None and len(on_epoch) != len(configs):
        raise ValueError(
            f"on_epoch needs one callback per member ({len(configs)}), got {len(on_epoch)}"
        )
    if len({batch_key(c) for c in configs}) != 1 or not batchable(configs[0]):
        raise ValueError("fit_seeds takes batchable configs of one population key")
    start = time.perf_counter()
    started = provenance()
    first = configs[0]
    device = resolve_device(first.device)
    members = member_data(configs, data, device)
    pop = _Population(configs, members, device)
    n_members = len(configs)
    y_val = members.member_y_val()  # (P, Nv)
    initial = _betas_per_member(pop.model, n_members)
    epochs: list[list[EpochRecord]] = [[] for _ in configs]
    alive = [True] * n_members
    stopped: dict[int, str] = {}  # member -> why its callback stopped it
    for epoch in range(1, first.epochs + 1):
        pop.model.train()
        sums = torch.zeros(n_members, 4, device=device)  # (P, [loss, quadratic, quartic, spatial])
        n_batches = 0
        orders = [
            batch_indices(members.n_train, first.params["batch_size"], generator=g)
            for g in pop.batch_gens
        ]
        for idx in zip(*orders, strict=True):
            if len(idx[0]) < 2:  # BatchNorm cannot train on a single sample
                continue
            losses, terms = pop.step(*members.train_batch(torch.stack(idx).to(device)))
            sums[:, 0] += losses
            if terms is not None:
                sums[:, 1:] += terms
            n_batches += 1
        means = (sums / max(n_batches, 1)).tolist()
        finite = _finite_per_member(pop.model, n_members)
        val_acc = (_predict_members(pop.model, members) == y_val).float().mean(dim=1).tolist()
        now = time.perf_counter() - start
        betas_now = _betas_per_member(pop.model, n_members)
        for s in range(n_members):
            if not alive[s]:
                continue
            if not (math.isfinite(means[s][0]) and finite[s]):
                alive[s] = False
                continue
            m = means[s] if pop.gl_loss is not None else [means[s][0]] + [math.nan] * 3
            epochs[s].append(
                EpochRecord(
                    epoch=epoch,
                    train_loss=m[0],
                    loss_quadratic=m[1],
                    loss_quartic=m[2],
                    loss_spatial=m[3],
                    val_accuracy=val_acc[s],
                    seconds=now,
                    betas=betas_now[s],
                )
            )
            if on_epoch is not None and on_epoch[s] is not None:
                try:
                    on_epoch[s](epoch, val_acc[s])
                except stop_on as exc:  # this member stops; the population goes on
                    alive[s] = False
                    stopped[s] = str(exc) or type(exc).__name__
        if not any(alive):
            break
    after, base_rates = _after_training(configs, pop, members, evaluate_test, alive)
    composition = population_id(configs)
    records = []
    for s, config in enumerate(configs):
        run_epochs = epochs[s]
        fields = dict(
            n_params=sum(q[s].numel() for q in pop.model.parameters()),
            epochs_run=len(run_epochs),
            initial_betas=initial[s],
            epoch_records=run_epochs,
            final_train_loss=run_epochs[-1].train_loss if run_epochs else None,
            seed_batch=n_members,
            population=composition,
        )
        status, error = "ok", None
        if s in stopped:
            records.append(None)
            continue
        if not alive[s]:
            status = "diverged"
            error = f"non-finite training loss or parameters at epoch {len(run_epochs) + 1}"
        else:
            fields["val_accuracy"] = run_epochs[-1].val_accuracy
            fields.update(after[s])
        records.append((config, status, error, fields, base_rates[s]))
    share = (time.perf_counter() - start) / n_members  # each member's share of the wall time
    out = []
    for entry in records:
        if entry is None:  # stopped by its callback
            out.append(None)
            continue
        config, status, error, fields, base_rate = entry
        run_epochs = fields["epoch_records"]
        if run_epochs:
            fields["seconds_per_epoch"] = share / len(run_epochs)
            fields["samples_per_second"] = members.n_train * len(run_epochs) / share
        out.append(
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
    return out


def _betas_per_member(model: nn.Module, n: int) -> list[dict[str, list[float]]]:
    layers = getattr(model, "landau_layers", {})
    out: list[dict[str, list[float]]] = [{} for _ in range(n)]
    for name, layer in layers.items():
        values = layer.beta.detach().reshape(n, -1).tolist()  # (P, units)
        for s in range(n):
            out[s][name] = values[s]
    return out


def _finite_per_member(model: nn.Module, n: int) -> list[bool]:
    ok = torch.ones(n, dtype=torch.bool, device=next(model.parameters()).device)
    for q in model.parameters():
        ok &= torch.isfinite(q.detach().reshape(n, -1)).all(dim=1)
    return ok.tolist()  # one host read per epoch


@torch.no_grad()
def _predict_rows(model: nn.Module, members: MemberData, x: torch.Tensor) -> torch.Tensor:
    """(P, M) each member's predicted classes on its own rows of x (U, M, F)."""
    model.eval()
    return torch.cat([model(c).argmax(dim=-1) for c in members.chunks(x)], dim=1)


@torch.no_grad()
def _predict_members(model: nn.Module, members: MemberData) -> torch.Tensor:
    """(P, Nv) each member's predicted classes on its own validation split."""
    return _predict_rows(model, members, members.x_val)


def _after_training(
    configs, pop: _Population, members: MemberData, evaluate_test: bool, alive: list[bool]
) -> tuple[list[dict], list[dict]]:
    """Per member, the record fields measured after training and the base rate: the test split
    (read once per distinct split), the loss-landscape diagnostics and the decision mesh, each
    in one pass over the population model."""
    device = members.x_train.device
    first = configs[0]
    after: list[dict] = [{} for _ in configs]
    tests = [read_test_split(d) for d in members.distinct] if evaluate_test else None
    rates = [
        chance(None if tests is None else tests[i][1], d.n_classes)
        for i, d in enumerate(members.distinct)
    ]
    base_rates = [rates[i] for i in members.split.tolist()]
    if not any(alive):
        return after, base_rates
    if tests is not None:
        x_test = torch.stack([t[0] for t in tests]).to(device)  # (U, Nt, F)
        pred = _predict_rows(pop.model, members, x_test).cpu().numpy()  # (P, Nt)
        found = population_landscape(
            pop.model,
            _diagnostics_loss(pop),
            members.x_train,
            members.y_train,
            members.split,
            batch_size=first.params["batch_size"],
            budget=first.diagnostics,
            seeds=[c.train_seed for c in configs],
        )
        for s, i in enumerate(members.split.tolist()):
            rate = base_rates[s]["chance_accuracy"]
            after[s].update(score_test_split(pred[s], tests[i][1], rate))
            after[s].update(sharpness=found[s].sharpness, hessian_trace=found[s].hessian_trace)
    if members.distinct[0].n_features == 2:
        grids = torch.stack([d.mesh(MESH_RESOLUTION)[2] for d in members.distinct]).to(device)
        pred = _predict_rows(pop.model, members, grids).cpu().numpy()  # (P, R*R)
        for s, split in enumerate(members.splits):
            after[s]["mesh"] = mesh(split, lambda _grid, p=pred[s]: p)
    return after, base_rates


def _diagnostics_loss(pop: _Population):
    """The members' training losses in float64: (P, B, C), (P, B) -> (P,)."""
    if pop.gl_loss is None:
        return _member_cross_entropy
    alpha, gamma = pop.alpha.double(), pop.gamma.double()
    return lambda out, y: pop.gl_loss.evaluate_seeds(out, y, alpha, gamma)[0]
