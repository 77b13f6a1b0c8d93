"""The training loop: determinism, statuses, records, the test split read once."""

import dataclasses
import math

import pytest

from studies.data.datasets import DatasetSplits, load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.registry import REGISTRY
from studies.experiment.training import fit, train


def small(name: str, n: int = 128) -> DatasetSplits:
    return _first(load_dataset(name), n)


def test_same_seed_gives_identical_numbers():
    a = train(RunConfig("full", "moons", 0, 2, 3))
    b = train(RunConfig("full", "moons", 0, 2, 3))
    assert a.status == "ok"
    assert [e.train_loss for e in a.epoch_records] == [e.train_loss for e in b.epoch_records]
    assert a.epoch_records[-1].betas == b.epoch_records[-1].betas
    assert (a.val_accuracy, a.test_accuracy) == (b.val_accuracy, b.test_accuracy)
    assert a.mesh == b.mesh
    c = train(RunConfig("full", "moons", 1, 2, 3))
    assert [e.train_loss for e in a.epoch_records] != [e.train_loss for e in c.epoch_records]


def test_record_contents_for_the_full_model():
    r = train(RunConfig("full", "moons", 0, 2, 2))
    assert r.status == "ok" and r.error is None and r.epochs_run == 2
    assert set(r.initial_betas) == {"llayer1", "llayer2"}
    assert r.initial_betas["llayer1"] == pytest.approx([1e-3])
    e = r.epoch_records[-1]
    assert all(math.isfinite(v) for v in (e.loss_quadratic, e.loss_quartic, e.loss_spatial))
    assert 0 <= r.val_accuracy <= 1 and 0 <= r.test_accuracy <= 1
    assert len(r.mesh["pred"]) == 60 * 60 and set(r.mesh["pred"]) <= {0, 1}
    assert r.params_source == "defaults" and r.params["gamma"] == 6.5


@pytest.mark.parametrize("hidden", [7, 156])
@pytest.mark.parametrize("variant, expected", [("full", 6), ("field_beta", 7)])
def test_n_params_counts_every_trained_tensor(variant, expected, hidden):
    """Depth 2 on moons (2 features, 2 classes, h hidden units), from the layer shapes:
    w1 (h, 2) + β1 + t1 (1,) + BatchNorm weight and bias (h,) x 2 + w2 (2, h) + β2 + t2 (1,).
    A scalar β is one number: 6h + 4. A field β has one per output unit (h, then 2): 7h + 4."""
    r = train(RunConfig(variant, "moons", 0, 2, 1, {"hidden": hidden}))
    assert r.status == "ok" and r.n_params == expected * hidden + 4


def test_scalar_beta_relaxes_towards_one_under_allen_cahn_and_stays_under_static():
    """For the blog's scalar β the Allen–Cahn rule is Euler for dβ/dt = β - β³: from β0 = 1e-3
    it grows towards +1. The optimizer's steps on β are made negligible (lr = 1e-6, no noise)
    and dt large, so the relaxation shows within three epochs; ``static_beta`` freezes β."""
    params = {"lr": 1e-6, "temperature": 0.0, "dt": 0.1}
    relaxing = train(RunConfig("full", "moons", 0, 2, 3, params))
    static = train(RunConfig("static_beta", "moons", 0, 2, 3, params))
    for layer in ("llayer1", "llayer2"):
        (beta0,) = relaxing.initial_betas[layer]
        path = [beta0] + [e.betas[layer][0] for e in relaxing.epoch_records]
        assert all(a < b for a, b in zip(path, path[1:], strict=False)), path  # towards +1 ...
        assert path[-1] < 1.0  # ... from below, not past it
        assert [e.betas[layer] for e in static.epoch_records] == [[beta0]] * 3


def test_cross_entropy_models_record_nan_terms_and_no_beta():
    r = train(RunConfig("plain_mlp", "moons", 0, 2, 2))
    assert r.status == "ok" and r.epoch_records[-1].betas == {}
    assert math.isnan(r.epoch_records[-1].loss_quartic)


def test_divergence_is_a_result_not_an_exception():
    r = train(RunConfig("full", "moons", 0, 1, 5, {"lr": 1e6, "damping": 0.001}))
    assert r.status == "diverged" and "non-finite" in r.error
    assert r.val_accuracy is None and r.test_accuracy is None and r.mesh is None


def test_exceptions_become_failed_records(monkeypatch):
    import studies.experiment.seed_batch as population
    import studies.experiment.training as training

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(training, "build_model", boom)
    monkeypatch.setattr(population, "build_model", boom)  # batchable runs: populations of one
    r = train(RunConfig("full", "moons", 0, 1, 1))
    assert r.status == "failed" and r.error == "RuntimeError: kaboom"


def test_fit_lets_exceptions_escape_with_their_traceback():
    class Stop(Exception):
        pass

    def on_epoch(epoch, acc):
        raise Stop

    with pytest.raises(Stop):
        fit(RunConfig("full", "moons", 0, 1, 2), load_dataset("moons"), on_epoch=on_epoch)


class _CountingSplits(DatasetSplits):
    """The splits, counting reads of the test split (its features and its labels)."""

    def __getattribute__(self, name):
        if name in ("x_test", "y_test"):
            reads = object.__getattribute__(self, "__dict__").setdefault("test_reads", [])
            reads.append(name)
        return super().__getattribute__(name)


def _counting(d: DatasetSplits) -> _CountingSplits:
    data = _CountingSplits(**{f.name: getattr(d, f.name) for f in dataclasses.fields(d)})
    data.__dict__["test_reads"] = []  # __post_init__'s validation read does not count
    return data


