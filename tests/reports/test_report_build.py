"""build_report: files written, every section has content, empty and partial stores work."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from reports import ReportData, accuracy_table, build_report
from reports.render.document import Table
from reports.render.html import html_table
from reports.render.latex import latex_table
from reports.render.markdown import markdown_table
from reports.sections import SECTION_TITLES


class _Page(HTMLParser):
    """Sections (id -> list of content tags) and image sources of a report page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.titles: list[str] = []
        self.images: list[str] = []
        self.missing_text: dict[str, list[str]] = {}
        self._current: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._current = a["id"]
            self.sections[self._current] = []
            self.missing_text[self._current] = []
        elif self._current and tag in ("table", "img", "p"):
            self.sections[self._current].append(tag)
        if tag == "img":
            self.images.append(a["src"])
        if tag == "h2":
            self._in = "h2"
        if tag == "p" and a.get("class") == "missing":
            self._in = "missing"

    def handle_endtag(self, tag):
        if tag == "section":
            self._current = None
        if tag in ("h2", "p"):
            self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self.titles.append(data)
        elif self._in == "missing" and self._current:
            self.missing_text[self._current].append(data)


def _page(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    return page


@pytest.mark.slow
def test_full_report_files(built_report):
    out = built_report.parent
    assert built_report.name == "index.html"
    assert (out / "report.md").stat().st_size > 0
    csv = {p.stem for p in (out / "tables").glob("*.csv")}
    tex = {p.stem for p in (out / "tables").glob("*.tex")}
    assert csv == tex
    assert {"accuracy", "runtime", "contributions", "contributions_pooled", "anchors", "claims",
            "status", "failures", "tuning_cost", "tuned_params",
            "friedman_depth1"} <= csv  # fmt: skip


@pytest.mark.slow
def test_full_report_sections_and_images(built_report):
    page = _page(built_report)
    assert page.titles == list(SECTION_TITLES.values())
    assert all(page.sections[s] for s in SECTION_TITLES), page.sections
    assert len(page.images) == 13  # importances: no study with 20 trials
    for src in page.images:
        assert not Path(src).is_absolute()
        assert (built_report.parent / src).is_file()


@pytest.mark.slow
def test_first_page_answers_the_question(built_report):
    page = _page(built_report)
    assert list(page.sections)[0] == "claims" and list(page.sections)[-1] == "inventory"
    claims = page.sections["claims"]
    assert claims.index("table") < claims.index("img")  # the claims table, then the forest
    assert page.images[0] == "figures/forest.png"
    md = (built_report.parent / "report.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == "# Experiment: synthetic — Landau network benchmark report"
    assert "<h1>Experiment: synthetic" in built_report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_inventory_at_the_end_shows_failed_and_diverged(built_report):
    html = built_report.read_text(encoding="utf-8")
    claims = html[html.index('id="claims"') : html.index('id="contributions"')]
    assert "1 diverged, 1 failed" in claims
    inventory = html[html.index('id="inventory"') :]
    assert "1 diverged, 1 failed" in inventory
    assert "RuntimeError: synthetic failure" in inventory
    assert "importances skipped for 0 studies" in inventory  # meta["notes"]


@pytest.mark.slow
def test_claims_csv_has_the_contract_columns(built_report):
    claims = pd.read_csv(built_report.parent / "tables" / "claims.csv")
    required = ["id", "claim", "setting", "verdict", "estimate", "ci_low", "ci_high", "p_value",
                "p_holm", "n"]  # fmt: skip
    assert required == [c for c in claims.columns if c in required]


@pytest.mark.slow
def test_markdown_has_every_section_and_figure(built_report):
    md = (built_report.parent / "report.md").read_text(encoding="utf-8")
    for title in SECTION_TITLES.values():
        assert f"## {title}" in md
    assert md.count("](figures/") == 13


@pytest.mark.slow
def test_csv_round_trip(built_report, synthetic):
    back = pd.read_csv(built_report.parent / "tables" / "accuracy.csv")
    expected = accuracy_table(synthetic.runs)
    assert back["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy(), nan_ok=True)
    assert back["n_failed"].sum() == 1 and back["n_collapsed"].sum() == 4
    assert back["ci95_low"].min() >= 0 and back["ci95_high"].max() <= 100


def test_empty_report_says_what_is_missing(empty_report):
    page = _page(empty_report)
    assert page.titles == list(SECTION_TITLES.values())
    assert page.images == []
    for section in SECTION_TITLES:
        if section in ("inventory", "faithfulness"):
            continue
        assert page.missing_text[section], f"section {section} does not say what is missing"
    assert "mnist" in " ".join(page.missing_text["accuracy"])
    assert (empty_report.parent / "tables" / "claims.csv").is_file()


@pytest.mark.slow
def test_partial_store(tmp_path, synthetic):
    runs = synthetic.runs[synthetic.runs["dataset"].isin(["moons", "digits"])]
    runs = runs.drop(columns=["seconds", "n_params", "params_source"])  # columns missing too
    data = ReportData(runs=runs, meta={"faithfulness": "custom note"})
    index = build_report(data, tmp_path, strict=True)
    page = _page(index)
    assert all(page.sections[s] for s in SECTION_TITLES)
    assert "at least 5" in " ".join(page.missing_text["statistics"])
    assert "custom note" in index.read_text(encoding="utf-8")


def test_report_data_validation():
    with pytest.raises(ValueError, match="runs"):
        ReportData(runs=[1, 2])
    with pytest.raises(ValueError, match="meta"):
        ReportData(meta=["x"])
    assert ReportData(runs=None).runs.empty
    with pytest.raises(ValueError, match="ReportData"):
        build_report({"runs": pd.DataFrame()}, "x")


def test_latex_and_markdown_escaping():
    t = Table("t_1", pd.DataFrame({"a_b": ["x|y", "50%"], "n": [1.5, None]}), "Caption_1 & more")
    tex = latex_table(t)
    assert r"\begin{table}" in tex and r"\caption{Caption\_1 \& more}" in tex
    assert r"a\_b" in tex and r"50\%" in tex
    assert r"0.5 $\pm$ 0.1" in latex_table(Table("u", pd.DataFrame({"m": ["0.5 ± 0.1"]}), "c"))
    md = markdown_table(t.frame)
    assert r"x\|y" in md and "| 1.5 |" in md and "—" in md


def test_importing_reports_imports_no_torch():
    code = (
        "import sys, reports; "
        "bad = [m for m in ('torch', 'optuna', 'landau', 'studies', 'ablations', 'baselines') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_building_leaves_no_pyplot_figures(built_report):
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_html_table_escapes_and_marks_verdicts():
    frame = pd.DataFrame({"claim": ["<b>x</b>"], "n": [3], "verdict": ["not supported"]})
    out = html_table(frame)
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>" not in out
    assert '<td class="num">3</td>' in out
    assert 'class="v-not-supported"' in out


@pytest.mark.slow
def test_a_failing_figure_costs_only_itself(tmp_path, synthetic, monkeypatch):
    import reports.figures as figures

    def broken(*args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(figures, "accuracy_figure", broken)
    runs = synthetic.runs
    data = ReportData(runs=runs[(runs["dataset"] == "moons") & (runs["depth"] == 1)])
    with pytest.warns(RuntimeWarning, match="boom"):
        index = build_report(data, tmp_path)
    html = index.read_text(encoding="utf-8")
    assert "drawing failed (ZeroDivisionError: boom)" in html
    assert (tmp_path / "tables" / "accuracy.csv").is_file()  # the table survived
    with pytest.raises(ZeroDivisionError):
        build_report(data, tmp_path / "strict", strict=True)
