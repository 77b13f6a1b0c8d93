"""`landau report --experiment A --replicate B`: B's verdicts beside A's in claims.csv and a
section that says which replicate; bad names are one line on stderr, exit 2."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_store import make_record  # a hand-made run record

from studies.cli import main
from studies.store.store import Store


def _record(run_id: str, variant: str, seed: int, data_seed: int, acc: float):
    return dataclasses.replace(
        make_record(run_id, n_epochs=2), variant=variant, seed=seed, data_seed=data_seed,
        depth=1, test_accuracy=acc, n_classes=2, chance_accuracy=0.5, collapsed=False,
        mesh=None,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path) -> str:
    """Experiments `a` (base seed 0, data seed 0) and `b` (seeds 10.., data seed 1): full and
    plain_mlp on moons, 3 runs each; no run of b pairs with a run of a."""
    path = tmp_path / "r.db"
    with Store(path) as s:
        for name, seed0, data_seed in (("a", 0, 0), ("b", 10, 1)):
            ids = []
            for variant, acc in (("full", 0.80), ("plain_mlp", 0.85)):
                for k in range(3):
                    run_id = f"{name}-{variant}-{k}"
                    s.write_run(_record(run_id, variant, seed0 + k, data_seed, acc + 0.01 * k))
                    ids.append(run_id)
            s.add_to_experiment(name, ids)
    return str(path)


def test_report_with_a_replicate_writes_both_verdicts(store, tmp_path, capsys):
    out = tmp_path / "report"
    args = ["report", "--store", store, "--experiment", "a", "--replicate", "b"]
    assert main([*args, "--out", str(out)]) == 0, capsys.readouterr().err
    claims = pd.read_csv(out / "tables" / "claims.csv", keep_default_na=False)
    assert {"verdict_replicate", "replication"} <= set(claims.columns)
    # the claims without runs in either: no data in A; those with: judged in both
    no_data = claims["verdict"] == "no data"
    assert (claims.loc[no_data, "replication"] == "no data in A").all()
    judged = claims[~no_data]
    assert len(judged) and (judged["verdict_replicate"] != "no data").all()
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Does it replicate?" in html and "`b`" not in html and "<code>b</code>" in html


@pytest.mark.parametrize(
    ("replicate", "message"),
    [("a", "another experiment than the one reported"), ("nosuch", "known: a, b")],
)
def test_bad_replicate_is_one_line_exit_2(store, tmp_path, capsys, replicate, message):
    capsys.readouterr()
    out = tmp_path / "report"
    args = ["report", "--store", store, "--experiment", "a", "--replicate", replicate]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_compare_of_a_replicate_runs_unpaired_and_says_so(store, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "c"
    assert main(["compare", "a", "b", "--store", store, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "compare 'b' − 'a' (unpaired: no run of B pairs with a run of A)" in text
    cells = pd.read_csv(out / "compare_cells.csv").set_index("variant")
    assert set(cells.index) == {"full", "plain_mlp"} and (cells["n_a"] == 3).all()
    assert (cells["diff_pp"].abs() < 1e-6).all()  # b's accuracies are a's
    assert (out / "compare.png").stat().st_size > 0


def test_compare_unpaired_when_asked_even_where_runs_pair(store, tmp_path, capsys):
    capsys.readouterr()
    # a with itself in a copy of the store: every run pairs
    other = tmp_path / "other.db"
    other.write_bytes(open(store, "rb").read())
    args = ["compare", "a", "a", "--store", store, "--store-b", str(other)]
    assert main([*args, "--out", str(tmp_path / "p")]) == 0
    assert "compare 'a' − 'a' (paired): 6 matched pairs" in capsys.readouterr().out
    assert main([*args, "--unpaired", "--out", str(tmp_path / "u")]) == 0
    assert "(unpaired, as asked)" in capsys.readouterr().out
    assert "n_a" in pd.read_csv(tmp_path / "u" / "compare_cells.csv").columns
