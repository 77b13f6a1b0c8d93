"""Seeds trained as one batched model give the records their sequential runs give."""

from __future__ import annotations

import math

import pytest

from studies.data import load_dataset
from studies.experiment import REGISTRY, RunConfig
from studies.experiment.seed_batch import batch_key, batchable, fit_seeds, group_seeds
from studies.experiment.training import fit

TORCH_VARIANTS = [
    name for name in REGISTRY if batchable(RunConfig(name, "moons", 0, 1, 1))
]  # every torch variant but blog_gradients (one backward per parameter: nothing to batch)


def _configs(variant, depth=2, seeds=3, epochs=3, dataset="moons", **params):
    return [RunConfig(variant, dataset, s, depth, epochs, params) for s in range(seeds)]


# full and field_beta (the chaotic one) in the default run; every entry with the slow tests
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(v, marks=[] if v in ("full", "field_beta") else [pytest.mark.slow])
        for v in TORCH_VARIANTS
    ],
)
def test_batched_seeds_equal_sequential_runs(variant):
    """On digits, where every entry trains at the blog preset: on moons the smooth activations
    (mish, a plugin's gelu) diverge, and float rounding is amplified beyond any tolerance."""
    data = load_dataset("digits")
    configs = _configs(variant, dataset="digits")
    batched = fit_seeds(configs, data)
    for config, got in zip(configs, batched, strict=True):
        want = fit(config, data, sequential=True)
        assert (got.run_id, got.status, got.epochs_run) == (
            want.run_id,
            want.status,
            want.epochs_run,
        )
        for g, w in zip(got.epoch_records, want.epoch_records, strict=True):
            assert g.train_loss == pytest.approx(w.train_loss, rel=1e-3, abs=1e-6)
            for term in ("loss_quadratic", "loss_quartic", "loss_spatial"):
                a, b = getattr(g, term), getattr(w, term)
                assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(
                    b, rel=1e-3, abs=1e-6
                )
            n_val = len(data.y_val)
            # at most two samples flip: the oracle is the ordinary net, whose kernels round
            # differently from the population's (gelu_mlp, epoch 1: 2 of 360 samples flipped
            # with the train losses 5e-6 apart); bitwise invariance is test_population's
            assert abs(g.val_accuracy - w.val_accuracy) <= 2 / n_val + 1e-6
        if want.status == "ok":
            assert abs(got.test_accuracy - want.test_accuracy) <= 1 / len(data.y_test) + 1e-6
        else:
            assert got.test_accuracy is None
        assert got.n_params == want.n_params and got.seed_batch == 3 and want.seed_batch == 1


def test_a_diverging_seed_stops_alone():
    data = load_dataset("moons")
    configs = _configs("full", epochs=4, lr=10.0)
    sequential = [fit(c, data, sequential=True) for c in configs]
    batched = fit_seeds(configs, data)
    assert [r.status for r in batched] == [r.status for r in sequential]
    assert [r.epochs_run for r in batched] == [r.epochs_run for r in sequential]


@pytest.mark.slow
def test_members_with_their_own_splits_and_values_follow_their_sequential_runs():
    """The oracle for per-member values: each member of a mixed population against its run on
    the plain one-net loop (float rounding apart; field_beta uses alpha, gamma, lr, damping,
    temperature, dt, kappa and beta_init)."""
    members = [
        (0, 0, {}),
        (1, 1, {"temperature": 0.008, "lr": 0.02}),
        (2, 0, {"alpha": 0.05, "gamma": 2.0, "beta_init": 0.3}),
        (0, 1, {"dt": 0.01, "kappa": 0.05, "damping": 0.2}),
    ]
    configs = [RunConfig("field_beta", "digits", s, 2, 1, p, data_seed=d) for s, d, p in members]
    splits = {d: load_dataset("digits", data_seed=d) for _, d, _ in members}
    for config, got in zip(configs, fit_seeds(configs, splits), strict=True):
        want = fit(config, splits[config.data_seed], sequential=True)
        assert got.status == want.status == "ok"
        g, w = got.epoch_records[-1], want.epoch_records[-1]
        for term in ("train_loss", "loss_quadratic", "loss_quartic", "loss_spatial"):
            assert getattr(g, term) == pytest.approx(getattr(w, term), rel=1e-4), term
        assert g.betas["llayer2"] == pytest.approx(w.betas["llayer2"], rel=1e-4, abs=1e-6)


def test_groups_are_cells_capped_by_seed_batch():
    configs = (
        _configs("full", seeds=5) + _configs("sgd", seeds=2) + _configs("full", depth=1, seeds=1)
    )
    assert [len(g) for g in group_seeds(configs)] == [5, 2, 1]
    assert [len(g) for g in group_seeds(configs, cap=2)] == [2, 2, 1, 2, 1]
    assert [len(g) for g in group_seeds(configs, cap=1)] == [1] * 8
    assert all(len({batch_key(c) for c in g}) == 1 for g in group_seeds(configs))
    with pytest.raises(ValueError, match="`population >= 1` must hold, but got population=0"):
        group_seeds(configs, cap=0)
