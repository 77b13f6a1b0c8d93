"""A run's record does not depend on the population it trained in: alone, among 3, 5 or 10
members, in any order, every result field is bitwise the same (chaotic variants included,
where the last bit of one step grows into a different final accuracy)."""

from __future__ import annotations

import random

import pytest

from studies.data import load_dataset
from studies.experiment import RunConfig
from studies.experiment.seed_batch import fit_seeds
from studies.experiment.training import fit

# timing and provenance: each member's share of the wall time, the load, the population size
NOT_RESULTS = {
    "seconds",
    "seconds_per_epoch",
    "samples_per_second",
    "load_avg",
    "seed_batch",
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
    "variant, dataset, depth, epochs",
    [
        ("field_beta", "classification", 2, 1),  # the audit's case: 75.7 / 67.3 / 50.0 %
        ("mish", "moons", 2, 2),  # Mish diverges on moons: chaotic on the way
        ("plain_mlp", "moons", 2, 2),  # cross-entropy, Adam, nn.Linear + BatchNorm
    ],
)
def test_records_do_not_depend_on_the_population(variant, dataset, depth, epochs):
    data = load_dataset(dataset)
    first = _check_invariance(_configs(variant, dataset, depth, epochs), data, _populations(10))
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
        ("full", "digits", 2, 10, {"temperature": 0.008}),
    ],
)
def test_records_do_not_depend_on_the_population_long(variant, dataset, depth, epochs, params):
    data = load_dataset(dataset)
    configs = _configs(variant, dataset, depth, epochs, **params)
    _check_invariance(configs, data, _populations(10, seed=1))


@pytest.mark.slow
def test_mnist_at_low_temperature_does_not_depend_on_the_population(mnist_dir):
    data = load_dataset("mnist", data_dir=mnist_dir)
    configs = _configs("full", "mnist", 2, 1, members=5, temperature=0.008)
    _check_invariance(configs, data, [[0], [2, 0, 4], [4, 3, 2, 1, 0]])
