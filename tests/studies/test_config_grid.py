"""Run configs (hash, name, seeds) and grid specs (TOML, expansion, bad input)."""

import pytest

from studies.experiment.config import RunConfig, derive_seed
from studies.experiment.grid import GridSpec
from studies.experiment.grid_file import grid_names, load_grid


def test_name_reads_like_benchopt():
    assert RunConfig("full", "moons", 3, 2, 5).name == "full[dataset=moons,seed=3,depth=2]"


def test_run_id_depends_on_everything_that_determines_the_result():
    base = RunConfig("full", "moons", 0, 2, 5)
    assert base.run_id == RunConfig("full", "moons", 0, 2, 5).run_id
    changed = [
        RunConfig("no_quartic", "moons", 0, 2, 5),
        RunConfig("full", "circles", 0, 2, 5),
        RunConfig("full", "moons", 1, 2, 5),
        RunConfig("full", "moons", 0, 1, 5),
        RunConfig("full", "moons", 0, 2, 6),
        RunConfig("full", "moons", 0, 2, 5, {"lr": 0.02}),
        RunConfig("full", "moons", 0, 2, 5, data_seed=1),
        RunConfig("full", "moons", 0, 2, 5, base_seed=1),
    ]
    assert len({c.run_id for c in changed} | {base.run_id}) == len(changed) + 1


def test_provenance_is_not_part_of_the_hash():
    a = RunConfig("full", "moons", 0, 2, 5, grid="quick", params_source="defaults")
    b = RunConfig(
        "full",
        "moons",
        0,
        2,
        5,
        grid="other",
        params_source="study:x#3",
        study_name="x",
        trial_number=3,
    )
    assert a.run_id == b.run_id


def test_seeds_are_paired_across_variants_and_differ_across_datasets_and_repetitions():
    assert (
        RunConfig("full", "moons", 2, 1, 5).train_seed
        == RunConfig("plain_mlp", "moons", 2, 2, 5).train_seed
    )
    assert derive_seed(0, "moons", 0) != derive_seed(0, "moons", 1) != derive_seed(0, "circles", 1)


def test_config_round_trips_through_kwargs():
    cfg = RunConfig("sgd", "digits", 1, 2, 3, {"lr": 0.05}, grid="g")
    assert RunConfig(**cfg.to_kwargs()) == cfg
    assert cfg.params["momentum"] == 0.9 and cfg.params["lr"] == 0.05


