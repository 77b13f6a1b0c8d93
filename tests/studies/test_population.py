"""A run's record does not depend on the population it trained in: alone, among 3, 5 or 10
members, in any order, every result field is bitwise the same (chaotic variants included,
where the last bit of one step grows into a different final accuracy)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from studies.data import load_dataset
from studies.experiment import RunConfig
from studies.experiment.seed_batch import fit_seeds, group_seeds
from studies.experiment.training import fit

# timing and provenance: each member's share of the wall time, the load, the population size
NOT_RESULTS = {
    "seconds",
    "seconds_per_epoch",
    "samples_per_second",
    "load_avg",
    "seed_batch",
    "population",
    "threads",
}
FAST = {"subset": 64, "iterations": 3, "probes": 1}  # diagnostics: cheap but exercised


def _results(record) -> dict:
    out = {k: v for k, v in record.to_dict().items() if k not in NOT_RESULTS}
    out["epoch_records"] = [
        {k: v for k, v in e.items() if k != "seconds"} for e in out["epoch_records"]
    ]
    return out


def _configs(variant, dataset, depth, epochs, members=10, **params):
    return [
        RunConfig(variant, dataset, s, depth, epochs, params, diagnostics=FAST)
        for s in range(members)
    ]


def _check_invariance(configs, data, populations):
    """Train every population of member indices; each member's results must equal its first."""
    first: dict[int, dict] = {}
    for population in populations:
        records = fit_seeds([configs[i] for i in population], data)
        for i, record in zip(population, records, strict=True):
            got = _results(record)
            want = first.setdefault(i, got)
            assert got == want, f"member {i} differs in population {population}"
    return first


def _populations(members: int, seed: int = 0) -> list[list[int]]:
    shuffled = list(range(members))
    random.Random(seed).shuffle(shuffled)
    return [[0], [1, 0, 2], [0, 1, 2, 3, 4], list(range(members)), shuffled]


@pytest.mark.parametrize(
    "variant, dataset, depth, epochs, params",
    [
        ("field_beta", "classification", 2, 1, {}),  # the audit's case: 75.7 / 67.3 / 50.0 %
        ("mish", "moons", 2, 2, {}),  # Mish diverges on moons: chaotic on the way
        ("plain_mlp", "moons", 2, 2, {}),  # cross-entropy, Adam, nn.Linear + BatchNorm
        # an odd width and batch: members' matrices start unaligned (landau.member_bmm)
        ("full", "digits", 2, 1, {"hidden": 33, "batch_size": 50}),
    ],
)
def test_records_do_not_depend_on_the_population(variant, dataset, depth, epochs, params):
    data = load_dataset(dataset)
    configs = _configs(variant, dataset, depth, epochs, **params)
    first = _check_invariance(configs, data, _populations(10))
    assert len(first) == 10


def test_a_run_alone_is_a_population_of_one():
    data = load_dataset("moons")
    config = _configs("field_beta", "moons", 2, 2, members=1)[0]
    assert _results(fit(config, data)) == _results(fit_seeds([config], data)[0])


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant, dataset, depth, epochs, params",
    [
        ("field_beta", "classification", 2, 20, {}),
        ("mish", "moons", 2, 20, {}),
        ("full", "digits", 2, 10, {"temperature": 0.008}),  # short last batch (53 rows)
    ],
)
def test_records_do_not_depend_on_the_population_long(variant, dataset, depth, epochs, params):
    data = load_dataset(dataset)
    configs = _configs(variant, dataset, depth, epochs, **params)
    _check_invariance(configs, data, _populations(10, seed=1))


@pytest.mark.slow
def test_mnist_at_low_temperature_does_not_depend_on_the_population(mnist_dir):
    """full at T = 0.008 on MNIST for 200 steps (a 12,800-image slice, one epoch)."""
    whole = load_dataset("mnist", data_dir=mnist_dir)
    data = dataclasses.replace(
        whole,
        x_train=whole.x_train[:12_800],
        y_train=whole.y_train[:12_800],
        x_val=whole.x_val[:1000],
        y_val=whole.y_val[:1000],
    )
    configs = _configs("full", "mnist", 2, 1, members=5, temperature=0.008)
    _check_invariance(configs, data, [[0], [2, 0, 4], [4, 3, 2, 1, 0]])


MEMBERS = [  # (seed, data_seed, params): one cell of field_beta on moons
    (0, 0, {}),
    (1, 1, {"temperature": 0.008, "lr": 0.02}),
    (2, 0, {"alpha": 0.05, "gamma": 2.0, "beta_init": 0.3}),
    (0, 1, {"dt": 0.01, "kappa": 0.05, "damping": 0.2}),
    (3, 2, {"temperature": 0.0}),
]


def _mixed_members(epochs=2):
    return [
        RunConfig("field_beta", "moons", s, 2, epochs, p, data_seed=d, diagnostics=FAST)
        for s, d, p in MEMBERS
    ]


def test_seeds_splits_and_continuous_values_share_one_population():
    configs = _mixed_members()
    assert group_seeds(configs) == [configs]
    other = [
        RunConfig("field_beta", "moons", 0, 2, 2, {"batch_size": 32}),  # batch size
        RunConfig("field_beta", "moons", 0, 2, 2, {"hidden": 16}),  # architecture
        RunConfig("field_beta", "moons", 0, 2, 3),  # epochs
        RunConfig("field_beta", "moons", 0, 1, 2),  # depth
        RunConfig("full", "moons", 0, 2, 2),  # variant
        RunConfig("sgd", "moons", 0, 2, 2, {"lr": 0.02}),  # torch.optim's lr: one for all
        RunConfig("sgd", "moons", 0, 2, 2),
    ]
    assert [len(g) for g in group_seeds(configs + other)] == [5] + [1] * len(other)


def test_a_member_with_its_own_split_and_values_trains_as_alone():
    configs = _mixed_members()
    splits = {d: load_dataset("moons", data_seed=d) for _, d, _ in MEMBERS}
    together = fit_seeds(configs, splits)
    for config, record in zip(configs, together, strict=True):
        alone = fit(config, splits[config.data_seed])
        assert _results(record) == _results(alone), config.name
    # and the members really differ: their own splits and values reach their records
    assert len({r.final_train_loss for r in together}) == len(configs)
    reversed_ = fit_seeds(configs[::-1], splits)
    assert [_results(r) for r in reversed_[::-1]] == [_results(r) for r in together]


def test_compiled_runs_never_share_a_population():
    configs = [RunConfig("full", "moons", s, 2, 2, compile=True) for s in range(3)]
    assert [len(g) for g in group_seeds(configs)] == [1, 1, 1]
    with pytest.raises(ValueError, match="one population key"):
        fit_seeds(configs, load_dataset("moons"))


def test_population_flag_and_its_deprecated_alias():
    import argparse

    from studies.cli.common import add_grid_args, run_options

    parser = argparse.ArgumentParser()
    add_grid_args(parser)
    assert run_options(parser.parse_args(["--population", "3"]), 1)["seed_batch"] == 3
    assert run_options(parser.parse_args(["--seed-batch", "2"]), 1)["seed_batch"] == 2
    assert run_options(parser.parse_args([]), 1)["seed_batch"] is None  # a whole cell
    with pytest.raises(SystemExit):
        parser.parse_args(["--population", "0"])
