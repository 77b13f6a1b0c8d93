"""`make setup`'s torch switch, read from `make -n` (nothing is installed): TORCH=cpu installs
torch from PyTorch's CPU index before the project, and the pin then keeps that build."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _plan(tmp_path, *variables: str) -> subprocess.CompletedProcess:
    """The commands `make setup` would run for a fresh venv under tmp_path."""
    return subprocess.run(
        ["make", "-n", "-C", str(ROOT), "setup", f"VENV={tmp_path / 'venv'}", *variables],
        capture_output=True,
        text=True,
        timeout=30,
    )


def _installs(done: subprocess.CompletedProcess) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if " -m pip install " in line]


def test_default_setup_leaves_the_build_to_pips_configured_indexes(tmp_path):
    (project,) = _installs(_plan(tmp_path))
    assert '-e ".[dev]"' in project and "--index-url" not in project


def test_torch_cpu_installs_torch_from_the_cpu_index_before_the_project(tmp_path):
    torch, project = _installs(_plan(tmp_path, "TORCH=cpu"))
    assert torch.endswith(" torch") and "-c constraints.txt" in torch
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch
    assert "--index-url" not in project  # the rest from the usual indexes
    other = _installs(_plan(tmp_path, "TORCH=cpu", "TORCH_INDEX=file:///mirror/cpu"))[0]
    assert "--index-url file:///mirror/cpu" in other


def test_an_unknown_torch_value_stops_make_with_the_known_ones(tmp_path):
    done = _plan(tmp_path, "TORCH=cuda")
    assert done.returncode != 0 and "TORCH=cuda: known values are cpu" in done.stderr


def test_the_pin_accepts_the_cpu_build_so_the_project_install_keeps_it():
    pins = [
        Requirement(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith("torch==")
    ]
    (torch,) = pins
    (pin,) = torch.specifier
    assert torch.specifier.contains(f"{pin.version}+cpu")  # the CPU wheel's local label