@pytest.mark.parametrize(
    "args, message",
    [
        (("ful", "moons", 0, 1, 1), "unknown variant 'ful'; known: full, no_quartic"),
        (("full", "moon", 0, 1, 1), "unknown dataset 'moon'; known: moons"),
        (("full", "moons", -1, 1, 1), "`seed >= 0` must hold"),
        (("full", "moons", 0, 3, 1), "unknown depth 3"),
        (("logreg", "moons", 0, 2, 1), "unknown depth 2 for logreg"),
        (("full", "moons", 0, 1, 0), "`epochs >= 1` must hold, but got epochs=0"),
    ],
)
def test_bad_configs_raise(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        RunConfig(*args)


def test_unknown_param_raises_and_lists_known():
    with pytest.raises(ValueError, match="unknown parameter 'lrr' for full; known: alpha"):
        RunConfig("full", "moons", 0, 1, 1, {"lrr": 1})


def test_shipped_grids_load_and_expand():
    assert {"quick", "standard", "paper"} <= set(grid_names())
    quick = load_grid("quick")
    assert set(quick.datasets) == {"moons", "circles", "classification", "digits", "mnist1d"}
    assert set(quick.variants) == {
        "full",
        "no_quartic",
        "static_beta",
        "sgd",
        "plain_mlp",
        "logreg",
    }
    runs = quick.expand()
    # logreg has one layer only: 5 variants x 5 datasets x 2 depths x 3 seeds + 5 x 3
    assert len(runs) == 5 * 5 * 2 * 3 + 5 * 3
    assert len({r.run_id for r in runs}) == len(runs)
    standard = load_grid("standard")
    assert len(standard.datasets) == 20 and "mnist" not in standard.datasets  # cost: docs/grids.md
    assert {standard.epochs_for(d) for d in standard.datasets} <= set(range(30, 61, 5))
    tuned = load_grid("standard-tuned")
    assert tuned.tuning.trials >= 30 and tuned.tuning.pruner == "hyperband"
    assert tuned.tuning.for_dataset("titanic").epochs == standard.epochs_for("titanic") == 35
    replicate = load_grid("standard-replicate")
    assert (replicate.base_seed, replicate.data_seed) != (standard.base_seed, standard.data_seed)
    assert replicate.datasets == standard.datasets and replicate.variants == standard.variants


def test_paper_grid_is_the_blog_preset():
    runs = load_grid("paper").expand()
    full = [r for r in runs if r.variant == "full"]
    assert full and all(r.params_source == "preset:blog" and r.epochs == 100 for r in full)
    assert all(r.params["gamma"] == 6.5 and r.params["hidden"] == 156 for r in full)


def test_tuned_parameters_record_their_study():
    spec = GridSpec("g", ("full",), ("moons",), seeds=1, depths=(1,), epochs=2)
    runs = spec.expand(tuned={("full", "moons", 1): ({"lr": 0.05}, "study-a", 7)})
    assert runs[0].params["lr"] == 0.05
    assert (runs[0].params_source, runs[0].study_name, runs[0].trial_number) == (
        "study:study-a#7",
        "study-a",
        7,
    )


def test_overrides_apply_and_validate():
    spec = load_grid("quick").with_overrides(seeds=1, depths=(1,), epochs=2, variants=("full",))
    assert (spec.seeds, spec.depths, spec.epochs, spec.variants) == (1, (1,), 2, ("full",))
    with pytest.raises(ValueError, match="`seeds >= 1` must hold, but got seeds=0"):
        load_grid("quick").with_overrides(seeds=0)
    with pytest.raises(ValueError, match="unknown depth 3"):
        load_grid("quick").with_overrides(depths=(3,))


def test_unknown_grid_lists_known(tmp_path):
    known = "known: claims, convergence, paper, quick, real, standard, standard-replicate, "
    with pytest.raises(ValueError, match=f"unknown grid 'quik'; {known}"):
        load_grid("quik")
    with pytest.raises(ValueError, match="does not exist"):
        load_grid(str(tmp_path / "nope.toml"))


def test_malformed_toml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('variants = ["full"]\ndatasets = ["moons"\nseeds = 2\n')
    with pytest.raises(ValueError, match=r"malformed TOML in .*bad.toml: .*line 3"):
        load_grid(str(path))


def test_toml_with_unknown_key_or_name(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('variants = ["full"]\ndatasets = ["moons"]\nseed = 2\n')
    with pytest.raises(ValueError, match="unknown keys \\['seed'\\]"):
        load_grid(str(path))
    path.write_text('variants = ["fulll"]\ndatasets = ["moons"]\n')
    with pytest.raises(ValueError, match="unknown variant 'fulll'"):
        load_grid(str(path))


def test_custom_toml_grid(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'variants = ["full", "logreg"]\ndatasets = ["moons"]\nseeds = 2\ndepths = [1]\n'
        "epochs = 3\n[tuning]\ntrials = 4\n"
    )
    spec = load_grid(str(path))
    assert spec.name == "mine" and spec.tuning.trials == 4
    runs = spec.expand()  # 2 seeds x (full at depth 1, logreg at depth 1)
    assert sorted((r.variant, r.seed, r.depth, r.epochs) for r in runs) == [
        ("full", 0, 1, 3),
        ("full", 1, 1, 3),
        ("logreg", 0, 1, 3),
        ("logreg", 1, 1, 3),
    ]


def test_a_study_without_complete_trial_falls_back_to_labelled_defaults():
    spec = GridSpec("g", ("full",), ("moons",), seeds=1, depths=(1,), epochs=2)
    runs = spec.expand(tuned={("full", "moons", 1): ({}, "study-b", None)})
    assert runs[0].params["lr"] == 0.01
    assert (runs[0].params_source, runs[0].study_name) == ("untuned:study-b", "study-b")


def test_sweep_multiplies_the_grid_and_names_and_hashes_each_value():
    spec = GridSpec(
        "g", ("full", "sgd"), ("moons",), seeds=2, depths=(1,), epochs=2,
        sweep={"temperature": [0, 8e-5, 8e-3]},
    )  # fmt: skip
    runs = spec.expand()
    full = [r for r in runs if r.variant == "full"]
    sgd = [r for r in runs if r.variant == "sgd"]
    # full has temperature in its search space: 3 values x 2 seeds; sgd runs once per seed
    assert len(full) == 6 and len(sgd) == 2
    assert {r.params["temperature"] for r in full} == {0.0, 8e-5, 8e-3}
    assert len({r.run_id for r in full}) == 6
    assert full[0].name == "full[dataset=moons,seed=0,depth=1,temperature=0.0]"
    assert full[0].sweep_text == "temperature=0.0" and sgd[0].sweep_text is None
    # the swept value at the default is the unswept run (same parameters, same hash)
    plain = GridSpec("g", ("full",), ("moons",), seeds=1, depths=(1,), epochs=2).expand()[0]
    assert plain.run_id == next(r for r in full if r.params["temperature"] == 8e-3).run_id


def test_sweep_values_are_validated_and_coerced_like_params():
    with pytest.raises(ValueError, match="temperature >= 0"):
        GridSpec("g", ("full",), ("moons",), sweep={"temperature": [-1.0]})
    with pytest.raises(ValueError, match="unknown parameter 'temprature' in \\[sweep\\]"):
        GridSpec("g", ("full",), ("moons",), sweep={"temprature": [0.0]})
    with pytest.raises(ValueError, match="repeats a value"):
        GridSpec("g", ("full",), ("moons",), sweep={"temperature": [0, 0.0]})
    with pytest.raises(ValueError, match="non-empty list"):
        GridSpec("g", ("full",), ("moons",), sweep={"temperature": 0.0})


def test_tuned_runs_are_not_swept():
    spec = GridSpec(
        "g", ("full",), ("moons",), seeds=1, depths=(1,), epochs=2, sweep={"temperature": [0, 1]}
    )
    (run,) = spec.expand(tuned={("full", "moons", 1): ({"temperature": 0.5}, "s", 3)})
    assert run.sweep == () and run.params["temperature"] == 0.5


def test_sweep_and_diagnostics_tables_load_from_toml(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text(
        'variants = ["full"]\ndatasets = ["moons"]\n[sweep]\ntemperature = [0, 8e-3]\n'
        "[diagnostics]\niterations = 5\nprobes = 2\n"
    )
    spec = load_grid(path)
    assert spec.sweep == {"temperature": (0.0, 8e-3)}
    assert spec.diagnostics.iterations == 5 and spec.diagnostics.subset == 512
    path.write_text('variants = ["full"]\ndatasets = ["moons"]\n[diagnostics]\nprobs = 2\n')
    with pytest.raises(ValueError, match="unknown keys \\['probs'\\] in \\[diagnostics\\]"):
        load_grid(path)
    cfg = spec.expand()[0]
    assert RunConfig(**cfg.to_kwargs()) == cfg


def test_sweep_variants_restricts_the_sweep():
    spec = GridSpec(
        "g", ("full", "no_quartic"), ("moons",), seeds=1, depths=(1,), epochs=2,
        sweep={"temperature": [0, 8e-3], "variants": ["full"]},
    )  # fmt: skip
    runs = spec.expand()
    assert sorted(r.variant for r in runs) == ["full", "full", "no_quartic"]
    with pytest.raises(ValueError, match="not variants of the grid"):
        GridSpec("g", ("full",), ("moons",), sweep={"temperature": [0.0], "variants": ["sgd"]})


def test_dataset_epochs_override_the_grids_epochs_for_one_dataset():
    spec = GridSpec(
        "g", ("full",), ("moons", "digits"), seeds=1, depths=(1,), epochs=10,
        dataset_epochs={"digits": 3},
    )  # fmt: skip
    assert {r.dataset: r.epochs for r in spec.expand()} == {"moons": 10, "digits": 3}
    with pytest.raises(ValueError, match="unknown dataset 'mnst' in \\[dataset_epochs\\]"):
        GridSpec("g", ("full",), ("moons",), dataset_epochs={"mnst": 3})
    # a dataset the CLI's --datasets left out keeps its entry harmlessly
    assert GridSpec("g", ("full",), ("moons",), dataset_epochs={"mnist": 3}).expand()
