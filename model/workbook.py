"""``plan.xlsx``: a run's (or a sweep's) tables as one Excel workbook for analysts.

A README sheet first (what each sheet holds, the scenario, the solver's status and proven gap,
every column's unit and meaning), then one sheet per table with a bold header naming the unit,
frozen header row, an autofilter, and numbers stored as numbers (never as text) with a display
format by unit. The workbook is built from the CSVs the run has just written, as the GIS files
are, so it holds exactly what the CSVs hold.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from model.gis.fields import describe_field

log = logging.getLogger(__name__)

WORKBOOK_FILE = "plan.xlsx"
# (sheet, CSV) in the order analysts read them; a CSV a run did not write is left out.
RUN_SHEETS = (("decisions", "decisions.csv"), ("wards", "wards.csv"),
              ("allocation", "allocation.csv"), ("kpis", "kpis.csv"),
              ("objective_by_year", "objective_by_year.csv"), ("saving", "saving.csv"))
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_BOLD = Font(bold=True)
_MAX_WIDTH = 40


@dataclass(frozen=True)
class Unit:
    label: str  # shown in the header, e.g. "GBP"
    number_format: str


GBP = Unit("GBP", "#,##0")
TONNES = Unit("tCO2e", "#,##0.0")
KM = Unit("km", "#,##0.0")
SHARE = Unit("share 0-1", "0.0%")
COUNT = Unit("", "#,##0.##")

# Suffix and name rules, the first match wins; the names follow the run files' conventions.
_UNIT_RULES: tuple[tuple[str, Unit], ...] = (
    (r"carbon_price", Unit("GBP/tCO2e", "#,##0.00")),
    (r".*_gbp", GBP),
    (r"(carbon_t|.*_t)", TONNES),
    (r"patient_km", Unit("patient-km", "#,##0")),
    (r"(km|.*_km)", KM),
    (r"(in_hub_share.*|utilisation|.*_share)", SHARE),
    (r"discount_factor", Unit("factor", "0.0000")),
    (r"(.*beds.*|occupied.*)", Unit("beds", "#,##0.00")),
    (r"(wards.*|built|converted_in|converted_out|removed|standing_at_end)", Unit("wards", "#,##0")),
    (r".*places", Unit("places", "#,##0.00")),
    (r"(delayed.*|stepdown.*)", Unit("patients", "#,##0.00")),
    (r"(objective|bound|gap_abs|baseline_objective)", GBP),
    (r"(gap_rel.*)", Unit("share 0-1", "0.000%")),
    (r".*_seconds", Unit("s", "#,##0.0")),
)


def unit_of(column: str) -> Unit | None:
    """The unit of a run-file column from its name, or None for ids, names and years."""
    for pattern, unit in _UNIT_RULES:
        if re.fullmatch(pattern, column):
            return unit
    return None


def header_text(column: str) -> str:
    unit = unit_of(column)
    return f"{column} ({unit.label})" if unit and unit.label and unit.label != column else column


def column_name(header: str) -> str:
    """The CSV column a header names (the header without its unit)."""
    return re.sub(r" \([^)]*\)$", "", header)


def write_run_workbook(run_dir: Path, manifest: dict | None = None,
                       what: dict[str, str] | None = None) -> Path:
    """Write ``plan.xlsx`` into `run_dir` from its CSVs and `manifest` (read from the folder
    when not given). `what` maps each CSV to its description (the run-file registry's)."""
    run_dir = Path(run_dir)
    if manifest is None:
        manifest = _manifest(run_dir / "manifest.json")
    sheets = [(sheet, _read_csv(run_dir / csv), csv)
              for sheet, csv in RUN_SHEETS if (run_dir / csv).exists()]
    facts = run_facts(manifest)
    descriptions = {sheet: (what or {}).get(csv, csv) for sheet, _frame, csv in sheets}
    title = f"bedplan plan: scenario {manifest.get('scenario', run_dir.parent.name)}"
    return write_workbook(run_dir / WORKBOOK_FILE, title, facts,
                          [(s, f, descriptions[s]) for s, f, _csv in sheets])


def write_sweep_workbook(folder: Path, facts: list[tuple[str, object]], results: pd.DataFrame,
                         robust: pd.DataFrame | None) -> Path:
    """``plan.xlsx`` of a sweep: one row per variant (parameters, status, gap, objective terms,
    KPIs), then the robustness of each site across the solved variants."""
    sheets = [("variants", results.reset_index(drop=True),
               "one row per variant: parameter values, status and reason, objective, bound and "
               "proven gap, seconds, objective terms (term_*), England KPIs of the plan and "
               "(baseline_*) of doing nothing")]
    if robust is not None and len(robust):
        sheets.append(("robustness", robust.reset_index(drop=True),
                       "per site: the share of solved variants keeping, reducing, "
                       "decommissioning, commissioning, reconfiguring or expanding it, and its "
                       "verdict"))
    facts = [*facts, ("caveat", "Results differing by less than the variants' proven gaps are "
                      "indistinguishable.")]
    return write_workbook(Path(folder) / WORKBOOK_FILE, "bedplan sweep", facts, sheets)


def run_facts(manifest: dict) -> list[tuple[str, object]]:
    """The README's facts about a run: scenario, when, solver status and proven gap."""
    baseline = manifest.get("baseline") or {}
    terms = manifest.get("objective_terms") or {}
    facts: list[tuple[str, object]] = [
        ("scenario", manifest.get("scenario")),
        ("description", (manifest.get("config") or {}).get("description")),
        ("run id", manifest.get("run_id")), ("created (UTC)", manifest.get("created_utc")),
        ("years", ", ".join(str(y) for y in manifest.get("years", []))),
        ("solver", manifest.get("solver")), ("solver status", manifest.get("status")),
        ("termination", manifest.get("termination")),
        ("objective (GBP, discounted)", manifest.get("objective")),
        ("best bound (GBP)", manifest.get("bound")),
        ("proven gap (GBP)", manifest.get("gap_abs_gbp")),
        ("proven gap (relative)", manifest.get("gap_rel")),
        ("proven gap (relative to the part decisions can change)",
         manifest.get("gap_rel_controllable")),
        ("do-nothing baseline status", baseline.get("status")),
        ("do-nothing baseline gap (GBP)", baseline.get("gap_abs_gbp")),
    ]
    facts += [(f"objective term {k} (GBP)", v) for k, v in terms.items()]
    facts.append(("caveat", "Figures differing by less than the proven gaps are "
                  "indistinguishable. Illustrative inputs are listed in the scenario's "
                  "ASSUMPTIONS.md."))
    return [(k, v) for k, v in facts if v is not None and v != ""]


def write_workbook(path: Path, title: str, facts: list[tuple[str, object]],
                   sheets: list[tuple[str, pd.DataFrame, str]]) -> Path:
    """A README sheet (`facts`, the sheets, every column's unit and meaning), then each
    (name, table, description) as a formatted sheet."""
    book = Workbook()
    readme = book.active
    readme.title = "README"
    _readme(readme, title, facts, sheets)
    for name, frame, _what in sheets:
        _table_sheet(book.create_sheet(name), frame)
    path = Path(path)
    book.save(path)
    log.info("wrote %s (%d sheets)", path, len(sheets) + 1)
    return path


def _readme(ws: Worksheet, title: str, facts: list[tuple[str, object]],
            sheets: list[tuple[str, pd.DataFrame, str]]) -> None:
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for key, value in facts:
        ws.append([key, _cell(value)])
        ws.cell(ws.max_row, 1).font = _BOLD
        if isinstance(value, float):
            ws.cell(ws.max_row, 2).number_format = ("0.0000%" if "relative" in key
                                                    else "#,##0.00")
    ws.append([])
    _bold_row(ws, ["sheet", "rows", "what"])
    for name, frame, what in sheets:
        ws.append([name, len(frame), what])
    ws.append([])
    _bold_row(ws, ["sheet", "column", "unit", "meaning"])
    for name, frame, _what in sheets:
        for col in frame.columns:
            unit = unit_of(col)
            ws.append([name, col, unit.label if unit else "", describe_field(col)])
    for letter, width in (("A", 34), ("B", 28), ("C", 14), ("D", 90)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=cell.column_letter == "D", vertical="top")


def _bold_row(ws: Worksheet, values: list[str]) -> None:
    ws.append(values)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL


def _table_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    ws.append([header_text(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for i, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        unit = unit_of(col)
        if unit is not None and pd.api.types.is_numeric_dtype(frame[col]):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = unit.number_format
        longest = max([len(header_text(col)) // 2 + 2]
                      + [len(str(v)) for v in frame[col].head(200)])
        ws.column_dimensions[letter].width = min(max(longest + 2, 8), _MAX_WIDTH)
    ws.freeze_panes = "B2" if len(frame.columns) > 1 else "A2"
    if len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"


def _cell(value: object) -> object:
    """A value as Excel stores it: numbers as numbers, NaN as an empty cell."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _read_csv(path: Path) -> pd.DataFrame:
    """A run CSV with ids as text and years as numbers where they are years (kpis.csv mixes
    years with "all")."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""],
                        dtype={"site": str, "footprint": str, "id": str, "hub": str})
    if "year" in frame.columns and not pd.api.types.is_numeric_dtype(frame["year"]):
        frame["year"] = [int(v) if str(v).isdigit() else v for v in frame["year"]]
    return frame


def _manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
