"""`landau compare A B`: two experiments run by run (a baseline A, a change B), or as
independent samples (a replicate: another base seed and data seed, so no run pairs).

Paired: runs match on (variant, dataset, depth, seed, data_seed); the statistics are the
report's (``reports.compare``). Unpaired (``--unpaired``, or when no run of B pairs with a run
of A): per variant × dataset × depth × setting the difference of means with Welch's interval,
pooled over datasets with Wilcoxon (``reports.compare_unpaired``). Writes compare_cells.csv,
compare_pooled.csv and compare.png into an output folder and prints which mode ran and one
summary line per variant.
"""

from __future__ import annotations

import errno
import math
import re
from pathlib import Path

from studies.cli.common import DEFAULT_STORE, add_store_arg
from studies.cli.outputs import check_out_dir


def add_parser(sub) -> None:
    compare = sub.add_parser(
        "compare",
        help="differences B − A between two experiments, paired run by run or, for a "
        "replicate, unpaired (table, figure, summary)",
        description="Compare experiment B with experiment A run by run: runs match on (variant, "
        "dataset, depth, seed, data_seed); per variant × dataset × depth the mean paired "
        "difference B − A with its 95 % t-interval and sign-flip test, pooled over cells with "
        "Wilcoxon's test, Holm-corrected. When no run pairs (a replicate at another base seed "
        "and data seed), or with --unpaired: per variant × dataset × depth × setting the "
        "difference of means with Welch's interval and test, pooled over datasets "
        "(Hodges–Lehmann, Wilcoxon signed-rank), Holm-corrected.",
    )
    compare.add_argument("a", metavar="A", help="the baseline experiment")
    compare.add_argument("b", metavar="B", help="the experiment compared with it")
    add_store_arg(compare)
    compare.add_argument("--store-b", help="the store of B, when it is another (default: --store)")
    compare.add_argument(
        "--unpaired",
        action="store_true",
        help="compare as independent samples even where runs pair (default: paired, and "
        "unpaired only when no run of B pairs with a run of A)",
    )
    compare.add_argument(
        "--out", default=None, help="output folder (default: <results folder>/compare/A_vs_B/)"
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", name).strip("._") or "experiment"


def _runs(url: str, experiment: str):
    from studies.store import Store

    if "://" not in str(url) and not Path(url).is_file():
        raise ValueError(f"no results store at {url!r}")
    with Store(url) as store:
        run_ids, _ = store.experiment_members(experiment)  # unknown: lists the known ones
        runs = store.runs_frame()
    return runs[runs["run_id"].isin(run_ids)].reset_index(drop=True)


def _pp(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:+.1f}"


PAIRED = "paired"
UNPAIRED_ASKED = "unpaired, as asked"
UNPAIRED_NONE_PAIR = "unpaired: no run of B pairs with a run of A"


def _compare(runs_a, runs_b, unpaired: bool):
    """(cells, pooled, mode): paired unless asked otherwise or nothing pairs."""
    from reports.compare import compare_experiments
    from reports.compare_unpaired import compare_unpaired

    if not unpaired:
        cells, pooled = compare_experiments(runs_a, runs_b)
        if not cells.empty:
            return cells, pooled, PAIRED
    cells, pooled = compare_unpaired(runs_a, runs_b)
    return cells, pooled, UNPAIRED_ASKED if unpaired else UNPAIRED_NONE_PAIR


def _print_pooled(cells, pooled, mode: str) -> None:
    from reports.contributions import PRIMARY

    for _, row in pooled[pooled["analysis"] == PRIMARY].iterrows():
        sub = cells[cells["variant"] == row["variant"]]
        if mode == PAIRED:
            over = f"{int(row['n_cells'])} cells"
        else:  # one row per setting; datasets are the units
            sub = sub[(sub["source"] == row["source"]) & (sub["epochs"] == row["epochs"])]
            over = f"{int(row['n_datasets'])} datasets ({row['source']}, {row['epochs']} epochs)"
        print(
            f"  {row['variant']:12s} pooled {_pp(row['estimate_pp'])} pp normalised "
            f"[{_pp(row['ci95_low'])}, {_pp(row['ci95_high'])}] over {over}, "
            f"p_holm {row['p_holm']:.3g}; cells {_pp(sub['diff_pp'].min())} .. "
            f"{_pp(sub['diff_pp'].max())} pp"
        )


def run(args) -> int:
    from reports.compare import compare_figure
    from reports.render.escape import spreadsheet_safe

    store_b = args.store_b or args.store
    if args.a == args.b and store_b == args.store:
        raise ValueError(f"A and B are the same experiment {args.a!r} of one store")
    if args.out is not None:
        out = Path(args.out)
        check_out_dir(out, default=None)  # before the statistics: bad input first
    else:
        local = "://" not in str(args.store)
        results = Path(args.store).parent if local else Path(DEFAULT_STORE).parent
        out = results / "compare" / f"{_slug(args.a)}_vs_{_slug(args.b)}"
    runs_a, runs_b = _runs(args.store, args.a), _runs(store_b, args.b)
    cells, pooled, mode = _compare(runs_a, runs_b, bool(getattr(args, "unpaired", False)))
    if cells.empty:
        raise ValueError(
            f"no run of {args.b!r} ({len(runs_b)} runs) matches a run of {args.a!r} "
            f"({len(runs_a)} runs) on (variant, dataset, depth, seed, data_seed), and no "
            "(variant, dataset, depth, setting) has runs in both to compare unpaired"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("compare_cells", cells), ("compare_pooled", pooled)):
            safe = spreadsheet_safe(frame)  # a crafted variant name is no spreadsheet formula
            safe.to_csv(out / f"{name}.csv", index=False, float_format="%.10g")
    except OSError as exc:  # read-only or full file system, ...
        if exc.errno == errno.ENOSPC:
            raise
        raise ValueError(f"cannot write into --out {str(out)!r}: {exc.strerror or exc}") from exc
    figure = compare_figure(cells, pooled, out / "compare.png", (args.a, args.b))
    if mode == PAIRED:
        pairs = int(cells["n_pairs"].sum())
        print(
            f"compare {args.b!r} − {args.a!r} (paired): {pairs} matched pairs of runs in "
            f"{len(cells)} (variant, dataset, depth) cells ({len(runs_a)} and {len(runs_b)} runs)"
        )
    else:
        print(
            f"compare {args.b!r} − {args.a!r} ({mode}): differences of means in {len(cells)} "
            f"(variant, dataset, depth, setting) cells ({len(runs_a)} and {len(runs_b)} runs)"
        )
    _print_pooled(cells, pooled, mode)
    shown = figure.path if figure.ok else f"no figure ({figure.reason})"
    print(f"table: {out / 'compare_cells.csv'}, {out / 'compare_pooled.csv'}; figure: {shown}")
    return 0
