"""`landau export`: every stored frame of one experiment (or of all), as Parquet, CSV or JSON.

One file per frame (runs, epochs, betas, meshes, points, loss_ranking, trials, experiments,
experiment_members, run_settings) in a folder, by default under the results folder:
``landau-results/export/<experiment or all>/``. Columns and dtypes are the data model's
(docs/data-model.md); integer hyperparameters stay integers (nullable Int64). ``--studies`` adds
``studies.db``: the Optuna studies as Optuna's RDB tables in a SQLite file, which
``optuna-dashboard sqlite:///…/studies.db``, ``optuna.load_study`` and the ``optuna`` CLI open.

Every file is written into a hidden folder inside ``--out`` first and renamed into place once
all are written (signals held during the renames), so an export killed or interrupted at any
moment leaves no partial file where the files belong: running it again completes it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

from studies.cli.common import DEFAULT_STORE, add_store_arg, experiment_name
from studies.cli.outputs import check_out_dir

FORMATS = ("parquet", "csv", "json")
STUDIES_FILE = "studies.db"
DEFAULT_EXPORT = "<results folder>/export"  # the store file's folder: landau-results/


def add_parser(sub) -> None:
    export = sub.add_parser(
        "export",
        help="write every stored frame (runs, epochs, betas, trials, …) of one experiment or all",
        description="Write one file per frame: runs, epochs, betas, meshes, points, "
        "loss_ranking, trials, experiments, experiment_members, run_settings.",
    )
    add_store_arg(export)
    export.add_argument("--storage", help="Optuna storage for the trials (default: the store)")
    export.add_argument(
        "--experiment",
        type=experiment_name,
        default=None,
        help="export this experiment only (default: everything)",
    )
    export.add_argument(
        "--format", default="parquet", help=f"{', '.join(FORMATS)} (default: parquet)"
    )
    export.add_argument(
        "--out",
        default=None,
        help=f"output folder (default: {DEFAULT_EXPORT}/<experiment or all>/)",
    )
    export.add_argument(
        "--force", action="store_true", help="overwrite export files already in the folder"
    )
    export.add_argument(
        "--studies",
        action="store_true",
        help=f"also write {STUDIES_FILE}: the Optuna studies in a SQLite file that Optuna's own "
        "tools open (optuna-dashboard sqlite:///…, optuna.load_study, the optuna CLI)",
    )


def _slug(name: str) -> str:
    """A folder name for an experiment name such as ``quick[hidden=64]``."""
    return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", name).strip("._") or "experiment"


def write_frame(frame, path: Path, format: str) -> None:
    from reports.render.escape import spreadsheet_safe

    if format == "parquet":
        frame.to_parquet(path, index=False)
    elif format == "csv":  # a text cell a spreadsheet would run as a formula gets a leading '
        spreadsheet_safe(frame).to_csv(path, index=False)
    else:  # records; integers as integers, NaN/NA as null, times as ISO 8601
        frame.to_json(path, orient="records", date_format="iso", indent=1)


_PARTIAL = ".landau-export-partial-"  # + the writing process's id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_stale_partials(out: Path) -> None:
    """The hidden folders of exports into ``out`` killed before their rename."""
    for folder in out.glob(f"{_PARTIAL}*"):
        pid = folder.name.removeprefix(_PARTIAL)
        if folder.is_dir() and (not pid.isdigit() or not _alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait (are delivered after) while the block runs."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_frames(frames: dict, out: Path, format: str) -> None:
    """Write every frame into ``out`` (an existing folder), all or none of them: into a hidden
    folder there, then renamed into place."""
    _remove_stale_partials(out)
    partial = out / f"{_PARTIAL}{os.getpid()}"
    partial.mkdir()
    try:
        for name, frame in frames.items():
            write_frame(frame, partial / f"{name}.{format}", format)
        with _signals_held():  # renames: microseconds, never half done by a signal
            for name in frames:
                os.replace(partial / f"{name}.{format}", out / f"{name}.{format}")
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def run(args) -> int:
    from studies.report_data import export_frames

    if args.format not in FORMATS:
        raise ValueError(f"unknown format {args.format!r}; known: {', '.join(FORMATS)}")
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(f"no results store at {args.store!r}; nothing to export")
    frames = export_frames(args.store, args.storage, experiment=args.experiment)
    if args.out is not None:
        out = Path(args.out)
        check_out_dir(out, default=None)  # a missing parent is refused, as for report/compare
    else:  # beside the store file (the results folder), never the current folder
        local = "://" not in str(args.store)
        results = Path(args.store).parent if local else Path(DEFAULT_STORE).parent
        out = results / "export" / _slug(args.experiment or "all")
    if out.exists() and not out.is_dir():  # the default folder's name taken by a file
        raise ValueError(f"--out must be a folder, but {str(out)!r} is a file")
    files = [f"{name}.{args.format}" for name in frames]
    files += [STUDIES_FILE] if args.studies else []
    existing = [name for name in files if (out / name).exists()]
    if existing and not args.force:
        raise ValueError(
            f"{str(out)!r} already holds {', '.join(existing[:3])}"
            f"{', …' if len(existing) > 3 else ''}; pass --force to overwrite them"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_frames(frames, out, args.format)
    except OSError as exc:  # read-only or full file system, a missing parent's permissions, ...
        raise ValueError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in frames.items())
    print(f"wrote {len(frames)} {args.format} files to {out}/ (rows: {counts})")
    if args.studies:
        _write_studies(args, out / STUDIES_FILE)
    return 0


def _write_studies(args, path: Path) -> None:
    """The studies of the export (those of --experiment, or all) as Optuna's RDB tables."""
    from studies.store import Store
    from studies.tuning import export_studies, open_storage

    storage = open_storage(args.storage or args.store, create=False)
    have = {s.study_name for s in storage.get_all_studies()} if storage is not None else set()
    names = have
    if args.experiment is not None:
        with Store(args.store) as store:
            names = store.experiment_members(args.experiment)[1] & have
    if not names:
        print(f"no Optuna studies to write to {STUDIES_FILE}")
        return
    path.unlink(missing_ok=True)  # --force was checked with the other files
    written = export_studies(storage, path, names)
    print(
        f"wrote {len(written)} Optuna studies to {path}; open them with "
        f"optuna-dashboard sqlite:///{path.resolve()}"
    )
