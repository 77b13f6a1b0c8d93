"""The sections of the report, in order. Each section always has content: a table, a figure, or
a paragraph saying what is missing and how to produce it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reports import figures as F
from reports.context import ReportContext, reraise_interrupt
from reports.data import TWO_D_DATASETS, ReportData
from reports.figures import FigureResult
from reports.first_page import (
    REPLICATION_TITLE,
    claims_section,
    contributions_section,
    inventory_section,
    replication_section,
)
from reports.ranking import MIN_DATASETS, friedman_nemenyi
from reports.render import Paragraph, Section, Table
from reports.tables import (
    FEW_TRIALS,
    LIST_RUNS_BELOW,
    accuracy_table,
    anchors_table,
    convergence_table,
    importances_table,
    runtime_table,
    tuned_params_table,
    tuning_cost_table,
)

__all__ = ["SECTION_TITLES", "make_sections"]

SECTION_TITLES = {
    "claims": "Claims",
    "contributions": "Component contributions",
    "accuracy": "Accuracy",
    "anchors": "Anchors",
    "statistics": "Statistics (critical difference)",
    "learning-curves": "Learning curves",
    "beta": "Beta",
    "loss-terms": "Loss terms",
    "boundaries": "Decision boundaries",
    "tuning": "Tuning",
    "runtime": "Runtime",
    "faithfulness": "Faithfulness notes",
    "inventory": "Runs and inputs",
}

DEFAULT_FAITHFULNESS = (
    "The data come from the blog-faithful defaults unless a run's setting (params_source) says "
    "otherwise: the loss is the absolute value of the mean Ginzburg–Landau energy with a negative "
    "quartic term, its 'spatial' derivative runs along the batch, β is a scalar per layer (so the "
    "Allen–Cahn Laplacian and force vanish), and the optimizer is the blog's Langevin update. "
    "Corrected physics appears only as explicitly labelled variants or options; see the README's "
    "faithfulness section for every choice made where the blog is silent or odd."
)


def _table(name: str, frame: pd.DataFrame, caption: str, reason: str) -> Table | Paragraph:
    if frame.empty:
        return Paragraph(f"{caption.split('.')[0]}: not available because {reason}.", True)
    return Table(name, frame, caption)


def _accuracy(r: ReportContext) -> list:
    if not r.has_runs:
        names = ", ".join(r.data.expected_datasets)
        return [Paragraph(f"no runs for any dataset ({names}) — {r.hint('runs')}.", True)]
    present = set(r.runs["dataset"].dropna())
    blocks: list = [
        Paragraph(f"no runs for dataset {d} — {r.hint('runs')}", True)
        for d in r.data.expected_datasets
        if d not in present
    ]
    blocks.append(
        Table(
            "accuracy",
            accuracy_table(r.runs),
            "Test accuracy (%) per variant, dataset, depth and setting (source, epochs). mean, "
            "std and the distribution-free 95% interval (ci95_low, ci95_high) are over all n "
            "runs, failed and diverged ones at chance (t95_*: the t-interval, valid only for "
            "normal-ish runs, shown for comparison); collapsed runs (n_collapsed) count with "
            "their accuracy; mean_survivors is over ok runs only (sensitivity). With fewer than "
            f"{LIST_RUNS_BELOW} runs the `runs` column lists each (c collapsed, d diverged and "
            "f failed, at chance).",
        )
    )
    groups = F.accuracy_groups(r.runs)
    for i, datasets in enumerate(groups or [None]):  # no group: the figure says why
        name, caption = "accuracy", "Test accuracy"
        if len(groups) > 1:
            name, caption = f"accuracy_{i + 1}", f"Test accuracy ({', '.join(datasets)})"
        blocks.append(r.figure(caption, F.accuracy_figure, r.runs, r.fig_path(name), datasets))
    for param in F.swept_params(r.data.runs):  # issue 9: the sweeps and the diagnostics
        path = r.fig_path(f"sweep_{param}")
        caption = f"Test accuracy against {param} (the sweep)"
        blocks.append(r.figure(caption, F.sweep_figure, r.data.runs, path, param))
    caption = "Sharpness (top Hessian eigenvalue of the training loss)"
    blocks.append(r.figure(caption, F.sharpness_figure, r.data.runs, r.fig_path("sharpness")))
    return blocks


def _anchors(r: ReportContext) -> list:
    if not r.has_runs:
        return [r.no_runs()]
    blocks: list = [
        Paragraph(f"no runs of anchor {a} — {r.hint('runs')}", True)
        for a in r.data.anchors
        if not (r.runs["variant"] == a).any()
    ]
    table = anchors_table(r.runs, r.data.reference, r.data.anchors)
    caption = (
        "Test accuracy (%), mean ± std (n runs, failures at chance), anchors beside the Landau "
        "variants."
    )
    blocks.append(_table("anchors", table, caption, "no run has a known accuracy"))
    return blocks


def _runtime(r: ReportContext) -> list:
    blocks: list = []
    if r.has_runs:
        caption = (
            "Cost per run: means over ok runs; seconds_all_runs sums every run, failed and "
            "diverged included; threads and load_avg_max (the highest 1-minute load average at "
            "the start of a run) say whether a slow cell ran on a loaded machine."
        )
        blocks.append(Table("runtime", runtime_table(r.runs), caption))
        path = r.fig_path("cost_accuracy")
        blocks.append(r.figure("Cost–accuracy front", F.cost_accuracy_figure, r.runs, path))
    else:
        blocks.append(r.no_runs())
    return blocks


def _figure_section(fn: Callable, frame_name: str, name: str, caption: str) -> Callable:
    def make(r: ReportContext) -> list:
        frame = getattr(r.data, frame_name)
        if frame.empty:
            reason = f"there are no {frame_name} rows — {r.hint(frame_name)}"
            return [r.figure(caption, FigureResult, None, reason)]
        return [r.figure(caption, fn, frame, r.fig_path(name))]

    return make


def _boundaries(r: ReportContext) -> list:
    meshes = r.data.meshes
    present = set(meshes["dataset"].dropna()) if "dataset" in meshes else set()
    blocks = []
    for dataset in [*TWO_D_DATASETS, *sorted(present - set(TWO_D_DATASETS))]:
        caption = f"Decision boundaries on {dataset}"
        if dataset not in present:
            blocks.append(
                Paragraph(f"{caption}: no meshes for {dataset} — {r.hint('meshes')}.", missing=True)
            )
            continue
        path = r.fig_path(f"boundaries_{dataset}")
        draw = F.decision_boundary_figure
        blocks.append(r.figure(caption, draw, meshes, r.data.points, dataset, path))
    return blocks


def _statistics(r: ReportContext) -> list:
    rankings = friedman_nemenyi(r.runs)
    if not rankings:
        return [r.no_runs() if not r.has_runs else Paragraph("No ok runs to rank.", True)]
    blocks: list = [
        Paragraph(
            "Friedman test with Nemenyi post-hoc (autorank): variants are ranked on each dataset "
            "by mean test accuracy (%, failures at chance); one analysis per depth, needing at "
            f"least {MIN_DATASETS} datasets with every variant. Datasets without runs of every "
            "variant are dropped from the test and named below."
        )
    ]
    for rk in rankings:
        blocks.append(Paragraph(rk.summary, missing=not rk.ok))
        if rk.ok:
            blocks.append(
                Table(f"friedman_depth{rk.depth}", rk.table, f"Mean ranks, depth {rk.depth}.")
            )
            caption = f"Critical-difference diagram, depth {rk.depth}"
            path = r.fig_path(f"cd_depth{rk.depth}")
            blocks.append(r.figure(caption, F.cd_diagram_figure, rk, path))
    return blocks


def _tuning(r: ReportContext) -> list:
    t, imp = r.data.trials, r.data.importances
    if t.empty and imp.empty:
        return [
            Paragraph(
                f"Not available because there are no tuning trials — {r.hint('trials')}.", True
            )
        ]
    tuned = tuned_params_table(t)
    caption = "Tuned hyperparameters: the best complete trial of every study (best: val acc, %)."
    blocks = [
        _table("tuned_params", tuned, caption, "no study has a complete trial"),
        _table(
            "tuning_cost",
            tuning_cost_table(t),
            "Tuning cost per variant.",
            f"there are no tuning trials — {r.hint('trials')}",
        ),
        *_convergence(r),
    ]
    if imp.empty:
        reason = f"there are no importances rows — {r.hint('importances')}"
        blocks.append(r.figure("Parameter importances", FigureResult, None, reason))
        return blocks
    table = importances_table(imp, t)
    few = int((table["reliable"] != "yes").sum())
    caption = "Parameter importances"
    path = r.fig_path("importances")
    blocks.append(r.figure(caption, F.importances_figure, imp, path, t))
    caveat = (
        f" Caveat: {few} of {len(table)} studies ran fewer than {FEW_TRIALS} trials; their "
        "importances (`reliable`: no) are noise more than signal and are left out of the figure."
        if few
        else ""
    )
    blocks.append(
        Table(
            "importances",
            table,
            "Parameter importance per study (normalised to sum to 1 per study)." + caveat,
        )
    )
    return blocks


def _convergence(r: ReportContext) -> list:
    """Did tuning converge? Every trial's value and the best-so-far curves (several figures
    each when the studies' panels do not fit one), and one row per study: when its best was
    found, what the second half of its trials added."""
    t = r.data.trials
    figures = (
        ("tuning_history", "Tuning history", F.tuning_history_figure),
        ("tuning_best", "Best value vs trials", F.best_so_far_figure),
    )
    groups = F.tuning_groups(t)
    if not groups:  # each figure says why
        reason = f"there are no trials rows — {r.hint('trials')}"
        if t.empty:
            return [r.figure(caption, FigureResult, None, reason) for _, caption, _ in figures]
        return [r.figure(caption, draw, t, r.fig_path(name)) for name, caption, draw in figures]
    blocks: list = []
    for name, caption, draw in figures:
        for i, datasets in enumerate(groups):
            file, text = name, caption
            if len(groups) > 1:
                file, text = f"{name}_{i + 1}", f"{caption} ({', '.join(datasets)})"
            blocks.append(r.figure(text, draw, t, r.fig_path(file), datasets))
    text = (
        "Did tuning converge? Per study: the best validation accuracy (%) of its complete "
        "trials, the trial that found it (best_at_trial of n_trials), the trials it took to "
        "reach 99 % of that best (trials_to_99pct), and what the second half of its trials "
        "added (gain_last_half_pp; 0: nothing after half-way). Pruned trials count as trials "
        "run, never towards the best (their value is at a lower budget)."
    )
    blocks.append(_table("tuning_convergence", convergence_table(t), text, "no study has a trial"))
    return blocks


def _faithfulness(r: ReportContext) -> list:
    return [Paragraph(str(r.meta.get("faithfulness") or DEFAULT_FAITHFULNESS))]


_MAKERS: dict[str, Callable[[ReportContext], list]] = {
    "claims": claims_section,
    "replication": replication_section,
    "accuracy": _accuracy,
    "contributions": contributions_section,
    "anchors": _anchors,
    "runtime": _runtime,
    "learning-curves": _figure_section(
        F.learning_curves_figure, "epochs", "learning_curves", "Learning curves"
    ),
    "beta": _figure_section(F.beta_figure, "betas", "beta", "β trajectories"),
    "loss-terms": _figure_section(F.loss_terms_figure, "epochs", "loss_terms", "Loss terms"),
    "boundaries": _boundaries,
    "statistics": _statistics,
    "tuning": _tuning,
    "faithfulness": _faithfulness,
    "inventory": inventory_section,
}


def make_sections(
    data: ReportData,
    out_dir: Path,
    strict: bool = False,
    draw_figures: bool = True,
    on_section: Callable[[str], None] | None = None,
) -> list[Section]:
    """All sections in order (with a replicate, "Does it replicate?" after the claims); figures
    are saved under out_dir/figures as a side effect.
    ``on_section`` is told each section's title (with its position) before it is built.

    A section whose construction raises becomes a paragraph naming the error (and a warning), so
    one bad input cannot cost the whole report; `strict=True` re-raises instead.
    """
    r = ReportContext(data, Path(out_dir), strict, draw_figures)
    titles = dict(SECTION_TITLES)
    if r.has_replicate:  # right after the claims it judges
        items = list(titles.items())
        titles = dict([items[0], ("replication", REPLICATION_TITLE), *items[1:]])
    sections = []
    for i, (key, title) in enumerate(titles.items(), 1):
        if on_section is not None:
            on_section(f"section {i}/{len(titles)}: {title}")
        try:
            blocks = _MAKERS[key](r)
        except Exception as exc:  # shown in the page and warned about, never silent
            reraise_interrupt(exc)
            if strict:
                raise
            message = f"section {title!r} could not be built: {type(exc).__name__}: {exc}"
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            blocks = [
                Paragraph(f"Not available because the {message} (a bug: please report it).", True)
            ]
        sections.append(Section(key, title, blocks))
    return sections
