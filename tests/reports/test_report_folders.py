"""Report folders: a report replaces its folder whole (built beside it, swapped in), refuses a
folder holding anything but a report, and leaves the previous report when a build fails;
`landau report` writes each experiment into its own folder."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from reports import ReportData, build_report

sys.path.insert(0, str(Path(__file__).parents[1] / "studies"))  # test_store's hand-made runs


def _siblings(folder: Path) -> set[str]:
    return {p.name for p in folder.parent.iterdir()}


def test_a_rebuilt_report_keeps_no_file_of_the_previous_one(synthetic, tmp_path):
    out = tmp_path / "report"
    runs = synthetic.runs
    runs = runs[(runs["dataset"] == "circles") & runs["variant"].isin(["full", "sgd"])]
    build_report(ReportData(runs=runs), out, figures=False)
    assert (out / "tables" / "failures.csv").is_file()  # the synthetic store has failures
    (out / "figures" / "stale.png").write_bytes(b"old")
    build_report(ReportData(meta={"experiment": "other"}), out, figures=False)
    assert not (out / "tables" / "failures.csv").exists()
    assert not (out / "figures" / "stale.png").exists()
    assert "Experiment: other" in (out / "report.md").read_text(encoding="utf-8")
    assert _siblings(out) == {"report"}  # no temporary folder left beside it


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"not a report's \(notes\.txt\)"):
        build_report(ReportData(), out, figures=False)
    assert (out / "notes.txt").read_text() == "mine"
    assert _siblings(out) == {"mine"}


def test_a_failed_build_leaves_the_previous_report(tmp_path, monkeypatch):
    out = tmp_path / "report"
    build_report(ReportData(meta={"experiment": "first"}), out, figures=False)
    before = (out / "report.md").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("reports.build.render_html", broken)
    with pytest.raises(OSError, match="disk full"):
        build_report(ReportData(meta={"experiment": "second"}), out, figures=False)
    assert (out / "report.md").read_bytes() == before
    assert _siblings(out) == {"report"}


@pytest.mark.slow  # two reports through the CLI (~10-20 s)
def test_each_experiment_gets_its_own_folder(tmp_path, monkeypatch, capsys):
    from test_store import make_record

    from studies.cli import main
    from studies.store import Store

    monkeypatch.chdir(tmp_path)
    store = tmp_path / "r.db"
    with Store(store) as s:
        for name, seed in (("A", 0), ("B", 1)):
            s.write_run(dataclasses.replace(make_record(f"run-{name}"), seed=seed))
            s.add_to_experiment(name, run_ids=[f"run-{name}"])
    old = tmp_path / "landau-results" / "report"  # a report of an earlier version, flat
    (old / "tables").mkdir(parents=True)
    (old / "index.html").write_text("old")
    (old / "tables" / "claims.csv").write_text("old")
    assert main(["report", "--store", str(store), "--experiment", "A"]) == 0
    a = old / "A"
    a_files = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    assert a_files and "Experiment: A" in (a / "report.md").read_text()
    assert main(["report", "--store", str(store), "--experiment", "B"]) == 0
    assert "Experiment: B" in (old / "B" / "report.md").read_text()
    assert {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()} == a_files
    assert sorted(p.name for p in old.iterdir()) == ["A", "B"]  # the flat report is gone
    assert "removed the report an earlier version wrote" in capsys.readouterr().out