@pytest.mark.parametrize("variant", ["full", "logreg"])
def test_test_split_is_read_once_and_never_when_tuning(variant):
    data = _counting(load_dataset("moons"))
    r = train(RunConfig(variant, "moons", 0, 1, 3), data=data)
    assert r.test_accuracy is not None and sorted(data.test_reads) == ["x_test", "y_test"]
    data = _counting(load_dataset("moons"))
    r = train(RunConfig(variant, "moons", 0, 1, 3), data=data, evaluate_test=False)
    assert data.test_reads == [] and r.status == "ok" and r.test_accuracy is None


def test_the_test_split_is_what_is_scored_and_nothing_else_depends_on_it():
    """Flipping every binary test label turns the test accuracy a into 1 - a and changes
    nothing else: training and validation never see the test split."""
    d = load_dataset("moons")
    flipped = dataclasses.replace(d, y_test=1 - d.y_test)
    config = RunConfig("plain_mlp", "moons", 0, 2, 3)
    a, b = train(config, data=d), train(config, data=flipped)
    assert a.status == b.status == "ok"
    assert b.test_accuracy == pytest.approx(1 - a.test_accuracy)
    assert [e.train_loss for e in a.epoch_records] == [e.train_loss for e in b.epoch_records]
    assert (a.val_accuracy, a.mesh) == (b.val_accuracy, b.mesh)


def test_logreg_anchor_is_accurate_on_digits():
    r = train(RunConfig("logreg", "digits", 0, 1, 1))
    assert r.status == "ok" and r.test_accuracy > 0.9 and r.epochs_run == 1


VARIANTS = sorted(REGISTRY)  # every registry entry, the new ones too
# Entries that diverge in their first epoch here, as measured (README faithfulness): Mish on
# moons (the blog's caption says Mish; its code uses rrelu) and the blog's sequential gradient
# order on two of the 2-D datasets at 128 samples.
DIVERGES_AT_TINY_SIZE = {
    ("mish", "moons"),
    ("mish", "mnist"),
    ("blog_gradients", "circles"),
    ("blog_gradients", "classification"),
}
CONTRACT_DATASETS = ["moons", "circles", "classification", "digits", "mnist1d", "mnist"]
# The default run trains every entry on moons and `full` on every dataset; the whole product
# (101 cases, ~50 s; blog_gradients on MNIST's 784 inputs alone ~20 s) runs with the slow tests.
_FAST_CASES = {("moons", v) for v in VARIANTS} | {(d, "full") for d in CONTRACT_DATASETS}
_SLOW_CASES = {(d, v) for d in CONTRACT_DATASETS for v in VARIANTS} - _FAST_CASES


@pytest.mark.parametrize(
    "dataset, variant",
    [
        pytest.param(d, v, marks=[pytest.mark.slow] if (d, v) in _SLOW_CASES else [])
        for d in CONTRACT_DATASETS
        for v in VARIANTS
    ],
)
def test_contract_every_variant_trains_on_every_dataset(variant, dataset, request):
    """Tiny size (128 samples, one epoch): every entry trains and gives a complete record.
    Only the MNIST cases need the IDX files (and skip without them)."""
    if dataset == "mnist":
        data = _first(load_dataset("mnist", data_dir=request.getfixturevalue("mnist_dir")))
    else:
        data = small(dataset)
    for depth in (1, 2) if variant != "logreg" else (1,):
        r = train(
            RunConfig(
                variant, dataset, 0, depth, 1, {"max_iter": 50} if variant == "logreg" else {}
            ),
            data=data,
        )
        if (variant, dataset) in DIVERGES_AT_TINY_SIZE and r.status == "diverged":
            # a diverged run is a result: well-formed, with no accuracy and no mesh
            assert r.epochs_run == 0 and r.test_accuracy is None and r.mesh is None
            continue
        assert r.status == "ok", r.error  # at this size every other entry trains
        assert r.epochs_run == 1 and len(r.epoch_records) == 1
        assert 0 <= r.val_accuracy <= 1 and 0 <= r.test_accuracy <= 1
        assert math.isfinite(r.final_train_loss) and r.n_params > 0
        assert (r.mesh is not None) == (data.n_features == 2)


@pytest.mark.parametrize(
    "variant, depth", [("plain_mlp", 2), ("logreg", 1), ("ce_loss", 1), ("sgd", 2)]
)
def test_entries_that_learn_moons_in_three_epochs_beat_chance(variant, depth):
    """Moons is balanced (chance 0.5); these entries reach ~0.75-0.88 on seed 0. (The GL-loss
    variants at depth 1 sit *below* chance on moons, ~0.18: a finding, not asserted here.)"""
    r = train(RunConfig(variant, "moons", 0, depth, 3))
    assert r.status == "ok" and r.val_accuracy > 0.7 and r.test_accuracy > 0.7


def _first(d: DatasetSplits, n: int = 128) -> DatasetSplits:
    return DatasetSplits(
        d.name,
        d.x_train[:n],
        d.y_train[:n],
        d.x_val[:n],
        d.y_val[:n],
        d.x_test[:n],
        d.y_test[:n],
        n_features=d.n_features,
        n_classes=d.n_classes,
    )


def test_field_beta_records_one_beta_per_unit():
    r = train(RunConfig("field_beta", "digits", 0, 2, 1), data=small("digits"))
    assert len(r.epoch_records[-1].betas["llayer1"]) == 156
    assert len(r.epoch_records[-1].betas["llayer2"]) == 10


def test_unknown_device_fails_cleanly():
    r = train(RunConfig("full", "moons", 0, 1, 1, device="tpu"))
    assert r.status == "failed" and "unknown device 'tpu'" in r.error
