"""The registry is data: entries are complete, names unique, spaces consistent."""

import re
from pathlib import Path

import pytest

from ablations import (
    BLOG,
    LANDAU_OPTIONS,
    VARIANTS,
    Param,
    Variant,
    build_registry,
)
from baselines import BASELINES
from studies.experiment.config import RunConfig
from studies.experiment.registry import REGISTRY

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


ENTRIES = list(REGISTRY.values())  # the built-ins and every loaded plugin's entries


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entries_are_described_and_their_defaults_lie_in_their_space(entry: Variant):
    """A default outside the search space would be a model tuning can never return to."""
    assert entry.description and entry.changes
    assert entry.search_space, "every entry is tunable"
    for param in entry.search_space:
        default = entry.defaults[param.name]
        if param.log and default == 0:
            continue  # "off" (e.g. plain_mlp's weight_decay = 0) has no place on a log scale
        assert param.clip(default) == default, (param.name, default, param.low, param.high)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_entry_refuses_bad_input_naming_the_rule(entry: Variant):
    """Bad input to a run of any entry is a ValueError naming what is wrong, before training."""
    depth = entry.depths[0]
    with pytest.raises(ValueError, match=r"unknown parameter 'no_such_param' for .*; known: "):
        RunConfig(entry.name, "moons", 0, depth, 1, {"no_such_param": 1.0})
    with pytest.raises(ValueError, match=r"unknown depth 7 .*; known: "):
        RunConfig(entry.name, "moons", 0, 7, 1)
    with pytest.raises(ValueError, match="unknown dataset 'no_such_data'"):
        RunConfig(entry.name, "no_such_data", 0, depth, 1)
    for param in entry.search_space:
        if param.kind != "categorical":
            with pytest.raises(ValueError, match=f"`{param.name}` must be a number"):
                RunConfig(entry.name, "moons", 0, depth, 1, {param.name: "high"})


# The blog's table, as printed in the seed post (both columns carry the same values); the test
# below reads the post itself when it is there (../shared/seeds beside the checkout).
BLOG_TABLE = {
    "epochs": 100,
    "alpha": 0.0095,
    "gamma": 6.5,
    "beta_init": 1e-3,
    "lr": 1e-2,
    "kappa": 1e-2,
    "hidden": 156,
    "damping": 0.001,
    "temperature": 0.008,
    "dt": 0.001,
}
_TABLE_ROWS = {
    "Epoch": "epochs",
    "alpha": "alpha",
    "gamma": "gamma",
    "beta init": "beta_init",
    "learning rate": "lr",
    "kappa": "kappa",
    "hidden layer": "hidden",
    "damping": "damping",
    "temperature": "temperature",
    "dt": "dt",
}
BLOG_POST = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "landau-network-blog.txt"


def test_the_transcribed_table_is_the_blogs():
    if not BLOG_POST.is_file():
        pytest.skip(f"seed blog post not found at {BLOG_POST}")
    text = BLOG_POST.read_text()
    table = {}
    for row, key in _TABLE_ROWS.items():  # the last column is the 2-layer model's
        match = re.search(rf"^{row} .*?(\S+?)(?: epochs)?$", text, re.M)
        assert match, f"row {row!r} not found in the blog's table"
        table[key] = float(match[1])
    assert table == pytest.approx({k: float(v) for k, v in BLOG_TABLE.items()})


def test_the_full_model_runs_with_the_blog_table():
    """What a run of ``full`` is configured with, not how the defaults are assembled."""
    params = RunConfig("full", "moons", 0, 2, 1).params
    table = {k: v for k, v in BLOG_TABLE.items() if k != "epochs"}
    assert {k: params[k] for k in table} == table
    assert dict(BLOG) == BLOG_TABLE  # the preset Landau studies start from


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
