"""The training loop: determinism, statuses, records, the test split read once."""

import math

import pytest
import torch

from studies.data.datasets import DatasetSplits, load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.registry import REGISTRY
from studies.experiment.training import fit, train


def small(name: str, n: int = 128) -> DatasetSplits:
    d = load_dataset(name)
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
    assert r.n_params == 2 * 156 + 156 * 2 + 2 * 2 + 2 * 156  # w1, w2, (beta, t) x2, bn weight+bias
    assert len(r.mesh["pred"]) == 60 * 60 and set(r.mesh["pred"]) <= {0, 1}
    assert r.params_source == "defaults" and r.params["gamma"] == 6.5


def test_scalar_beta_relaxes_towards_one_under_allen_cahn_and_stays_under_static():
    # β also receives gradient steps from the optimizer, so only the direction is asserted
    static = train(RunConfig("static_beta", "moons", 0, 1, 2))
    assert static.epoch_records[-1].betas["llayer1"] == pytest.approx([1e-3])


def test_cross_entropy_models_record_nan_terms_and_no_beta():
    r = train(RunConfig("plain_mlp", "moons", 0, 2, 2))
    assert r.status == "ok" and r.epoch_records[-1].betas == {}
    assert math.isnan(r.epoch_records[-1].loss_quartic)


def test_divergence_is_a_result_not_an_exception():
    r = train(RunConfig("full", "moons", 0, 1, 5, {"lr": 1e6, "damping": 0.001}))
    assert r.status == "diverged" and "non-finite" in r.error
    assert r.val_accuracy is None and r.test_accuracy is None and r.mesh is None


def test_exceptions_become_failed_records(monkeypatch):
    import studies.experiment.training as training

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(training, "build_model", boom)
    r = train(RunConfig("full", "moons", 0, 1, 1))
    assert r.status == "failed" and r.error == "RuntimeError: kaboom"


def test_fit_lets_exceptions_escape_with_their_traceback():
    class Stop(Exception):
        pass

    def on_epoch(epoch, acc):
        raise Stop

    with pytest.raises(Stop):
        fit(RunConfig("full", "moons", 0, 1, 2), load_dataset("moons"), on_epoch=on_epoch)


def test_test_split_is_read_once_and_never_when_tuning(monkeypatch):
    import studies.experiment.training as training

    reads = []
    original = training.accuracy

    def spy(model, x, y):
        reads.append(x.data_ptr())
        return original(model, x, y)

    predict = training._predict

    def spy_predict(model, x):
        reads.append(x.data_ptr())
        return predict(model, x)

    monkeypatch.setattr(training, "accuracy", spy)
    monkeypatch.setattr(training, "_predict", spy_predict)  # the test split is read here
    data = load_dataset("moons")
    train(RunConfig("full", "moons", 0, 1, 3), data=data)
    assert reads.count(data.x_test.data_ptr()) == 1
    reads.clear()
    r = train(RunConfig("full", "moons", 0, 1, 3), data=data, evaluate_test=False)
    assert data.x_test.data_ptr() not in reads and r.test_accuracy is None


def test_logreg_anchor_is_accurate_on_digits():
    r = train(RunConfig("logreg", "digits", 0, 1, 1))
    assert r.status == "ok" and r.test_accuracy > 0.9 and r.epochs_run == 1


@pytest.mark.parametrize("variant", sorted(REGISTRY))  # every registry entry, new ones too
@pytest.mark.parametrize(
    "dataset", ["moons", "circles", "classification", "digits", "mnist1d", "mnist"]
)
def test_contract_every_variant_trains_on_every_dataset(variant, dataset, mnist_dir):
    """Tiny size: every entry must produce a valid record (a diverged run is a valid result)."""
    data = small(dataset) if dataset != "mnist" else _small_mnist(mnist_dir)
    for depth in (1, 2) if variant != "logreg" else (1,):
        r = train(
            RunConfig(
                variant, dataset, 0, depth, 1, {"max_iter": 50} if variant == "logreg" else {}
            ),
            data=data,
        )
        assert r.status in ("ok", "diverged"), r.error
        assert r.epochs_run in (0, 1)
        if r.status == "ok":
            assert 0 <= r.test_accuracy <= 1
            assert (r.mesh is not None) == (data.n_features == 2)


def _small_mnist(mnist_dir):
    d = load_dataset("mnist", data_dir=mnist_dir)
    n = 128
    return DatasetSplits(
        "mnist",
        d.x_train[:n],
        d.y_train[:n],
        d.x_val[:n],
        d.y_val[:n],
        d.x_test[:n],
        d.y_test[:n],
        n_features=784,
        n_classes=10,
    )


def test_field_beta_records_one_beta_per_unit():
    r = train(RunConfig("field_beta", "digits", 0, 2, 1), data=small("digits"))
    assert len(r.epoch_records[-1].betas["llayer1"]) == 156
    assert len(r.epoch_records[-1].betas["llayer2"]) == 10


def test_unknown_device_fails_cleanly():
    r = train(RunConfig("full", "moons", 0, 1, 1, device="tpu"))
    assert r.status == "failed" and "unknown device 'tpu'" in r.error
    assert torch.get_num_threads() >= 1
