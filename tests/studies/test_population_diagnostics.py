"""The population's diagnostics (one Hessian-vector product pass for all members) against
studies.experiment.diagnostics.landscape run on each member's own net (the oracle)."""

from __future__ import annotations

import pytest
import torch

from landau import GinzburgLandauLoss, stack_nets
from studies.data import load_dataset
from studies.experiment import RunConfig
from studies.experiment.config import DiagnosticsBudget
from studies.experiment.diagnostics import landscape, population_landscape
from studies.experiment.models import build_model

BUDGET = DiagnosticsBudget(subset=96, iterations=6, probes=2)


def test_each_member_gets_its_own_landscape():
    data = load_dataset("moons")
    configs = [RunConfig("field_beta", "moons", s, 2, 1) for s in range(3)]
    nets = []
    for c in configs:
        torch.manual_seed(c.train_seed)
        nets.append(build_model(c, data.n_features, data.n_classes))
    loss = GinzburgLandauLoss(0.0095, 6.5)
    members = len(configs)
    x, y = data.x_train.unsqueeze(0), data.y_train.unsqueeze(0)
    found = population_landscape(
        stack_nets(nets),
        lambda out, t: loss.evaluate_seeds(out, t)[0],
        x,
        y,
        torch.zeros(members, dtype=torch.long),
        batch_size=32,
        budget=BUDGET,
        seeds=[c.train_seed for c in configs],
    )
    for net, c, got in zip(nets, configs, found, strict=True):
        want = landscape(
            net,
            lambda out, t: loss.evaluate(out, t)[0],
            data.x_train,
            data.y_train,
            batch_size=32,
            budget=BUDGET,
            seed=c.train_seed,
        )
        assert got.sharpness == pytest.approx(want.sharpness, rel=1e-5)
        assert got.hessian_trace == pytest.approx(want.hessian_trace, rel=1e-5)
    assert len({f.sharpness for f in found}) == members  # each its own
