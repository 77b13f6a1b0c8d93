"""One configuration path: preset -> defaults -> [params] -> tuned -> run config -> optimizer,
validated against the registry's declared parameters and coerced once, before hashing."""

from __future__ import annotations

import math

import pytest
import torch

from ablations import BLOG
from studies.cli import main
from studies.experiment.config import RunConfig
from studies.experiment.grid_file import grid_from_dict
from studies.experiment.models import build_model, build_optimizer

BASE = {"variants": ["full", "logreg"], "datasets": ["moons"], "seeds": 1, "depths": [1]}


def _runs(depth=1, **params):
    return grid_from_dict({**BASE, "depths": [depth], "params": params}).expand()


def test_equal_values_of_another_type_are_one_run():
    assert [r.run_id for r in _runs(temperature=0)] == [r.run_id for r in _runs(temperature=0.0)]
    assert [r.run_id for r in _runs(hidden=64)] == [r.run_id for r in _runs(hidden=64.0)]
    assert [r.run_id for r in _runs(temperature=0)] != [r.run_id for r in _runs(temperature=1e-3)]


def test_a_value_travels_from_the_grid_to_the_optimizer():
    runs = _runs(depth=2, temperature=0.5, lr=0.02, hidden=8)
    full = next(r for r in runs if r.variant == "full")
    assert full.params["temperature"] == 0.5 and isinstance(full.params["hidden"], int)
    model = build_model(full, 2, 2)
    assert model.llayer1.w.shape[0] == 8
    group = build_optimizer(full, model, torch.Generator()).param_groups[0]
    assert (group["temperature"], group["lr"]) == (0.5, 0.02)


def test_preset_then_params_then_tuned_in_that_order():
    spec = grid_from_dict({**BASE, "variants": ["full"], "preset": "blog", "params": {"lr": 0.05}})
    (run,) = spec.expand()
    assert run.params["lr"] == 0.05 and run.params["gamma"] == BLOG["gamma"]
    tuned = {("full", "moons", 1): ({"lr": 0.07}, "study", 3)}
    (run,) = spec.expand(tuned=tuned)
    assert run.params["lr"] == 0.07 and run.params_source == "study:study#3"


def test_a_grid_parameter_applies_to_the_variants_that_have_it():
    runs = {r.variant: r for r in _runs(C=0.5, lr=0.02)}
    assert runs["logreg"].params["C"] == 0.5 and "lr" not in runs["logreg"].params
    assert runs["full"].params["lr"] == 0.02 and "C" not in runs["full"].params


@pytest.mark.parametrize(
    "params, message",
    [
        ({"temprature": 0.5}, "unknown parameter 'temprature' in \\[params\\]; the grid's "),
        ({"hidden": -5}, "`1 <= hidden <= 16384` must hold, but got hidden=-5"),
        ({"hidden": 2.5}, "`hidden` must be an integer, but got hidden=2.5"),
        ({"lr": "abc"}, "`lr` must be a number \\(float\\), but got lr='abc'"),
        ({"lr": math.nan}, "`lr` must be finite, but got lr=nan"),
        ({"lr": 0}, "`lr > 0` must hold, but got lr=0.0"),
        ({"momentum": 1.0}, "`0 <= momentum < 1` must hold"),
        ({"temperature": True}, "`temperature` must be a number"),
    ],
)
def test_bad_parameters_are_refused_before_any_run(params, message):
    with pytest.raises(ValueError, match=message):
        grid_from_dict({**BASE, "variants": ["full", "sgd", "logreg"], "params": params})


def test_run_config_refuses_an_unknown_parameter_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown parameter 'C' for full; known: alpha, "):
        RunConfig("full", "moons", 0, 1, 1, {"C": 1.0})


@pytest.mark.parametrize(
    "toml, message",
    [
        ("variants = 5", "`variants` must be a list of variant names, but got variants=5"),
        ("params = 5", "`params` must be a table"),
        ("tuning = 5", "`tuning` must be a table"),
        ("name = 5", "`name` must be a string, but got name=5"),
        ("seeds = 2.5", "`seeds` must be an integer"),
    ],
)
def test_toml_values_of_the_wrong_type_are_bad_input(tmp_path, capsys, toml, message):
    lines = {"variants": 'variants = ["full"]', "datasets": 'datasets = ["moons"]'}
    lines[toml.split(" =")[0]] = toml
    path = tmp_path / "g.toml"
    path.write_text("\n".join(lines.values()) + "\n")
    code = main(["grid", str(path), "--store", str(tmp_path / "r.db"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.db").exists()


def test_an_unknown_parameter_key_is_exit_2_naming_it(tmp_path, capsys):
    path = tmp_path / "g.toml"
    path.write_text('variants = ["full"]\ndatasets = ["moons"]\n[params]\ntemprature = 0.5\n')
    code = main(["grid", str(path), "--store", str(tmp_path / "r.db"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown parameter 'temprature'" in err and "temperature" in err
    assert not (tmp_path / "r.db").exists()


def test_data_seeds_repeat_every_cell_on_independent_splits_paired_across_variants():
    spec = grid_from_dict({**BASE, "variants": ["full", "sgd"], "seeds": 2, "data_seeds": 2})
    runs = spec.expand()
    assert len(runs) == 2 * 2 * 2 and len({r.run_id for r in runs}) == 8
    by = {(r.variant, r.data_seed, r.seed): r for r in runs}
    assert {k[1] for k in by} == {0, 1}
    for split in (0, 1):
        for seed in (0, 1):  # paired: the same training seed for every variant
            assert by[("full", split, seed)].train_seed == by[("sgd", split, seed)].train_seed
    assert by[("full", 0, 0)].train_seed != by[("full", 1, 0)].train_seed
    assert "data_seed=1" in by[("full", 1, 0)].name and "data_seed" not in by[("full", 0, 0)].name
    with pytest.raises(ValueError, match="`data_seeds >= 1` must hold, but got data_seeds=0"):
        grid_from_dict({**BASE, "data_seeds": 0})


def test_narrowing_the_variants_narrows_the_sweep_with_them():
    spec = grid_from_dict(
        {
            **BASE,
            "variants": ["full", "sgd", "no_quartic"],
            "sweep": {"temperature": [0.0, 8e-3], "variants": ["full", "no_quartic"]},
        }
    )
    assert len([r for r in spec.expand() if r.variant == "no_quartic"]) == 2
    narrowed = spec.with_overrides(variants=("no_quartic", "sgd"))
    assert len([r for r in narrowed.expand() if r.variant == "no_quartic"]) == 2
    unswept = spec.with_overrides(variants=("sgd",))
    assert len(unswept.expand()) == 1  # sgd alone: nothing left to sweep
