"""Budgets by convergence: the epoch at which a model's validation accuracy reaches its plateau.

The rule (declared before the data, issue 20): per dataset, setting (``full[temperature=0.0]``,
``plain_mlp``, …) and depth, average the validation accuracy over the runs (seeds, splits) at
each epoch, smooth it with a centred running mean over ``window`` epochs, and call the plateau
the first epoch whose smoothed value is within ``tolerance`` of the best smoothed value over the
epochs measured. A plateau in the last ``window`` epochs means the curve may still be rising
(``still_rising``): the horizon, not the model, set that budget. A dataset's budget is the
largest plateau of the reference settings at any depth, rounded up to ``step``, within [low,
high]: the same for every variant of the dataset.
"""

from __future__ import annotations

import math

import pandas as pd

from reports.figures._base import FigureResult, dataset_order, legend_once, panels, save

__all__ = ["REFERENCES", "budgets", "convergence_figure", "curves", "plateaus"]

REFERENCES = ("plain_mlp", "full[temperature=0.0]")  # what the budgets follow (issue 20)


def curves(epochs: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Mean validation accuracy per (dataset, setting, depth, epoch) over the ok runs, with the
    number of runs averaged (n); ``setting`` is the variant with its swept values."""
    ok = runs[runs["status"] == "ok"][["run_id", "sweep"]]
    frame = epochs.merge(ok, on="run_id")
    sweep = frame["sweep"].fillna("")
    frame["setting"] = frame["variant"] + sweep.map(lambda s: f"[{s}]" if s else "")
    grouped = frame.groupby(["dataset", "setting", "depth", "epoch"])["val_accuracy"]
    return grouped.agg(val_accuracy="mean", n="size").reset_index()


def plateaus(curve: pd.DataFrame, *, tolerance: float = 0.01, window: int = 3) -> pd.DataFrame:
    """One row per (dataset, setting, depth): best smoothed validation accuracy, the plateau
    epoch, the epochs measured and whether the plateau lies in the last ``window`` epochs."""
    if not 0 <= tolerance < 1 or window < 1:
        raise ValueError(
            f"`0 <= tolerance < 1` and `window >= 1` must hold, got {tolerance}, {window}"
        )
    rows = []
    for (dataset, setting, depth), group in curve.groupby(["dataset", "setting", "depth"]):
        series = group.set_index("epoch")["val_accuracy"].sort_index()
        smooth = series.rolling(window, min_periods=1, center=True).mean()
        best = float(smooth.max())
        plateau = int(smooth.index[(smooth >= best - tolerance).to_numpy()][0])
        horizon = int(series.index.max())
        rows.append({
            "dataset": dataset, "setting": setting, "depth": int(depth), "best": best,
            "plateau": plateau, "horizon": horizon, "runs": int(group["n"].min()),
            "still_rising": plateau > horizon - window,
        })  # fmt: skip
    return pd.DataFrame(rows)


def budgets(
    table: pd.DataFrame,
    references=REFERENCES,
    *,
    step: int = 5,
    low: int = 10,
    high: int | None = None,
) -> pd.DataFrame:
    """Per dataset: the budget (epochs), the setting and depth that set it, and whether the
    horizon capped it."""
    chosen = table[table["setting"].isin(references)]
    if chosen.empty:
        raise ValueError(f"no curves of {', '.join(references)} to set budgets from")
    rows = []
    for dataset, group in chosen.groupby("dataset"):
        top = group.sort_values("plateau", kind="stable").iloc[-1]
        epochs = max(low, step * math.ceil(int(top["plateau"]) / step))
        cap = int(group["horizon"].max()) if high is None else high
        rows.append({
            "dataset": dataset, "epochs": min(epochs, cap), "set_by": top["setting"],
            "depth": int(top["depth"]), "plateau": int(top["plateau"]),
            "capped": bool(group["still_rising"].any() or epochs > cap),
        })  # fmt: skip
    return pd.DataFrame(rows)


def convergence_figure(curve: pd.DataFrame, chosen: pd.DataFrame, path) -> FigureResult:
    """Validation curves per dataset (one line per setting and depth), the budget marked."""
    names = dataset_order(curve["dataset"].unique())
    fig, axes = panels(len(names), ncols=5, size=(3.2, 2.4))
    budget = dict(zip(chosen["dataset"], chosen["epochs"], strict=True))
    styles = {1: ":", 2: "-"}
    for ax, dataset in zip(axes, names, strict=True):
        own = curve[curve["dataset"] == dataset]
        for (setting, depth), group in own.groupby(["setting", "depth"]):
            ax.plot(group["epoch"], group["val_accuracy"], styles.get(depth, "--"),
                    label=f"{setting}, depth {depth}", linewidth=1.2)  # fmt: skip
        if dataset in budget:
            ax.axvline(budget[dataset], color="black", linewidth=0.8)
        ax.set_title(f"{dataset} (budget {budget.get(dataset, '—')})", fontsize="small")
        ax.set_xlabel("epoch", fontsize="small")
        ax.set_ylabel("validation accuracy", fontsize="small")
    legend_once(fig, axes, below=True)
    fig.suptitle("Validation accuracy by epoch (mean over runs); vertical line: the budget")
    return save(fig, path)
