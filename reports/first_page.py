"""The sections that answer the question (claims with the forest plot, component contributions)
and the one that closes the report (inputs, run status, failures)."""

from __future__ import annotations

import pandas as pd

from reports import figures as F
from reports.context import ReportContext
from reports.render import Paragraph, Table
from reports.replication import replication_summary, replication_table
from reports.tables import failures_table, status_table
from reports.tables.verdicts import answer_text, no_data_text, verdict_table

__all__ = [
    "METHOD",
    "REPLICATION_TITLE",
    "claims_section",
    "contributions_section",
    "inventory_section",
    "replication_section",
]

REPLICATION_TITLE = "Does it replicate?"

METHOD = (
    "How to read it. Accuracy is in percent, differences in percentage points (pp). A failed or "
    "diverged run counts as a failure of its variant at chance accuracy (the majority-class rate "
    "of its test split) in every primary statistic; collapsed runs stay in as results and are "
    "flagged, and each component has a stability row of its own. Accuracy targets judge the "
    "median run: its exact order-statistic 95% interval and sign test against the target, beside "
    "the share of runs reaching it. Pooled claims take datasets as units (a dataset's depths and "
    "epochs are repetitions inside it): the paired difference {ref} − ablation in "
    "chance-normalised accuracy, (acc − chance)/(1 − chance), per dataset, then the "
    "Hodges–Lehmann estimate with its Wilcoxon-inverted interval and exact signed-rank p over the "
    "datasets, with each dataset's own verdict beside it. Claim 3 (comparable, ±5 pp) is tested "
    "as equivalence (TOST). Each claim is tested once, under its declared protocol; the other "
    "protocol is a sensitivity row outside the family. Verdicts read the Holm-adjusted p-value "
    "within the claim's family (accuracy, mechanism, equivalence, stability). The rules in full: "
    "docs/claims.md."
)


def _counts(r: ReportContext) -> str:
    runs = r.runs[~r.runs["alias"]]  # each stored run once
    n_ok = int(runs["survived"].sum())
    n_col = int(runs["collapsed"].sum())
    n_div = int((runs["status"] == "diverged").sum())
    n_fail = int((runs["status"] == "failed").sum())
    splits = runs["data_seed"].nunique()
    missing = int(r.meta.get("missing_runs") or 0)
    text = (
        f"{len(runs)} runs: {n_ok} ok ({n_col} of them collapsed), {n_div} diverged, {n_fail} "
        f"failed; {splits} data split(s)."
    )
    shared = int(r.runs["alias"].sum())
    if shared:
        text += (
            f" {shared} of them serve a second setting too (a study chose the fixed protocol's "
            "values, so the tuned run is the fixed run): counted once here, under each setting "
            "in the analyses."
        )
    if missing:
        text += f" {missing} runs of the experiment are not stored yet (missing, not counted)."
    return text


def claims_section(r: ReportContext) -> list:
    """The first page: the answer in one paragraph, the compact verdict table (primary rows
    with data), one line for the claims without data, the forest plot, what was run, then the
    full claims table (setting, rule, p-values) and how to read it."""
    claims = r.claims
    blocks: list = [Paragraph(answer_text(claims), kind="answer")]
    compact = verdict_table(claims)
    if not compact.empty:
        caption = (
            "Verdicts at a glance: each claim's primary analysis (sensitivity rows, the setting, "
            "the rule and the p-values: in the full table below); units: the independent units "
            "behind the row."
        )
        blocks.append(Table("verdicts", compact, caption, compact=True))
    if r.has_replicate:
        blocks.append(Paragraph(_replication_line(r) + " (the section “Does it replicate?”)."))
    missing = no_data_text(claims, r.meta.get("experiment"))
    if missing:
        blocks.append(Paragraph(missing, missing=True))
    if r.has_runs and not r.cells.empty:
        caption = "Paired effect of each component per dataset and depth and pooled (pp)"
        path = r.fig_path("forest")
        blocks.append(r.figure(caption, F.forest_figure, r.cells, path, r.data.reference))
    else:
        blocks.append(
            Paragraph(
                "Forest plot: not available because no ablation variant has runs paired with "
                f"{r.data.reference!r} — {r.hint('runs')}.",
                missing=True,
            )
        )
    if r.meta.get("experiment"):
        blocks.append(Paragraph(f"Experiment: `{r.meta['experiment']}`. {_counts(r)}"))
    else:
        blocks.append(Paragraph(_counts(r)))
    caption = (
        "All claims, sensitivity rows included: the setting judged, the measurement, the rule "
        "and the p-values (raw and Holm-adjusted over the claim's family)."
    )
    blocks.append(Table("claims", claims, caption))
    blocks.append(Paragraph(METHOD.format(ref=r.data.reference)))
    return blocks


