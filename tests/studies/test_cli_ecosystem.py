"""The everyday commands around the grid: --version, a fast `list`, --set overrides, exports
of every frame, compare, the plan line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studies.cli import main

_HEAVY = ("torch", "sklearn", "optuna", "scipy", "pandas", "matplotlib")


def test_version_prints_the_suite_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("landau ")


def test_list_imports_neither_torch_nor_scikit_learn():
    """In a fresh interpreter: `landau list` prints the registry, the datasets with their
    descriptions and the grids, and leaves torch and scikit-learn unimported."""
    code = (
        "import json, sys\n"
        "from studies.cli import main\n"
        "status = main(['list'])\n"
        f"print(json.dumps([status, [m for m in {_HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    *listing, last = done.stdout.strip().splitlines()
    status, imported = json.loads(last)
    assert status == 0 and imported == []
    text = "\n".join(listing)
    for expected in ("full", "plain_mlp", "logreg", "two interleaving half-moons", "quick"):
        assert expected in text
