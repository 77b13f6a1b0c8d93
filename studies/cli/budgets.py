"""`landau budgets`: each dataset's training budget from its convergence curves.

Reads an experiment's runs (default ``convergence``: ``landau grid convergence``), finds the
epoch at which each reference setting's mean validation accuracy reaches its plateau
(``reports.budgets``: the rule and its parameters), prints one line per dataset and the
``[dataset_epochs]`` table to paste into a grid, and writes plateaus.csv, budgets.csv and
convergence.png into ``--out``.
"""

from __future__ import annotations

from pathlib import Path

from studies.cli.common import DEFAULT_STORE, add_store_arg
from studies.cli.outputs import check_out_dir


def add_parser(sub) -> None:
    budgets = sub.add_parser(
        "budgets",
        help="each dataset's epochs from its convergence curves (`landau grid convergence`)",
        description="Per dataset, the first epoch at which the mean validation accuracy of "
        "each reference setting (plain_mlp and full at T = 0, at every depth), smoothed over "
        "--window epochs, is within --tolerance of its best; the dataset's budget is the "
        "largest, rounded up to 5 epochs, at least 10 and at most the epochs measured. "
        "Validation accuracy only.",
    )
    add_store_arg(budgets)
    budgets.add_argument(
        "--experiment", default="convergence", help="the runs to read (default: convergence)"
    )
    budgets.add_argument(
        "--tolerance", type=float, default=0.01, help="within this of the best (default 0.01)"
    )
    budgets.add_argument(
        "--window", type=int, default=3, help="running-mean window, epochs (default 3)"
    )
    budgets.add_argument(
        "--out", default=None, help="output folder (default: <results folder>/budgets/)"
    )


def run(args) -> int:
    from reports.budgets import budgets, convergence_figure, curves, plateaus
    from studies.store import Store

    if not 0 <= args.tolerance < 1:
        raise ValueError(f"`0 <= tolerance < 1` must hold, but got tolerance={args.tolerance}")
    if not 1 <= args.window <= 100:
        raise ValueError(f"`1 <= window <= 100` must hold, but got window={args.window}")
    local = "://" not in str(args.store)
    default = str((Path(args.store).parent if local else Path(DEFAULT_STORE).parent) / "budgets")
    out = Path(args.out or default)
    check_out_dir(out, default=None if args.out else default)
    if local and not Path(args.store).is_file():
        raise ValueError(f"no results store at {str(args.store)!r}")
    with Store(args.store) as store:
        run_ids, _ = store.experiment_members(args.experiment)  # unknown: names the known ones
        runs = store.runs_frame()
        epochs = store.epochs_frame()
    runs = runs[runs["run_id"].isin(run_ids)]
    curve = curves(epochs[epochs["run_id"].isin(run_ids)], runs)
    if curve.empty:
        raise ValueError(f"experiment {args.experiment!r} has no finished run with epochs")
    table = plateaus(curve, tolerance=args.tolerance, window=args.window)
    chosen = budgets(table)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "plateaus.csv", index=False, float_format="%.6g")
    chosen.to_csv(out / "budgets.csv", index=False)
    figure = convergence_figure(curve, chosen, out / "convergence.png")
    for row in chosen.itertuples():
        capped = " (still rising at the horizon: capped)" if row.capped else ""
        print(
            f"{row.dataset}: {row.epochs} epochs — set by {row.set_by}, depth {row.depth}, "
            f"plateau at epoch {row.plateau}{capped}"
        )
    print("[dataset_epochs]")
    for row in chosen.itertuples():
        print(f"{row.dataset} = {row.epochs}")
    print(f"written: {out}/plateaus.csv, budgets.csv, {Path(figure.path).name}")
    return 0