def _replication_line(r: ReportContext) -> str:
    a = str(r.meta.get("experiment") or "A")
    return replication_summary(r.claims, a, str(r.meta.get("replicate") or "B")).rstrip(".")


def replication_section(r: ReportContext) -> list:
    """Every claim's verdict in this experiment (A) and in its replicate (B: the same
    experiment at another base seed and data seed, judged by the same rules on its own runs),
    whether it replicates, and how many firm verdicts do."""
    a = str(r.meta.get("experiment") or "A")
    b = str(r.meta.get("replicate") or "B")
    text = (
        f"The same claims judged by the same rules on the runs of `{b}`, the same experiment "
        "at another base seed and data seed (no run pairs with a run here). A verdict "
        "replicates when both experiments give it and it is firm (supported, not supported, "
        "equivalent, not equivalent, dataset-dependent); a firm verdict that does not "
        "replicate was decided by the seeds more than by the model."
    )
    caption = (
        f"Verdict of every claim in `{a}` (verdict) and in `{b}` (verdict_replicate), and "
        "whether it replicates; also the last two columns of claims.csv."
    )
    return [
        Paragraph(_replication_line(r) + ".", kind="answer"),
        Paragraph(text),
        Table("replication", replication_table(r.claims), caption),
    ]


def contributions_section(r: ReportContext) -> list:
    if not r.has_runs:
        return [r.no_runs()]
    if r.cells.empty:
        reason = (
            f"no ablation variant has runs paired with {r.data.reference!r} on the same "
            f"(dataset, depth, seed, data split, setting) — {r.hint('runs')}"
        )
        return [Paragraph(f"Component contributions: not available because {reason}.", True)]
    return [
        Paragraph(
            f"Difference = {r.data.reference} − ablation in test accuracy (pp), paired by "
            "(dataset, depth, seed, data split, setting); positive means the removed component "
            "helps. n_failed_pairs counts pairs with a failed or diverged run, counted at "
            "chance. The pooled table has one primary row (failures at chance) and one "
            "survivors-only row (sensitivity) per variant and setting; p_holm is over the "
            "primary rows."
        ),
        Table("contributions_pooled", r.pooled, "Pooled over (dataset, depth) cells."),
        Table("contributions", r.cells, "Per dataset and depth (sign-flip test, exact)."),
    ]


def inventory_section(r: ReportContext) -> list:
    m = r.meta
    blocks: list = []
    labels = {
        "experiment": "Experiment",
        "generated_at": "Generated at",
        "store": "Store",
        "command": "Command",
    }
    context = [f"{label}: `{m[k]}`" for k, label in labels.items() if m.get(k)]
    if context:
        blocks.append(Paragraph("; ".join(context) + "."))
    notes = m.get("notes") or []
    blocks += [Paragraph(str(n)) for n in ([notes] if isinstance(notes, str) else notes)]
    blocks.append(Paragraph(_counts(r)))
    blocks.append(Table("status", status_table(r.runs), "Runs per variant and status."))
    fails = failures_table(r.runs)
    if fails.empty:
        text = "No failed or diverged runs." if r.has_runs else r.no_runs().text
        blocks.append(Paragraph(text, missing=not r.has_runs))
    else:
        blocks.append(Table("failures", fails, "Failed and diverged runs, with their error."))
    d = r.data
    frames = {
        "runs": d.runs, "epochs": d.epochs, "betas": d.betas, "meshes": d.meshes,
        "points": d.points, "loss_ranking": d.loss_ranking, "trials": d.trials,
        "importances": d.importances,
    }  # fmt: skip
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
