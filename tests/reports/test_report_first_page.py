"""The first page: the answer paragraph, the compact verdict table (primary rows with data),
one line for the claims without data pointing at the standard experiment, p-values in
scientific notation, inline code rendered in the HTML page."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from reports import ReportData, build_report
from reports.render import format_frame, format_p, html_table, markdown_table
from reports.tables.verdicts import (
    VERDICT_COLUMNS,
    answer_text,
    no_data_text,
    primary_claims,
    verdict_table,
)

VERDICTS = ("supported", "not supported", "equivalent", "not equivalent", "undetermined",
            "dataset-dependent", "inconclusive", "no data")  # fmt: skip


def long_claims_frame() -> pd.DataFrame:
    """:func:`claims_frame` with 14 primary rows whose claims are as long as the blog's: what
    the first screen must still show whole."""
    claims = claims_frame(n_primary=14, n_sensitivity=6, n_no_data=2)
    claims["claim"] = [
        "Langevin escapes local minima / finds global optima: lower final training loss "
        f"than without noise ({i})"
        for i in range(len(claims))
    ]
    return claims


def claims_frame(n_primary: int = 12, n_sensitivity: int = 4, n_no_data: int = 2) -> pd.DataFrame:
    """A claims table with the columns the claims declare (family, role, units, reading):
    `n_primary` primary rows cycling through the verdicts, the last `n_no_data` without data,
    and `n_sensitivity` sensitivity rows."""
    rows = []
    for i in range(n_primary + n_sensitivity):
        primary = i < n_primary
        no_data = primary and i >= n_primary - n_no_data
        verdict = "no data" if no_data else VERDICTS[i % 7] if primary else "inconclusive"
        est = np.nan if no_data else -33.0 + i
        rows.append(
            {"id": f"{i + 1}" if primary else f"{i - n_primary + 1}-sens",
             "claim": f"claim number {i + 1}: a component helps accuracy on the datasets tested",
             "setting": "defaults, 10 epochs", "verdict": verdict, "estimate": est,
             "ci_low": est - 1.5, "ci_high": est + 2.25, "unit": "pp (chance-normalised)",
             "p_value": 5.8e-12 if i == 0 else 0.048, "p_holm": 1.6e-10 if i == 0 else 1.0,
             "n": 7, "measured": f"measured text {i}; more detail", "rule": "a `rule` with code",
             "family": "mechanisms" if i else "accuracy",
             "role": "primary" if primary else "sensitivity",
             "units": "7 datasets", "reading": f"helps on 5 datasets, hurts on 0 ({i})"}
        )  # fmt: skip
    return pd.DataFrame(rows).astype({"n": "Int64"})


def test_compact_table_has_primary_rows_with_data_only():
    claims = claims_frame(n_primary=12, n_sensitivity=4, n_no_data=2)
    table = verdict_table(claims)
    assert list(table.columns) == VERDICT_COLUMNS
    assert list(table["id"]) == [str(i) for i in range(1, 11)]  # primary, in order, no "no data"
    assert "no data" not in set(table["verdict"])
    first = table.iloc[0]
    assert first["estimate [95% interval]"] == "−33 [−34.5, −30.8] pp"
    assert first["units"] == "7 datasets" and first["reading"].startswith("helps on 5")


def test_answer_names_every_decisive_verdict_and_counts_the_rest():
    claims = claims_frame(n_primary=12, n_sensitivity=4, n_no_data=2)
    text = answer_text(claims)
    assert "of the 10 claims this experiment can judge" in text
    assert "2 supported (1, 8)" in text
    assert "2 not supported (2, 9)" in text and "2 equivalent (3, 10)" in text
    assert "1 not equivalent (4)" in text and "1 dataset-dependent (6)" in text
    assert "2 cannot be decided with these runs (1 inconclusive, 1 undetermined)" in text
    assert "2 more have no data here" in text


def test_no_data_is_one_line_that_points_at_the_standard_experiment():
    claims = claims_frame(n_primary=12, n_no_data=5)
    line = no_data_text(claims, "quick")
    assert line.startswith("No data here for 5 claims (8, 9, 10, 11, 12)")
    assert "landau run standard" in line and "docs/standard-report/" in line
    assert "landau run standard" not in no_data_text(claims, "standard")
    assert no_data_text(claims_frame(n_no_data=0), "quick") is None


def test_a_claims_table_without_roles_reads_every_row_as_primary():
    claims = claims_frame(n_sensitivity=0).drop(columns=["family", "role", "units", "reading"])
    p = primary_claims(claims)
    assert len(p) == len(claims)
    assert p.loc[0, "units"] == "n = 7" and p.loc[0, "reading"] == "measured text 0"


@pytest.mark.parametrize(
    ("p", "text"),
    [(5.8e-12, "5.8e-12"), (1.6e-10, "1.6e-10"), (0.048, "4.8e-2"), (0.31, "3.1e-1"),
     (1.0, "1"), (0.0, "< 1e-300"), (np.nan, "—"), (0.99999, "1.0")],
)  # fmt: skip
def test_p_values_print_in_scientific_notation_never_zero(p, text):
    assert format_p(p) == text


def test_p_columns_of_every_table_print_in_scientific_notation():
    frame = pd.DataFrame({"p_value": [5.8e-12], "p_holm": [1.6e-10], "x": [5.8e-12]})
    cells = format_frame(frame).iloc[0]
    assert cells["p_value"] == "5.8e-12" and cells["p_holm"] == "1.6e-10"
    assert cells["x"] == "0"  # other columns: float noise below 5e-10 is the 0 it is
    assert "5.8e-12" in html_table(frame) and "5.8e-12" in markdown_table(frame)


def test_html_cells_show_inline_code():
    html = html_table(pd.DataFrame({"rule": ["mean of `final_train_loss` <b>"]}))
    assert "<code>final_train_loss</code>" in html and "`" not in html
    assert "&lt;b&gt;" in html


def _first_page(monkeypatch, tmp_path, claims: pd.DataFrame, experiment: str) -> str:
    monkeypatch.setattr("reports.context.claims_table", lambda *a, **k: claims)
    data = ReportData(meta={"experiment": experiment})
    index = build_report(data, tmp_path, strict=True, figures=False)
    html = index.read_text(encoding="utf-8")
    return html[html.index('id="claims"') : html.index('id="contributions"')]


def test_first_page_order_answer_compact_table_then_full_table(monkeypatch, tmp_path):
    claims = claims_frame(n_primary=12, n_sensitivity=4, n_no_data=3)
    page = _first_page(monkeypatch, tmp_path, claims, "quick")
    answer = page.index('class="answer"')
    compact = page.index('class="tbl compact"')
    no_data = page.index("No data here for 3 claims")
    full = page.index('href="tables/claims.csv"')
    assert answer < compact < no_data < full
    compact_html = page[compact : page.index("</table>", compact)]
    assert compact_html.count("<tr>") == 1 + 9  # header + the primary rows with data
    assert "sens" not in compact_html  # sensitivity rows only in the full table
    full_html = page[full:]
    assert "1-sens" in full_html and "5.8e-12" in full_html and "1.6e-10" in full_html
    assert ">0<" not in re.sub(r"\s", "", full_html.split("</table>")[0])
    assert "<code>rule</code>" in full_html
    assert (tmp_path / "tables" / "verdicts.csv").is_file()


def test_estimate_without_interval_and_nonfinite_bounds():
    claims = claims_frame(n_primary=2, n_sensitivity=0, n_no_data=0)
    claims.loc[0, ["ci_low", "ci_high"]] = [np.nan, np.nan]
    claims.loc[1, ["estimate", "ci_low", "ci_high"]] = [0.0004, -math.inf, 1.0]
    table = verdict_table(claims)
    assert table.loc[0, "estimate [95% interval]"] == "−33 pp"
    assert table.loc[1, "estimate [95% interval]"] == "4.0e−04 pp"
