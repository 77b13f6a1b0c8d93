"""The users' own datasets (issue 19): a grid's [custom_datasets.NAME] names a CSV, parquet or npz
file; bad files are one line and exit 2 with nothing stored; the file's content is part of the run
identity; grid, tune and report work end to end on tests/studies/custom_data/ only."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studies.cli import main
from studies.data.custom import load_custom
from studies.data.datasets import load_dataset
from studies.experiment.grid_file import load_grid
from studies.store.store import Store

FIXTURE = Path(__file__).parent / "custom_data"


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """A copy of the fixture grid and its CSV in tmp_path (the grid names the CSV relatively)."""
    for name in ("shapes.toml", "shapes.csv"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    return tmp_path / "shapes.toml"


def _grid(tmp_path: Path, body: str, table: str) -> Path:
    grid = tmp_path / "g.toml"
    grid.write_text(
        'variants = ["logreg"]\ndatasets = ["mine"]\nseeds = 1\ndepths = [1]\nepochs = 1\n'
        f"[custom_datasets.mine]\n{table}\n"
    )
    if body:
        (tmp_path / "data.csv").write_text(body)
    return grid


GOOD = "a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20))
BAD_FILES = [  # (id, csv body, [custom_datasets.mine] keys, a part of the expected line)
    ("missing-file", "", 'path = "nope.csv"\ntarget = "label"', "no file"),
    ("missing-target", GOOD, 'path = "data.csv"\ntarget = "kind"', "no target column 'kind'"),
    (
        "text-column",
        "a,note,label\n" + "".join(f"{i},note {i},{'xy'[i % 2]}\n" for i in range(30)),
        'path = "data.csv"\ntarget = "label"',
        "column 'note' is text with 30 distinct values",
    ),
    (
        "single-class",
        "a,label\n" + "".join(f"{i},x\n" for i in range(20)),
        'path = "data.csv"\ntarget = "label"',
        "must have >= 2 classes, but has 1",
    ),
    ("nan-label", GOOD + "3,1,\n", 'path = "data.csv"\ntarget = "label"', "1 missing labels"),
    ("suffix", GOOD, 'path = "data.xlsx"\ntarget = "label"', "unknown file type '.xlsx'"),
    ("no-target-key", GOOD, 'path = "data.csv"', "needs `target`"),
    ("unknown-key", GOOD, 'path = "data.csv"\ntarget = "label"\nsep = ";"', "unknown keys"),
    (
        "tiny-class",
        GOOD + "99,1,z\n",
        'path = "data.csv"\ntarget = "label"',
        "class 'z' has 1",
    ),
]


@pytest.mark.parametrize(
    ("body", "table", "expected"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_a_bad_file_is_one_line_exit_2_and_nothing_stored(
    body, table, expected, tmp_path, capsys
) -> None:
    grid, store = _grid(tmp_path, body, table), tmp_path / "r.db"
    code = main(["grid", str(grid), "--store", str(store), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    assert expected in err, err
    assert not store.exists()


def test_a_name_of_a_built_in_dataset_is_refused(tmp_path, capsys) -> None:
    grid = _grid(tmp_path, GOOD, 'path = "data.csv"\ntarget = "label"')
    grid.write_text(grid.read_text().replace("mine", "iris"))
    assert main(["grid", str(grid), "--store", str(tmp_path / "r.db")]) == 2
    assert "'iris' is a built-in dataset" in capsys.readouterr().err


def test_csv_parquet_and_npz_give_the_same_dataset(tmp_path) -> None:
    frame = pd.read_csv(FIXTURE / "shapes.csv")
    frame.to_parquet(tmp_path / "shapes.parquet")
    colour = frame["colour"].to_numpy(dtype=str)
    np.savez(
        tmp_path / "shapes.npz",
        height=frame["height"].to_numpy(),
        width=frame["width"].to_numpy(),
        colour=colour,
        label=frame["label"].to_numpy(dtype=str),
    )
    loaded = []
    for suffix in ("csv", "parquet", "npz"):
        if suffix == "csv":
            shutil.copy(FIXTURE / "shapes.csv", tmp_path)
        grid = tmp_path / f"{suffix}.toml"
        grid.write_text(
            'variants = ["logreg"]\ndatasets = ["shapes"]\n[custom_datasets.shapes]\n'
            f'path = "shapes.{suffix}"\ntarget = "label"\n'
        )
        spec = load_grid(grid).custom_datasets["shapes"]
        assert (spec.n_samples, spec.n_features, spec.n_classes) == (60, 5, 2)  # 2 + 3 colours
        loaded.append(load_dataset("shapes", custom=spec))
    for other in loaded[1:]:
        assert np.array_equal(other.x_train.numpy(), loaded[0].x_train.numpy())
        assert np.array_equal(other.y_test.numpy(), loaded[0].y_test.numpy())


def test_a_2d_npz_array_is_one_column_per_feature(tmp_path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 3)), y=np.arange(40) % 2)
    grid = tmp_path / "g.toml"
    grid.write_text(
        'variants = ["logreg"]\ndatasets = ["d"]\n[custom_datasets.d]\npath = "d.npz"\n'
        'target = "y"\n'
    )
    spec = load_grid(grid).custom_datasets["d"]
    assert (spec.n_features, spec.n_classes) == (3, 2)


def test_missing_value_and_categorical_preprocessing(shapes) -> None:
    spec = load_grid(shapes).custom_datasets["shapes"]
    data = load_dataset("shapes", custom=spec)
    for x in (data.x_train, data.x_val, data.x_test):
        assert not x.isnan().any()
    # the one-hot colour columns: each row has exactly one colour before standardisation
    table = load_custom(spec)
    assert np.array_equal(table.x[:, 2:].sum(axis=1), np.ones(60, dtype=np.float32))
    assert table.features[2:] == ("colour=blue", "colour=green", "colour=red")
    assert np.isnan(table.x[7, 0])  # the fixture's missing height


def test_editing_the_file_changes_the_run_identity(shapes) -> None:
    before = {r.name: r.run_id for r in load_grid(shapes).expand()}
    csv = shapes.parent / "shapes.csv"
    csv.write_text(csv.read_text().replace("-1.222", "-1.223"))
    after = {r.name: r.run_id for r in load_grid(shapes).expand()}
    assert before.keys() == after.keys()
    for name in before:
        assert (before[name] != after[name]) == ("dataset=shapes" in name), name


def test_a_file_changed_after_the_grid_was_read_is_refused(shapes) -> None:
    spec = load_grid(shapes).custom_datasets["shapes"]
    csv = shapes.parent / "shapes.csv"
    csv.write_text(csv.read_text() + "0.1,0.2,red,small\n")
    with pytest.raises(ValueError, match="changed since the grid was read"):
        load_custom(spec)


def test_an_edited_file_makes_the_grid_retrain(shapes, capsys) -> None:
    store = shapes.parent / "r.db"
    argv = ["grid", str(shapes), "--variants", "logreg", "--datasets", "shapes", "--no-progress"]
    argv += ["--store", str(store)]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "2 runs: 2 already stored, 0 executed" in capsys.readouterr().out
    csv = shapes.parent / "shapes.csv"
    csv.write_text(csv.read_text().replace("-1.222", "-1.223"))
    assert main(argv) == 0
    assert "2 runs: 0 already stored, 2 executed (2 ok" in capsys.readouterr().out
    with Store(str(store)) as s:
        runs = s.runs_frame()
    assert len(runs) == 4 and set(runs["dataset"]) == {"shapes"}


def test_landau_list_shows_the_custom_dataset_with_its_path(shapes, capsys) -> None:
    assert main(["list", str(shapes)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("shapes "))
    assert "[custom]" in line and "60 x 5, 2 classes" in line
    assert str(shapes.parent / "shapes.csv") in out


@pytest.mark.slow
def test_grid_tune_and_report_end_to_end(tmp_path, capsys) -> None:
    """The fixture grid as a user runs it: tune, grid --tuned, report, from tests/ files only."""
    store, out = str(tmp_path / "r.db"), tmp_path / "report"
    grid = str(FIXTURE / "shapes.toml")
    common = ["--datasets", "shapes", "--store", store, "--no-progress"]
    assert main(["tune", grid, *common]) == 0
    assert "dataset=shapes,data=" in capsys.readouterr().out  # the study names the content
    assert main(["grid", grid, "--tuned", *common]) == 0
    assert "4 runs: 0 already stored, 4 executed (4 ok" in capsys.readouterr().out
    assert main(["report", "--store", store, "--out", str(out)]) == 0
    assert "shapes" in (out / "report.md").read_text()


def test_one_study_on_a_custom_dataset_takes_it_from_the_grid(shapes, capsys) -> None:
    store = str(shapes.parent / "r.db")
    one = ["--variant", "logreg", "--dataset", "shapes", "--trials", "1", "--no-progress"]
    assert main(["tune", *one, "--store", store]) == 2
    assert "a custom dataset needs its grid" in capsys.readouterr().err
    assert main(["tune", str(shapes), *one, "--store", store]) == 0
    assert "logreg[dataset=shapes,data=" in capsys.readouterr().out
