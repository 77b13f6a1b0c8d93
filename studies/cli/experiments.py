"""`landau experiments`: the experiments of a store with the state of their runs; `show NAME`
one experiment's cells and studies; `delete NAME --yes` removes an experiment.

An experiment is a named set of runs and studies (``studies.store.experiments``). Deleting one
removes its memberships only: its runs and studies stay stored, since other experiments may
share them and later grids skip what is stored (docs/experiments.md).
"""

from __future__ import annotations

from pathlib import Path

from studies.cli.common import add_store_arg

ACTIONS = ("list", "show", "delete")
_STATUSES = ("ok", "diverged", "failed")


def add_parser(sub) -> None:
    exp = sub.add_parser(
        "experiments",
        help="list a store's experiments (`show NAME`: its runs and studies; `delete NAME --yes`)",
        description="Without an action: every experiment of the store with its runs by status. "
        "`show NAME`: the experiment's runs per (variant, dataset, depth) and its studies. "
        "`delete NAME --yes`: remove the experiment; its runs and studies stay stored.",
    )
    exp.add_argument("action", nargs="?", default="list", choices=ACTIONS, help="(default: list)")
    exp.add_argument("name", nargs="?", help="the experiment (show, delete)")
    exp.add_argument("--yes", action="store_true", help="delete: confirm")
    add_store_arg(exp)


def _counts(members: set[str], status: dict[str, str]) -> dict[str, int]:
    """Members by stored status, plus ``not stored`` (planned, not run yet)."""
    out = dict.fromkeys(_STATUSES, 0)
    for run_id in members:
        kind = status.get(run_id, "not stored")
        out[kind] = out.get(kind, 0) + 1
    out.setdefault("not stored", 0)
    return out


def _list(store) -> None:
    frame = store.experiments_frame()
    if frame.empty:
        print(f"no experiments in {store.url}; `landau grid` or `landau tune` records one")
        return
    runs = store.runs_frame()
    status = dict(zip(runs["run_id"], runs["status"], strict=True))
    width = max(10, *(len(n) for n in frame["name"]))
    header = ("runs", *_STATUSES, "not stored", "studies")
    print(f"{'experiment':{width}s}  " + "  ".join(header) + "  updated")
    for row in frame.itertuples():
        members, _ = store.experiment_members(row.name)
        counts = _counts(members, status)
        cells = (row.n_runs, *(counts[s] for s in (*_STATUSES, "not stored")), row.n_studies)
        updated = f"{row.updated_at:%Y-%m-%d %H:%M}"
        shown = "  ".join(f"{c:>{len(h)}d}" for c, h in zip(cells, header, strict=True))
        print(f"{row.name:{width}s}  {shown}  {updated}")


def _show(store, name: str) -> None:
    members, study_names = store.experiment_members(name)  # ValueError names the known ones
    runs = store.runs_frame()
    mine = runs[runs["run_id"].isin(members)]
    counts = _counts(members, dict(zip(runs["run_id"], runs["status"], strict=True)))
    summary = ", ".join(f"{counts[k]} {k}" for k in (*_STATUSES, "not stored"))
    print(f"experiment {name!r}: {len(members)} runs ({summary}), {len(study_names)} studies")
    if not mine.empty:
        keys = ["variant", "dataset", "depth"]
        table = mine.groupby(keys)["status"].value_counts().unstack(fill_value=0)
        table = table.reindex(columns=list(_STATUSES), fill_value=0)
        table["median val %"] = mine.groupby(keys)["val_accuracy"].median() * 100
        print(table.to_string(float_format=lambda v: f"{v:.1f}"))
    if counts["not stored"]:
        print(
            f"{counts['not stored']} runs not stored yet: run the grid again to finish them "
            "(stored runs are skipped)"
        )
    for study in sorted(study_names):
        print(f"study {study}")


def run(args) -> int:
    from studies.store import Store

    if args.action == "list" and args.name is not None:
        raise ValueError(
            f"`landau experiments` takes an action before a name: show or delete {args.name}"
        )
    if args.action != "list" and args.name is None:
        raise ValueError(f"`landau experiments {args.action}` needs the experiment's name")
    if args.yes and args.action != "delete":
        raise ValueError("--yes confirms `landau experiments delete NAME`")
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(f"no results store at {str(args.store)!r}")
    with Store(args.store) as store:
        if args.action == "list":
            _list(store)
        elif args.action == "show":
            _show(store, args.name)
        else:
            run_ids, study_names = store.experiment_members(args.name)
            what = f"{len(run_ids)} run and {len(study_names)} study memberships"
            if not args.yes:
                raise ValueError(
                    f"deleting experiment {args.name!r} removes its {what} (the runs and studies "
                    "stay stored); add --yes to delete it"
                )
            store.delete_experiment(args.name)
            print(f"deleted experiment {args.name!r} ({what}; the runs and studies stay stored)")
    return 0
