"""plan.xlsx read back with openpyxl: sheets, headers with units, cell types, frozen panes,
filters, and totals equal to the CSVs the run wrote."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from model.workbook import RUN_SHEETS, column_name, header_text, unit_of, write_workbook


@pytest.fixture(scope="module")
def book(demo_run):
    return openpyxl.load_workbook(demo_run.run_dir / "plan.xlsx")


def _frame(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=[column_name(h) for h in rows[0]])


def test_sheets_in_order(book, demo_run):
    expected = ["README"] + [s for s, csv in RUN_SHEETS if (demo_run.run_dir / csv).exists()]
    assert book.sheetnames == expected
    assert {"decisions", "wards", "allocation", "kpis", "objective_by_year"} <= set(book.sheetnames)


@pytest.mark.parametrize("sheet", ["decisions", "wards", "allocation", "kpis", "objective_by_year",
                                   "saving"])
def test_sheet_matches_its_csv(book, demo_run, sheet):
    csv = pd.read_csv(demo_run.run_dir / f"{sheet}.csv", keep_default_na=False, na_values=[""])
    ws = book[sheet]
    # headers: the CSV's columns, each with its unit where it has one
    assert [c.value for c in ws[1]] == [header_text(c) for c in csv.columns]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(csv.columns)).column_letter}{len(csv) + 1}"
    got = _frame(ws)
    assert len(got) == len(csv)
    for col in csv.columns:
        if pd.api.types.is_numeric_dtype(csv[col]) and not pd.api.types.is_bool_dtype(csv[col]):
            # numbers are stored as numbers, never as text, and sum to the CSV's total
            types = {ws.cell(r, list(csv.columns).index(col) + 1).data_type
                     for r in range(2, len(csv) + 2)}
            assert types <= {"n"}, (sheet, col, types)
            assert got[col].astype(float).sum() == pytest.approx(csv[col].sum(), rel=1e-12, abs=1e-9)


def test_kpi_years_are_numbers_except_all(book):
    years = {ws_row[3] for ws_row in book["kpis"].iter_rows(min_row=2, values_only=True)}
    assert "all" in years
    assert all(isinstance(y, int) for y in years - {"all"})


def test_units_and_formats(book):
    kpis = book["kpis"]
    headers = [c.value for c in kpis[1]]
    assert "cost_gbp (GBP)" in headers and "carbon_t (tCO2e)" in headers
    assert "in_hub_share (share 0-1)" in headers
    share_col = headers.index("in_hub_share (share 0-1)") + 1
    assert kpis.cell(2, share_col).number_format == "0.0%"
    assert unit_of("site") is None and unit_of("mean_km").label == "km"
    assert unit_of("cost_capital_gbp").label == "GBP"


def test_readme_states_scenario_status_and_gap(book, demo_run):
    manifest = json.loads((demo_run.run_dir / "manifest.json").read_text())
    facts = {r[0]: r[1] for r in book["README"].iter_rows(values_only=True) if r[0]}
    assert facts["scenario"] == "demo"
    assert facts["solver status"] == manifest["status"]
    assert facts["proven gap (GBP)"] == pytest.approx(manifest["gap_abs_gbp"])
    assert facts["run id"] == manifest["run_id"]
    text = [r for r in book["README"].iter_rows(values_only=True)]
    # every sheet listed with its row count, every column of a sheet with its unit
    listed = {r[0]: r[1] for r in text if r[0] in book.sheetnames and isinstance(r[1], int)}
    assert listed["allocation"] == book["allocation"].max_row - 1
    assert ("kpis", "cost_gbp", "GBP") in {r[:3] for r in text}


def test_nan_is_an_empty_cell_and_no_sheet_is_text_numbers(tmp_path):
    frame = pd.DataFrame({"site": ["A", "B"], "beds": [1.5, float("nan")], "cost_gbp": [10, 20]})
    path = write_workbook(tmp_path / "t.xlsx", "t", [("scenario", "x")], [("t", frame, "test")])
    ws = openpyxl.load_workbook(path)["t"]
    assert ws["B2"].value == 1.5 and ws["B3"].value is None
    assert ws["C3"].value == 20 and ws["C3"].data_type == "n"
