"""Does a verdict replicate? A's claims beside B's (the same rules on B's own runs): the labels,
the summary line, the section and the columns of claims.csv and of the compact table."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_report_chromium import CHROMIUM, _body, _dump_dom
from test_report_first_page import claims_frame, long_claims_frame

from reports import ReportData, build_report
from reports.replication import add_replication, claims_of, replication, replication_summary
from reports.tables.verdicts import verdict_table


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("supported", "supported", "replicates"),
        ("not equivalent", "not equivalent", "replicates"),
        ("dataset-dependent", "dataset-dependent", "replicates"),
        ("inconclusive", "inconclusive", "same, undecided"),
        ("undetermined", "undetermined", "same, undecided"),
        ("supported", "inconclusive", "does not replicate (B: inconclusive)"),
        ("inconclusive", "not supported", "does not replicate (B: not supported)"),
        ("supported", "not supported", "does not replicate (B: not supported)"),
        ("equivalent", "no data", "no data in B"),
        ("equivalent", None, "no data in B"),
        ("no data", "supported", "no data in A"),
    ],
)
def test_replication_labels(a, b, label):
    assert replication(a, b) == label


def _claims(verdicts: list[str], roles: list[str] | None = None) -> pd.DataFrame:
    roles = roles or ["primary"] * len(verdicts)
    ids = [f"c{i}" for i in range(len(verdicts))]
    return pd.DataFrame({"id": ids, "verdict": verdicts, "role": roles})


def test_rows_match_by_claim_id_not_by_position():
    a = _claims(["supported", "inconclusive", "not supported", "equivalent"])
    b = _claims(["inconclusive", "supported", "not supported"]).iloc[::-1]  # c3 absent
    b = b.assign(verdict=["not supported", "inconclusive", "supported"])  # c2, c1, c0
    out = add_replication(a, b)
    assert list(out["verdict_replicate"]) == [
        "supported",
        "inconclusive",
        "not supported",
        "no data",
    ]
    assert list(out["replication"]) == [
        "replicates",
        "same, undecided",
        "replicates",
        "no data in B",
    ]
    assert list(out.columns[-2:]) == ["verdict_replicate", "replication"]


def test_summary_counts_firm_primary_verdicts_of_a():
    a = _claims(
        ["supported", "not supported", "equivalent", "inconclusive", "supported", "supported"],
        ["primary"] * 5 + ["sensitivity"],
    )
    b = _claims(["supported", "inconclusive", "no data", "inconclusive", "supported", "no data"])
    line = replication_summary(add_replication(a, b), "std", "std-rep")
    # firm primary: c0, c1, c2, c4; replicate: c0, c4; the sensitivity row c5 is not counted
    assert line.startswith("2 of 4 firm verdicts replicate")
    assert "1 primary claims do not replicate, 1 are undecided in both" in line
    assert "1 have no data in `std-rep`" in line


def test_bad_claims_tables_are_refused():
    with pytest.raises(ValueError, match="lacks verdict"):
        add_replication(_claims(["supported"]), pd.DataFrame({"id": ["c0"]}))
    with pytest.raises(ValueError, match="unique in B"):
        add_replication(_claims(["supported"]), _claims(["supported", "x"]).assign(id="c0"))
    with pytest.raises(ValueError, match="add_replication first"):
        replication_summary(_claims(["supported"]))


def test_compact_table_shows_replication_only_with_a_replicate():
    claims = claims_frame(n_primary=6, n_sensitivity=2, n_no_data=1)
    assert "replication" not in verdict_table(claims).columns
    other = claims.assign(verdict=claims["verdict"].where(claims.index != 0, "inconclusive"))
    table = verdict_table(add_replication(claims, other))
    assert list(table.columns[:4]) == ["id", "claim", "verdict", "replication"]
    assert table.loc[0, "replication"] == "does not replicate (B: inconclusive)"
    assert table.loc[1, "replication"] == "replicates"


def test_report_with_a_replicate_has_the_section_and_the_columns(synthetic, tmp_path):
    # B: the same design with every run's accuracy shuffled, so verdicts may change
    shuffled = synthetic.runs["test_accuracy"].sample(frac=1.0, random_state=1).to_numpy()
    b = dataclasses.replace(synthetic, runs=synthetic.runs.assign(test_accuracy=shuffled))
    b_claims = claims_of(b)
    meta = {**synthetic.meta, "experiment": "std", "replicate": "std-rep"}
    data = dataclasses.replace(synthetic, replicate_claims=b_claims, meta=meta)
    index = build_report(data, tmp_path / "r", strict=True, figures=False)
    claims = pd.read_csv(tmp_path / "r" / "tables" / "claims.csv", keep_default_na=False)
    own = claims_of(synthetic)
    assert list(claims["verdict"]) == list(own["verdict"])  # A's verdicts are A's
    assert list(claims["verdict_replicate"]) == list(b_claims["verdict"])
    assert (claims["verdict"] != claims["verdict_replicate"]).any()  # B differs somewhere
    expected = [replication(x, y) for x, y in zip(own["verdict"], b_claims["verdict"], strict=True)]
    assert list(claims["replication"]) == expected
    table = pd.read_csv(tmp_path / "r" / "tables" / "replication.csv", keep_default_na=False)
    assert list(table.columns) == ["id", "role", "verdict", "verdict_replicate", "replication"]
    assert "replication" in pd.read_csv(tmp_path / "r" / "tables" / "verdicts.csv").columns
    html = index.read_text(encoding="utf-8")
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    for page in (html, md):
        assert "Does it replicate?" in page and "firm verdicts replicate" in page
    # the section comes right after the claims
    assert html.index('id="claims"') < html.index('id="replication"') < html.index('id="accuracy"')


def test_report_without_a_replicate_is_unchanged(tmp_path):
    runs = pd.DataFrame(
        {"variant": ["full"], "dataset": ["moons"], "seed": [0], "depth": [1], "status": ["ok"],
         "test_accuracy": [0.9], "epochs": [5], "params_source": ["defaults"]}
    )  # fmt: skip
    index = build_report(ReportData(runs=runs), tmp_path / "r", strict=True, figures=False)
    assert "Does it replicate?" not in index.read_text(encoding="utf-8")
    assert not (tmp_path / "r" / "tables" / "replication.csv").exists()
    claims = pd.read_csv(tmp_path / "r" / "tables" / "claims.csv")
    assert "replication" not in claims.columns and "verdict_replicate" not in claims.columns


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_twelve_verdicts_with_replication_fit_a_1400_by_900_screen(monkeypatch, tmp_path):
    """The replication column costs no row of the first screen (as without it: 12 rows)."""
    claims = long_claims_frame()  # as long as the blog's claims are
    other = claims.assign(verdict="not equivalent")  # every row: does not replicate (B: …)
    monkeypatch.setattr("reports.context.claims_table", lambda *a, **k: claims)
    meta = {"experiment": "quick", "replicate": "quick-rep"}
    data = ReportData(replicate_claims=other, meta=meta)
    index = build_report(data, tmp_path / "r", strict=True, figures=False)
    body = _body(_dump_dom(index, tmp_path / "profile"))
    assert body["data-verdict-rows"] == "12"
    assert body["data-verdict-rows-visible"] == "12", body
