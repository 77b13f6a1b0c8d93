"""The sections of the report, in order. Each section always has content: a table, a figure, or
a paragraph saying what is missing and how to produce it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reports import figures as F
from reports.claims import MIN_PAIRS
from reports.context import ReportContext
from reports.contributions import component_contributions
from reports.data import TWO_D_DATASETS, ReportData
from reports.document import Paragraph, Section, Table
from reports.figures import FigureResult
from reports.ranking import MIN_DATASETS, friedman_nemenyi
from reports.tables import (
    accuracy_table,
    anchors_table,
    failures_table,
    runtime_table,
    status_table,
    tuning_cost_table,
)

__all__ = ["SECTION_TITLES", "make_sections"]

SECTION_TITLES = {
    "summary": "Summary",
    "claims": "Claims",
    "accuracy": "Accuracy",
    "contributions": "Component contributions",
    "anchors": "Anchors",
    "runtime": "Runtime",
    "learning-curves": "Learning curves",
    "beta": "Beta",
    "loss-terms": "Loss terms",
    "boundaries": "Decision boundaries",
    "statistics": "Statistics (critical difference)",
    "tuning": "Tuning",
    "faithfulness": "Faithfulness notes",
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


def _summary(r: ReportContext) -> list:
    m = r.meta
    blocks: list = []
    labels = {"generated_at": "Generated at", "store": "Store", "command": "Command"}
    context = [f"{label}: `{m[k]}`" for k, label in labels.items() if m.get(k)]
    if context:
        blocks.append(Paragraph("; ".join(context) + "."))
    notes = m.get("notes") or []
    blocks += [Paragraph(str(n)) for n in ([notes] if isinstance(notes, str) else notes)]
    status = r.runs["status"]
    n_ok, n_div, n_fail = ((status == s).sum() for s in ("ok", "diverged", "failed"))
    blocks.append(
        Paragraph(
            f"{len(r.runs)} runs: {n_ok} ok, {n_div} diverged, {n_fail} failed. Diverged and "
            "failed runs are counted in every table and left out of accuracy statistics."
        )
    )
    verdicts = r.claims["verdict"].value_counts()
    blocks.append(Paragraph("Claims: " + ", ".join(f"{n} {v}" for v, n in verdicts.items()) + "."))
    blocks.append(Table("status", status_table(r.runs), "Runs per variant and status."))
    fails = failures_table(r.runs)
    if fails.empty:
        blocks.append(
            Paragraph(
                "No failed or diverged runs." if r.has_runs else r.no_runs().text,
                missing=not r.has_runs,
            )
        )
    else:
        blocks.append(Table("failures", fails, "Failed and diverged runs, with their error."))
    d = r.data
    frames = {
        "runs": d.runs,
        "epochs": d.epochs,
        "betas": d.betas,
        "meshes": d.meshes,
        "points": d.points,
        "loss_ranking": d.loss_ranking,
        "trials": d.trials,
        "importances": d.importances,
    }
    inventory = pd.DataFrame(
        {
            "frame": list(frames),
            "rows": [len(f) for f in frames.values()],
            "if missing": [
                "" if len(f) else r.hint("meshes" if k == "points" else k)
                for k, f in frames.items()
            ],
        }
    )
    blocks.append(Table("inventory", inventory, "Input data: rows per frame."))
    return blocks


def _claims(r: ReportContext) -> list:
    return [
        Paragraph(
            "Each claim of the blog beside the measurement. Accuracy claims use blog-preset runs "
            "of the full model on MNIST and are supported when the 95% t-interval of mean test "
            "accuracy reaches the claimed value. Component claims use the paired difference "
            "full − ablation pooled over all datasets and depths (the setting with the most "
            "pairs): supported when its bootstrap 95% interval lies above 0, not supported when "
            f"below 0, inconclusive when it contains 0 or fewer than {MIN_PAIRS} pairs exist."
        ),
        Table("claims", r.claims, "Claims and verdicts."),
    ]


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
            "Test accuracy per variant, dataset, depth and setting (source, epochs). mean, std and "
            "the 95% t-interval are over ok runs only (`*_ok`); n_diverged and n_failed runs are "
            "counted, not used.",
        )
    )
    blocks.append(r.figure("Test accuracy", F.accuracy_figure, r.runs, r.fig_path("accuracy")))
    return blocks


def _contributions(r: ReportContext) -> list:
    if not r.has_runs:
        return [r.no_runs()]
    reason = (
        f"no ablation variant has runs paired with {r.data.reference!r} on the same "
        f"(dataset, depth, seed, setting) — {r.hint('runs')}"
    )
    per_cell = component_contributions(r.runs, reference=r.data.reference, anchors=r.data.anchors)
    return [
        Paragraph(
            f"Difference = {r.data.reference} − ablation in test accuracy, paired by (dataset, "
            "depth, seed, setting); positive means the removed component helps. Only pairs with "
            "both runs ok count; n_lost counts pairs lost to failed or diverged runs. Interval: "
            "bootstrap 95% (BCa, fixed seed). Test: Wilcoxon signed-rank when n ≥ 6 and the "
            "differences are not all zero, else paired t. p_holm: Holm correction across the "
            "rows of each table."
        ),
        _table("contributions_pooled", r.pooled, "Pooled over datasets and depths.", reason),
        _table("contributions", per_cell, "Per dataset and depth.", reason),
    ]


def _anchors(r: ReportContext) -> list:
    if not r.has_runs:
        return [r.no_runs()]
    blocks: list = [
        Paragraph(f"no runs of anchor {a} — {r.hint('runs')}", True)
        for a in r.data.anchors
        if not (r.runs["variant"] == a).any()
    ]
    table = anchors_table(r.runs, r.data.reference, r.data.anchors)
    caption = "Test accuracy, mean ± std (n ok runs), anchors beside the Landau variants."
    blocks.append(_table("anchors", table, caption, "no run is ok"))
    return blocks


def _runtime(r: ReportContext) -> list:
    blocks: list = []
    if r.has_runs:
        caption = (
            "Cost per run: means over ok runs; seconds_all_runs sums every run, failed and "
            "diverged included."
        )
        blocks.append(Table("runtime", runtime_table(r.runs), caption))
        path = r.fig_path("cost_accuracy")
        blocks.append(r.figure("Cost–accuracy front", F.cost_accuracy_figure, r.runs, path))
    else:
        blocks.append(r.no_runs())
    cost = tuning_cost_table(r.data.trials)
    reason = f"there are no tuning trials — {r.hint('trials')}"
    blocks.append(_table("tuning_cost", cost, "Tuning cost per variant.", reason))
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
            "by mean test accuracy over ok runs; one analysis per depth, needing at least "
            f"{MIN_DATASETS} datasets with every variant."
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
    return [
        *_figure_section(F.tuning_history_figure, "trials", "tuning_history", "Tuning history")(r),
        *_figure_section(F.best_so_far_figure, "trials", "tuning_best", "Best value vs trials")(r),
        *_figure_section(
            F.importances_figure, "importances", "importances", "Parameter importances"
        )(r),
    ]


def _faithfulness(r: ReportContext) -> list:
    return [Paragraph(str(r.meta.get("faithfulness") or DEFAULT_FAITHFULNESS))]


_MAKERS: dict[str, Callable[[ReportContext], list]] = {
    "summary": _summary,
    "claims": _claims,
    "accuracy": _accuracy,
    "contributions": _contributions,
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
}


def make_sections(data: ReportData, out_dir: Path, strict: bool = False) -> list[Section]:
    """All sections in order; figures are saved under out_dir/figures as a side effect.

    A section whose construction raises becomes a paragraph naming the error (and a warning), so
    one bad input cannot cost the whole report; `strict=True` re-raises instead.
    """
    r = ReportContext(data, Path(out_dir), strict)
    sections = []
    for key, title in SECTION_TITLES.items():
        try:
            blocks = _MAKERS[key](r)
        except Exception as exc:  # shown in the page and warned about, never silent
            if strict:
                raise
            message = f"section {title!r} could not be built: {type(exc).__name__}: {exc}"
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            blocks = [
                Paragraph(f"Not available because the {message} (a bug: please report it).", True)
            ]
        sections.append(Section(key, title, blocks))
    return sections
