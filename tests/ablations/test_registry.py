"""The registry is data: entries are complete, names unique, spaces consistent."""

import pytest

from ablations import (
    BLOG,
    LANDAU_DEFAULTS,
    LANDAU_OPTIONS,
    VARIANTS,
    Param,
    Variant,
    build_registry,
)
from baselines import BASELINES

REQUIRED = {
    "full",
    "no_quartic",
    "static_beta",
    "sgd",
    "plain_mlp",
    "no_spatial",
    "no_noise",
    "ce_loss",
    "field_beta",
    "logreg",
}


def test_every_required_variant_is_registered():
    registry = build_registry(VARIANTS, BASELINES)
    assert REQUIRED <= set(registry)


def test_duplicate_names_raise():
    with pytest.raises(ValueError, match="duplicate registry entry 'full'"):
        build_registry(VARIANTS, VARIANTS[:1])


@pytest.mark.parametrize("entry", VARIANTS + BASELINES, ids=lambda e: e.name)
def test_entries_are_complete(entry: Variant):
    assert entry.description and entry.changes
    assert entry.search_space, "every entry is tunable"
    for param in entry.search_space:
        assert param.name in entry.defaults
    assert len(entry.space_version) == 8


def test_full_model_defaults_are_the_blog_table():
    for key in (
        "alpha",
        "gamma",
        "beta_init",
        "lr",
        "kappa",
        "hidden",
        "damping",
        "temperature",
        "dt",
    ):
        assert LANDAU_DEFAULTS[key] == BLOG[key]
    assert BLOG["epochs"] == 100


def test_each_ablation_changes_what_it_says():
    by_name = {v.name: v for v in VARIANTS}
    full = {**LANDAU_OPTIONS, **by_name["full"].settings}
    diffs = {
        name: {k for k in full if {**LANDAU_OPTIONS, **v.settings}[k] != full[k]}
        | {k for k in v.defaults if v.defaults[k] != by_name["full"].defaults.get(k)}
        for name, v in by_name.items()
    }
    assert diffs["full"] == set()
    assert diffs["no_quartic"] == {"quartic"}
    assert diffs["no_spatial"] == {"spatial"}
    assert diffs["static_beta"] == {"beta_update"}
    assert diffs["sgd"] == {"optimizer", "momentum"}
    assert diffs["no_noise"] == {"temperature"}
    assert by_name["no_noise"].defaults["temperature"] == 0.0
    assert diffs["ce_loss"] == {"loss"}
    assert diffs["field_beta"] == {"beta_shape", "diffusion"}
    assert diffs["no_index_scale"] == {"index_scale"}
    assert diffs["no_tdynamic"] == {"t_dynamic"}
    assert diffs["linear_layers"] == {"layer", "beta_update"}
    assert diffs["mish"] == {"activation"}
    assert diffs["blog_gradients"] == {"gradients"}


def test_space_version_changes_with_the_space():
    a = Variant(
        "a", "d", "c", "mlp", defaults={"lr": 1.0}, search_space=(Param("lr", 1e-3, 1.0, log=True),)
    )
    b = Variant(
        "a", "d", "c", "mlp", defaults={"lr": 1.0}, search_space=(Param("lr", 1e-4, 1.0, log=True),)
    )
    assert a.space_version != b.space_version


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "lr", "low": 1.0, "high": 0.5}, "low < high"),
        ({"name": "lr", "low": 0.0, "high": 1.0, "log": True}, "low > 0"),
        ({"name": "act", "kind": "categorical"}, "needs choices"),
        ({"name": "x", "kind": "vector", "low": 0, "high": 1}, "unknown kind"),
    ],
)
def test_bad_params_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Param(**kwargs)


def test_param_clip():
    p = Param("lr", 1e-4, 1e-1, log=True)
    assert p.clip(1.0) == 1e-1 and p.clip(1e-6) == 1e-4 and p.clip(1e-2) == 1e-2
    assert Param("n", 1, 10, kind="int").clip(3.6) == 4
    assert Param("a", kind="categorical", choices=("x", "y")).clip("z") == "x"


def test_unknown_family_and_bad_space_raise():
    with pytest.raises(ValueError, match="unknown family"):
        Variant("a", "d", "c", "quantum")
    with pytest.raises(ValueError, match="without a default"):
        Variant("a", "d", "c", "mlp", search_space=(Param("lr", 1e-3, 1.0),))
