"""Speed of populations (issue 18), as ratios against one member measured in the same run,
interleaved (reference, subject, ...), 1 intra-op thread, thread CPU time. The whole training
loop and the work after it (validation, test split, Lanczos sharpness, Hutchinson trace, mesh)
are timed, at the blog preset of ``full``, depth 2, 3 epochs.

(a) 10 members (5 seeds x 2 data splits) ÷ 1 member, moons and digits. Goal <= 2.0x.
(b) 40 members (4 swept temperatures x 5 seeds x 2 splits) ÷ 1 member, moons. Goal <= 5x.
"""

from __future__ import annotations

import pytest

from studies.data.datasets import load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.seed_batch import fit_seeds

TEMPERATURES = (0.0, 0.008, 0.08, 0.8)


def _members(dataset: str, temperatures=(None,)) -> list[RunConfig]:
    return [
        RunConfig(
            "full",
            dataset,
            seed,
            2,
            3,
            {} if t is None else {"temperature": t},
            data_seed=split,
        )
        for t in temperatures
        for split in (0, 1)
        for seed in range(5)
    ]


@pytest.mark.parametrize("dataset", ["moons", "digits"])
def test_ten_members_vs_one_member(compare_long, dataset):
    configs = _members(dataset)
    splits = {d: load_dataset(dataset, data_seed=d) for d in (0, 1)}
    compare_long(
        lambda: fit_seeds(configs, splits),
        lambda: fit_seeds(configs[:1], splits),
        rounds=3,
        warmup=1,
        target="<= 2.0x",
        reference_name="a population of 1",
    )


def test_forty_members_vs_one_member(compare_long):
    configs = _members("moons", TEMPERATURES)
    assert len(configs) == 40
    splits = {d: load_dataset("moons", data_seed=d) for d in (0, 1)}
    compare_long(
        lambda: fit_seeds(configs, splits),
        lambda: fit_seeds(configs[:1], splits),
        rounds=3,
        warmup=1,
        target="<= 5x",
        reference_name="a population of 1",
    )
