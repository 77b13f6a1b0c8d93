"""Gather a ``reports.ReportData`` from the results store and the Optuna storage, and build the
report. Frames follow docs/data-model.md; no Optuna tables (nothing tuned yet) gives empty
trials and importances frames, never an error, and leaves the database as it was.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import pandas as pd
from optuna.importance import FanovaImportanceEvaluator, get_param_importances
from optuna.trial import TrialState

from reports import ReportData, build_report
from reports.build import REPORT_ENTRIES
from reports.data import add_settings
from reports.paths import slug
from reports.replication import claims_of
from studies.store.experiments import SETTING_COLUMNS
from studies.store.rows import params_columns
from studies.store.store import Store
from studies.tuning.storage import open_storage

__all__ = [
    "TRIAL_COLUMNS",
    "IMPORTANCE_COLUMNS",
    "build",
    "export_frames",
    "report_folder",
    "gather",
    "store_frames",
    "importances_frame",
    "trials_frame",
]

TRIAL_COLUMNS = [
    "study_name",
    "variant",
    "dataset",
    "depth",
    "number",
    "state",
    "value",
    "seconds",
    "source",
]
IMPORTANCE_COLUMNS = [
    "study_name",
    "variant",
    "dataset",
    "depth",
    "param",
    "importance",
    "evaluator",
]
_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def _our_studies(storage, names: set[str] | None = None) -> list:
    """The studies made by ``landau tune`` (they carry variant/dataset/depth user attrs), only
    those called ``names`` when given."""
    if storage is None:
        return []
    studies = [
        s
        for s in storage.get_all_studies()
        if {"variant", "dataset", "depth"} <= set(s.user_attrs)
        and (names is None or s.study_name in names)
    ]
    return sorted(studies, key=lambda s: s.study_name)


def _ids(study) -> dict:
    a = study.user_attrs
    return {
        "study_name": study.study_name,
        "variant": a["variant"],
        "dataset": a["dataset"],
        "depth": int(a["depth"]),
    }


def trials_frame(storage, names: set[str] | None = None) -> pd.DataFrame:
    """One row per finished trial of every landau study, or of the studies called ``names``
    (params as ``param_<name>`` columns)."""
    rows, params = [], []
    for study in _our_studies(storage, names):
        study_id = storage.get_study_id_from_name(study.study_name)
        for t in storage.get_all_trials(study_id, deepcopy=False, states=_STATES):
            seconds = None
            if t.datetime_start is not None and t.datetime_complete is not None:
                seconds = (t.datetime_complete - t.datetime_start).total_seconds()
            rows.append(
                {
                    **_ids(study),
                    "number": t.number,
                    "state": t.state.name,
                    "value": t.value,
                    "seconds": seconds,
                    "source": t.user_attrs.get("source", "sampler"),
                }
            )
            params.append(dict(t.params))
    frame = pd.DataFrame(rows, columns=TRIAL_COLUMNS)
    return frame.join(params_columns(params, "param_", frame.index))  # ints stay ints


def importances_frame(
    storage, evaluator=None, names: set[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Parameter importances per study (fANOVA with a fixed seed unless ``evaluator`` is given)
    and notes on the studies skipped (fewer than 2 complete trials)."""
    evaluator = evaluator or FanovaImportanceEvaluator(seed=0)
    name = type(evaluator).__name__
    rows, skipped = [], []
    for study in _our_studies(storage, names):
        loaded = optuna.load_study(
            study_name=study.study_name,
            storage=storage,
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        n_complete = len(loaded.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if n_complete < 2:
            skipped.append(f"{study.study_name} ({n_complete} complete)")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few-trial warnings: the count is in the trials table
            try:
                importances = get_param_importances(loaded, evaluator=evaluator, normalize=True)
            except RuntimeError as exc:  # fANOVA: every complete trial has the same value
                skipped.append(f"{study.study_name} ({exc})")
                continue
        rows += [
            {**_ids(study), "param": p, "importance": float(v), "evaluator": name}
            for p, v in importances.items()
        ]
    return pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS), skipped


def store_frames(store: Store, experiment: str | None) -> tuple[dict, set[str] | None, list]:
    """The store's frames (runs, epochs, betas, meshes, points, loss_ranking) of
    ``experiment``'s runs, or of every run when it is None; the names of its studies (None:
    every study) and notes."""
    frames = {
        "runs": store.runs_frame(),
        "epochs": store.epochs_frame(),
        "betas": store.betas_frame(),
        "meshes": store.meshes_frame(),
        "points": store.points_frame(),
        "loss_ranking": store.loss_ranking_frame(),
    }
    if experiment is None:
        return frames, None, []
    notes = []
    run_ids, study_names = store.experiment_members(experiment)
    for key in ("runs", "epochs", "betas", "meshes"):
        frame = frames[key]
        frames[key] = frame[frame["run_id"].isin(run_ids)].reset_index(drop=True)
    datasets = set(frames["runs"]["dataset"])
    frames["points"] = frames["points"][frames["points"]["dataset"].isin(datasets)]
    frames["points"] = frames["points"].reset_index(drop=True)
    # Studies that fed the experiment's tuned runs belong to it too.
    study_names = set(study_names) | set(frames["runs"]["study_name"].dropna())
    missing = len(run_ids) - len(frames["runs"])
    if missing:
        notes.append(f"experiment {experiment!r}: {missing} of its runs are not stored yet")
    return frames, study_names, notes


def gather(
    store_url: str | Path,
    storage_url: str | Path | None = None,
    *,
    meta: dict | None = None,
    experiment: str | None = None,
    replicate: str | None = None,
) -> tuple[ReportData, list[str]]:
    """The report's input: the runs and studies of ``experiment`` (default: the experiment
    written most recently; the whole store when it has no experiments) from the store at
    ``store_url`` and the studies at ``storage_url`` (default: the store), and notes worth
    printing. Runs and studies outside the experiment never reach the report. With
    ``replicate`` (another experiment of the store: the same design at another base seed and
    data seed), its claims table too, computed on its own runs by the same rules."""
    with Store(store_url) as store:
        experiment = experiment or store.latest_experiment()
        if replicate is not None and replicate == experiment:
            raise ValueError(
                f"--replicate must name another experiment than the one reported, but got "
                f"{replicate!r} for both"
            )
        frames, study_names, notes = store_frames(store, experiment)
        members = store.experiment_members(experiment)[0] if experiment else set()
        missing_runs = len(members - set(frames["runs"]["run_id"]))
        # a run asked for under two settings (fixed and tuned) counts under both
        frames["runs"] = add_settings(frames["runs"], store.run_settings_frame(experiment))
        replicate_claims = _replicate_claims(store, replicate, meta, notes)
        url = store.url
    storage = open_storage(storage_url or store_url, create=False)
    trials = trials_frame(storage, study_names)
    importances, skipped = importances_frame(storage, names=study_names)
    if storage is None:
        notes.append("no Optuna studies found: the tuning sections say how to produce them")
    if skipped:
        notes.append(
            f"importances skipped for {len(skipped)} studies (fewer than 2 complete "
            f"trials, or no variance): {'; '.join(skipped)}"
        )
    meta = {
        "store": url,
        "importances_skipped": skipped,
        "experiment": experiment,
        "missing_runs": missing_runs,
        **({"replicate": replicate} if replicate is not None else {}),
        **(meta or {}),
    }
    data = ReportData(
        **frames, trials=trials, importances=importances, replicate_claims=replicate_claims,
        meta=meta,
    )  # fmt: skip
    return data, notes


def _replicate_claims(
    store: Store, replicate: str | None, meta: dict | None, notes: list[str]
) -> pd.DataFrame:
    """The claims table of experiment ``replicate`` (empty when None), from its own runs."""
    if replicate is None:
        return pd.DataFrame()
    frames, _, more = store_frames(store, replicate)  # unknown: lists the known ones
    notes += [f"replicate {note}" for note in more]
    if frames["runs"].empty:
        notes.append(f"replicate {replicate!r} has no stored runs yet: no data in B for any claim")
    frames["runs"] = add_settings(frames["runs"], store.run_settings_frame(replicate))
    data = ReportData(**frames, meta={**(meta or {}), "experiment": replicate})
    return claims_of(data)


def export_frames(
    store_url: str | Path, storage_url: str | Path | None = None, *, experiment: str | None = None
) -> dict[str, pd.DataFrame]:
    """Every stored frame of ``experiment`` (None: of the whole store), as the data model
    types them: runs (with the experiment of each: one row per run and experiment), epochs,
    betas, meshes, points, loss_ranking, trials, experiments,
    experiment_members (experiment, kind run/study, member) and run_settings (experiment and
    the setting each run was asked under). Importances are computed, not stored, and left to
    the report."""
    with Store(store_url) as store:
        frames, study_names, _ = store_frames(store, experiment)
        experiments = store.experiments_frame()
        if experiment is not None:
            experiments = experiments[experiments["name"] == experiment].reset_index(drop=True)
        parts = [store.run_settings_frame(n).assign(experiment=n) for n in experiments["name"]]
        members = [
            (name, kind, member)
            for name in experiments["name"]
            for kind, names in zip(("run", "study"), store.experiment_members(name), strict=True)
            for member in sorted(names)
        ]
    storage = open_storage(storage_url or store_url, create=False)
    frames["trials"] = trials_frame(storage, study_names)
    frames["experiments"] = experiments
    columns = ["experiment", *SETTING_COLUMNS]
    frames["run_settings"] = (
        pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    )
    frames["experiment_members"] = pd.DataFrame(
        members, columns=["experiment", "kind", "member"]
    ).astype("str")
    frames["runs"] = _with_experiment(frames["runs"], frames["experiment_members"])
    return frames


def report_folder(out_dir: str | Path, experiment: str | None) -> Path:
    """``out_dir/<experiment>``: the folder of one experiment's report in the per-experiment
    layout (a slug of the name, so that any stored name stays inside ``out_dir``; ``all-runs``
    for a store without experiments)."""
    return Path(out_dir) / slug(experiment if experiment else "all-runs")


def _retire_flat_report(folder: Path) -> list[str]:
    """Remove a report written straight into ``folder`` by an earlier version (index.html,
    report.md, tables/, figures/ beside the experiments' folders), so that no file of an older
    run remains; a note says so."""
    index = folder / "index.html"
    if not index.is_file():
        return []
    for name in sorted(REPORT_ENTRIES):
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_file() or path.is_symlink():
            path.unlink()
    return [
        f"removed the report an earlier version wrote straight into {str(folder)!r}: reports "
        f"now go to {str(folder)!r}/<experiment>/"
    ]


def _with_experiment(runs: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with the column ``experiment`` first: one row per (run, experiment it belongs
    to), so a run two experiments share is a row of each; a run of none keeps one row, NA."""
    of = members.loc[members["kind"] == "run", ["member", "experiment"]]
    of = of.rename(columns={"member": "run_id"})
    merged = runs.merge(of, on="run_id", how="left", validate="one_to_many")
    merged["experiment"] = merged["experiment"].astype("str")  # as the other text columns
    return merged[["experiment", *runs.columns]].reset_index(drop=True)


def build(
    store_url: str | Path,
    storage_url: str | Path | None,
    out_dir: str | Path,
    *,
    meta: dict | None = None,
    experiment: str | None = None,
    progress: Callable[[str], None] | None = None,
    per_experiment: bool = False,
    replicate: str | None = None,
) -> tuple[Path, list[str]]:
    """Gather and write the report of ``experiment`` into ``out_dir`` (with
    ``per_experiment``: into its own folder there, report_folder); the path of index.html and
    the notes. ``progress`` is told each stage (and each section) as it starts; ``replicate``:
    gather()."""
    if progress is not None:
        progress("reading the runs and studies, parameter importances (fANOVA)")
    data, notes = gather(
        store_url, storage_url, meta=meta, experiment=experiment, replicate=replicate
    )
    if per_experiment:
        notes += _retire_flat_report(Path(out_dir))
        out_dir = report_folder(out_dir, data.meta.get("experiment"))
    if progress is None:
        return build_report(data, out_dir), notes
    return build_report(data, out_dir, on_section=progress), notes
