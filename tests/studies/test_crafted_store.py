"""A crafted store (data from someone else): `landau report` writes only inside --out, whatever
the stored names (a dataset named ``x/../../../../TRAV`` wrote TRAV.png three folders up)."""

from __future__ import annotations

import dataclasses
import os

from test_store import make_record  # a hand-made run record

from studies.cli import main
from studies.store.store import Store

TRAVERSAL = "x/../../../../TRAV"


def test_report_of_a_crafted_store_writes_only_inside_out(tmp_path, capsys):
    store_path = tmp_path / "crafted.db"
    with Store(store_path) as store:
        for i, dataset in enumerate([TRAVERSAL, "moons"]):
            store.write_run(
                dataclasses.replace(
                    make_record(f"run-{i}"),
                    dataset=dataset,
                    n_classes=2,
                    chance_accuracy=0.5,
                    collapsed=False,
                    data_seed=0,
                )
            )
    out = tmp_path / "a" / "b" / "c" / "d" / "out"
    out.parent.mkdir(parents=True)
    before = {p for p in tmp_path.rglob("*")}
    code = main(["report", "--store", str(store_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    made = {p for p in tmp_path.rglob("*")} - before
    outside = [p for p in made if out not in p.parents and p != out and p.parent != tmp_path]
    assert not outside, outside
    assert not list(tmp_path.rglob("TRAV*")), "a file named from the stored value"
    figures = {p.name for p in (out / "figures").iterdir()}
    assert any(n.startswith("boundaries_x_TRAV-") for n in figures), figures
    assert all(os.sep not in n for n in figures)
