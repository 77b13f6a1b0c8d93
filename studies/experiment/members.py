"""What the members of a population may differ in, and each member's inputs.

Runs of one variant, dataset, depth, architecture, batch size and epochs train as one model
whatever else differs: the training seed, the data split (each member its own training
indices, batch order and validation split) and the continuous hyperparameters the population
kernels take per member (:func:`member_params`). Everything else is the population's key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import torch

from studies.data.datasets import DatasetSplits
from studies.experiment.config import RunConfig

__all__ = ["MemberData", "member_data", "member_params", "member_values", "population_key"]

MEMBER_CHUNK = 2048  # evaluation rows per member and chunk: the same whatever the population


def member_params(config: RunConfig) -> tuple[str, ...]:
    """The parameters of ``config`` a population takes per member: β's initial value (each
    member's net is built alone), the Langevin optimizer's lr, damping and temperature, the GL
    loss's alpha and gamma and the Allen–Cahn dt and kappa. torch.optim's SGD and Adam take
    one value for all parameters, so their lr, momentum and weight decay stay in the key."""
    if config.family != "landau":
        return ()
    s = config.settings
    names = ["beta_init"]
    if s["optimizer"] == "langevin":
        names += ["lr", "damping", "temperature"]
    if s["loss"] != "ce":
        names += ["alpha", "gamma"]
    if s["beta_update"] != "static":
        names += ["dt", "kappa"]
    return tuple(n for n in names if n in config.params)


def population_key(config: RunConfig) -> Hashable:
    """Configs with equal keys can train as one model. Compiled runs never share one
    (torch.compile's generated kernels are not member-invariant)."""
    if config.compile:
        return config.run_id
    hashed = config.hashed()
    for name in ("seed", "train_seed", "data_seed"):
        hashed.pop(name)
    hashed["diagnostics"] = dataclasses.asdict(config.diagnostics)  # one budget per population
    hashed["params"] = {k: v for k, v in hashed["params"].items() if k not in member_params(config)}
    return repr(sorted(hashed.items()))


def member_values(
    configs: Sequence[RunConfig], name: str, dtype: torch.dtype, device: str
) -> torch.Tensor:
    """(P,) the members' values of parameter ``name``, rounded once to ``dtype``."""
    return torch.tensor([float(c.params[name]) for c in configs], dtype=dtype, device=device)


@dataclass
class MemberData:
    """The members' splits: the distinct ones stacked (U, N, ...) and each member's index."""

    splits: list[DatasetSplits]  # (P,) each member's own
    distinct: list[DatasetSplits]  # (U,) the distinct splits, in the order of ``split``
    x_train: torch.Tensor  # (U, N, F)
    y_train: torch.Tensor  # (U, N)
    x_val: torch.Tensor  # (U, Nv, F)
    y_val: torch.Tensor  # (U, Nv)
    split: torch.Tensor  # (P,) index into U of each member's split

    @property
    def n_train(self) -> int:
        return self.y_train.shape[1]

    def train_batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """idx (P, B) into each member's own training split -> x (P, B, F), y (P, B)."""
        rows = self.split.unsqueeze(1)  # (P, 1)
        return self.x_train[rows, idx], self.y_train[rows, idx]

    def chunks(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each member's rows of x (U, M, F) in chunks of MEMBER_CHUNK rows: (P, c, F) copies."""
        n = x.shape[1]
        return [x[self.split, i : i + MEMBER_CHUNK] for i in range(0, n, MEMBER_CHUNK)]

    def member_y_val(self) -> torch.Tensor:
        return self.y_val[self.split]  # (P, Nv)


def member_data(
    configs: Sequence[RunConfig],
    data: DatasetSplits | Mapping[int, DatasetSplits],
    device: str,
) -> MemberData:
    """Each member's split: ``data`` for all, or ``data[config.data_seed]``. The splits must
    agree in their sizes (members step through their batches together)."""
    if not isinstance(data, Mapping):  # one split (or a stand-in for one) for every member
        data = {c.data_seed: data for c in configs}
    missing = sorted({c.data_seed for c in configs} - set(data))
    if missing:
        raise ValueError(f"no data split for data_seed {missing}; given: {sorted(data)}")
    seeds = list(dict.fromkeys(c.data_seed for c in configs))
    distinct = [data[s] for s in seeds]
    first = distinct[0]
    for d in distinct[1:]:
        if (len(d.y_train), len(d.y_val), len(d.y_test), d.n_features) != (
            len(first.y_train),
            len(first.y_val),
            len(first.y_test),
            first.n_features,
        ):
            raise ValueError(
                "the members' data splits must agree in their sizes, but got "
                f"{len(first.y_train)}/{len(first.y_val)} and {len(d.y_train)}/{len(d.y_val)}"
            )
    return MemberData(
        splits=[data[c.data_seed] for c in configs],
        distinct=distinct,
        x_train=torch.stack([d.x_train for d in distinct]).to(device),
        y_train=torch.stack([d.y_train for d in distinct]).to(device),
        x_val=torch.stack([d.x_val for d in distinct]).to(device),
        y_val=torch.stack([d.y_val for d in distinct]).to(device),
        split=torch.tensor([seeds.index(c.data_seed) for c in configs], device=device),
    )
