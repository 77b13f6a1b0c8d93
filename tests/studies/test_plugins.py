"""The users' own variants: a plugin module named in a grid file (or installed under the
entry-point group) registers variants and activations without editing the package.

tests/plugins/example_variant.py is loaded for the whole session by tests/conftest.py; the
contract tests parametrised from the registries run its entries like the built-ins.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import studies.report_data as report_data
from landau import ACTIVATIONS
from studies.cli import main
from studies.experiment import REGISTRY, RunConfig
from studies.experiment import plugins as plugins_module
from studies.experiment.plugins import ENTRY_POINT_GROUP, load_entry_points, loaded_plugins
from studies.store import Store

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
GRID = PLUGINS / "example_grid.toml"
REPO = PLUGINS.parents[1]


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_the_example_plugin_is_registered_with_its_origin():
    entry = REGISTRY["gelu_mlp"]
    assert Path(entry.origin) == PLUGINS / "example_variant.py"
    assert REGISTRY["full"].origin == ""
    assert "gelu" in ACTIVATIONS
    assert [p.kind for p in entry.search_space] == ["float", "int"]
    assert any(p.module == "example_variant" for p in loaded_plugins())
    config = RunConfig("gelu_mlp", "moons", 0, 2, 1, {"hidden": 40})
    assert config.params["hidden"] == 40 and config.settings["activation"] == "gelu"


def _grid(tmp_path: Path, module: str, source: str | None) -> str:
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
    spec = tmp_path / "g.toml"
    spec.write_text(f'plugins = ["{module}"]\nvariants = ["full"]\ndatasets = ["moons"]\n')
    return str(spec)


VARIANT = (
    "from ablations import landau_variant\n"
    'VARIANTS = (landau_variant({name!r}, "d", "c", {settings!r}),)\n'
)
BAD = [
    ("no_such_plugin_mod", None, "plugin 'no_such_plugin_mod' cannot be imported"),
    ("raises_plugin_mod", "raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("empty_plugin_mod", "X = 1\n", "declares neither VARIANTS nor ACTIVATIONS"),
    (
        "dup_variant_mod",
        VARIANT.format(name="full", settings={}),
        "plugin 'dup_variant_mod': duplicate variant 'full'",
    ),
    (
        "dup_act_mod",
        "import torch\n"
        "ACTIVATIONS = {'relu': torch.relu, 'softsign_': torch.nn.functional.softsign}\n"
        + VARIANT.format(name="soft_one", settings={"activation": "softsign_"}),
        "duplicate activation 'relu'",
    ),
    (
        "unknown_act_mod",
        VARIANT.format(name="swishy", settings={"activation": "swish"}),
        "variant 'swishy' uses unknown activation 'swish'",
    ),
    (
        "unknown_setting_mod",
        VARIANT.format(name="typo", settings={"quartik": False}),
        "unknown=['quartik']",
    ),
]


@pytest.mark.parametrize("module, source, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_plugin_is_one_line_exit_2_and_registers_nothing(
    module, source, message, tmp_path, capsys
):
    registry, activations = dict(REGISTRY), dict(ACTIVATIONS)
    spec = _grid(tmp_path, module, source)
    assert main(["grid", spec, "--store", str(tmp_path / "r.db"), "--no-progress"]) == 2
    err = _error(capsys)
    assert message in err and err.startswith(f"landau grid: error: {spec}: plugin")
    assert REGISTRY == registry and ACTIVATIONS == activations
    assert not (tmp_path / "r.db").exists()


def test_plugins_must_be_a_list_of_names(tmp_path, capsys):
    spec = tmp_path / "g.toml"
    spec.write_text('plugins = "mine"\nvariants = ["full"]\ndatasets = ["moons"]\n')
    assert main(["grid", str(spec), "--store", str(tmp_path / "r.db")]) == 2
    assert "`plugins` must be a list of module names" in _error(capsys)


def test_an_installed_entry_point_registers_its_variants(tmp_path, monkeypatch):
    (tmp_path / "installed_plugin_mod.py").write_text(
        VARIANT.format(name="installed_full", settings={"quadratic": False})
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = metadata.EntryPoint("mine", "installed_plugin_mod", ENTRY_POINT_GROUP)

    def entry_points(group):
        return [entry] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(plugins_module.metadata, "entry_points", entry_points)
    monkeypatch.setattr(plugins_module, "_LOADED", dict(plugins_module._LOADED))
    load_entry_points()
    load_entry_points()  # once per process
    try:
        assert REGISTRY["installed_full"].settings["quadratic"] is False
        assert Path(REGISTRY["installed_full"].origin) == tmp_path / "installed_plugin_mod.py"
    finally:
        REGISTRY.pop("installed_full", None)


def test_grid_tune_and_report_with_a_plugin_variant(tmp_path, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(report_data, "build_report", lambda data, out, **kw: seen.append(data))
    store = str(tmp_path / "r.db")
    common = ["--store", store, "--no-progress"]
    assert main(["grid", str(GRID), *common]) == 0
    assert "4 runs: 0 already stored, 4 executed (4 ok" in capsys.readouterr().out
    assert main(["tune", str(GRID), *common]) == 0
    assert "2 studies" in capsys.readouterr().out
    assert main(["grid", str(GRID), "--tuned", *common]) == 0
    assert main(["report", "--store", store, "--out", str(tmp_path / "out")]) == 0
    (data,) = seen
    runs = data.runs
    assert {"gelu_mlp", "plain_mlp"} == set(runs["variant"])
    tuned = runs[(runs["variant"] == "gelu_mlp") & runs["params_source"].str.startswith("study:")]
    assert len(tuned) == 2 and tuned["hp_hidden"].between(8, 64).all()
    with Store(store) as s:
        fingerprints = s.runs_frame().set_index("variant")["code_fingerprint"]
    # the plugin's own file joins the fingerprint of its variants' runs
    assert fingerprints["gelu_mlp"].iloc[0] != fingerprints["plain_mlp"].iloc[0]


@pytest.mark.slow
def test_a_fresh_interpreter_loads_the_plugin_from_the_grid_file_in_its_workers(tmp_path):
    """Nothing preloaded: the grid file's `plugins` key is all the CLI has, and the two worker
    processes (spawned) register the plugin again to rebuild its runs."""
    store = tmp_path / "r.db"
    done = subprocess.run(
        [sys.executable, "-m", "studies.cli", "grid", str(GRID), "--store", str(store)]
        + ["--workers", "2", "--seed-batch", "1", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "4 runs: 0 already stored, 4 executed (4 ok" in done.stdout
