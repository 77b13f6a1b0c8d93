"""Figures readable at their rendered size: short legends with one colour per entry, clear of
the title; no figure taller than 1 600 px; importances only from studies with enough trials."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from report_synthetic import runs_frame

import reports
from reports.figures import accuracy_groups
from reports.figures._base import panels
from reports.tables import importances_table

MAX_PX = 1600
PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header (IHDR)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG, path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def many_settings(
    extra_datasets: tuple[str, ...] = (), datasets: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Runs as the standard experiment has them: fixed and tuned protocols, a temperature
    sweep on full, the blog preset on MNIST, on the synthetic datasets (three variants) and
    on `extra_datasets` (copies of moons); only `datasets` when given."""
    base = runs_frame()
    base = base[base["variant"].isin(["full", "sgd", "plain_mlp"])]
    if datasets is not None:
        base = base[base["dataset"].isin(datasets)]
    fixed = base[base["params_source"] == "defaults"]
    tuned = fixed.assign(params_source="study:x", run_id=fixed["run_id"] + "-t")
    frames = [base, tuned]
    for t in (0.0, 0.0008, 8e-05):
        full = fixed[fixed["variant"] == "full"]
        frames.append(
            full.assign(sweep=f"temperature={t}", hp_temperature=t, run_id=full["run_id"] + f"{t}")
        )
    for name in extra_datasets:
        moons = pd.concat([fixed, tuned])
        moons = moons[moons["dataset"] == "moons"]
        frames.append(moons.assign(dataset=name, run_id=moons["run_id"] + name))
    return pd.concat(frames, ignore_index=True)


def _legend_over_title(fig) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    return any(leg.get_window_extent(renderer).overlaps(title) for leg in fig.legends)


def test_accuracy_legend_is_short_has_one_colour_each_and_clears_the_title(tmp_path):
    runs = many_settings(datasets=("moons", "mnist"))
    res = reports.accuracy_figure(runs, tmp_path / "a.png")
    fig = res.figure
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) <= 12, labels
    assert {"depth 1", "depth 2"} <= set(labels)
    colours = [mcolors.to_hex(h.get_color()) for h in legend.legend_handles]
    coloured = [c for lab, c in zip(labels, colours, strict=True) if lab.startswith("depth")]
    assert len(set(coloured)) == len(coloured)  # no colour reused
    assert not _legend_over_title(fig)
    one = reports.accuracy_figure(runs, tmp_path / "b.png", ["mnist"]).figure  # one panel
    assert len(one.axes) == 1 and not _legend_over_title(one)
    titles = [ax.get_title() for ax in fig.axes]
    assert "moons · fixed, 5 epochs" in titles and "moons · tuned, 5 epochs" in titles
    assert "mnist · blog preset, 100 epochs" in titles
    assert not any("temperature" in t for t in titles)  # the sweep figure shows the sweep
    assert _png_size(res.path)[1] <= MAX_PX


def test_many_datasets_make_several_accuracy_figures_within_1600_px():
    names = tuple(f"extra{i}" for i in range(8))
    groups = accuracy_groups(many_settings(names))
    # panels: 5 datasets x (fixed, tuned), mnist (blog preset), 8 copies x 2 = 27; at most 15
    # per figure, a dataset never split: 10 + 1 + 2 + 2 = 15, then 6 x 2 = 12
    assert [len(g) for g in groups] == [8, 6]
    assert [d for g in groups for d in g][:5] == ["moons", "circles", "classification",
                                                  "digits", "mnist1d"]  # fmt: skip


@pytest.mark.parametrize("n", [1, 12, 24, 40])
def test_panels_stay_within_1600_px(n):
    fig, axes = panels(n, ncols=3, size=(4.0, 3.4))
    assert len(axes) == n
    height = fig.get_size_inches()[1] * 100
    assert height <= MAX_PX or n > 24  # beyond 8 rows of 2-inch panels: another figure
    assert fig.get_size_inches()[1] / -(-n // 3) >= 2.0  # panels never below 2 inches


def test_importances_table_lists_every_study_with_the_caveat(synthetic):
    table = importances_table(synthetic.importances, synthetic.trials)
    assert list(table["study_name"]) == ["full-moons-d1", "plain_mlp-moons-d1"]
    assert list(table["n_trials"]) == [10, 10]
    assert set(table["reliable"]) == {"no: < 20 trials"}
    assert table.loc[0, "lr"] == pytest.approx(0.5)  # full: lr, alpha, gamma = 3/6, 2/6, 1/6
    assert pd.isna(table.loc[0, "hidden"])  # not searched by full's study


def test_many_studies_give_one_row_per_variant(synthetic, tmp_path):
    imp = synthetic.importances
    studies = [
        imp.assign(study_name=imp["study_name"] + f"-{i}", dataset=f"d{i}") for i in range(20)
    ]
    imp = pd.concat(studies, ignore_index=True)  # 40 studies
    trials = pd.DataFrame({"study_name": imp["study_name"].repeat(10).to_numpy()})
    trials = trials.drop_duplicates().loc[lambda t: t.index.repeat(25)].reset_index(drop=True)
    res = reports.importances_figure(imp, tmp_path / "i.png", trials)
    rows = [t.get_text() for t in res.figure.axes[0].get_yticklabels()]
    assert rows == ["full (20 studies)", "plain_mlp (20 studies)"]


@pytest.mark.slow  # the full-report fixture
def test_every_figure_of_the_report_is_at_most_1600_px_tall(built_report):
    sizes = {p.name: _png_size(p) for p in (built_report.parent / "figures").glob("*.png")}
    assert sizes
    assert {n: s for n, s in sizes.items() if s[1] > MAX_PX} == {}
