"""Scenario changes: what a child scenario changes in the tables it inherits, applied to the
validated tables in memory (no copied table, no text edit).

The vocabulary is the sweep parameters' (``set`` / ``scale`` / ``add`` / ``growth`` on a
column of the rows that ``where`` and ``hub`` select), plus ``add_row``, ``replace_row`` and
``remove_row`` by key. Each change is checked against the data dictionary where it was written;
a filter that selects no row is an error, not a silent no-op. Every changed cell is checked
against its column's type and range, as a value read from a file would be.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.config import CELL_OPS, Change, PlacedChange
from model.dictionary import TABLES, Column, Table
from model.errors import Problem

#: tables whose rows belong to a hub: directly, through their footprint, or through their site
HUB_OF = {"hubs": "hub", "footprints": "hub", "demand": "footprint", "sites": "footprint",
          "site_services": "site", "fixed_decisions": "site"}


@dataclass
class Applied:
    """What one change did (recorded in the run's manifest)."""

    file: str
    position: int
    table: str
    op: str
    rows: int
    note: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def apply_changes(tables: dict[str, pd.DataFrame], placed: Iterable[PlacedChange],
                  base_year: int) -> tuple[dict[str, pd.DataFrame], list[Problem], list[Applied]]:
    """The tables with every change applied in order, the problems found, and what each did."""
    tables = dict(tables)
    problems: list[Problem] = []
    applied: list[Applied] = []
    for item in placed:
        where = f"changes[{item.position}]"
        found = _check_target(item.change, item.file, where)
        if found:
            problems += found
            continue
        frame = tables[item.change.table].copy()
        frame.attrs = dict(tables[item.change.table].attrs)
        if item.change.op in CELL_OPS:
            frame, rows, found = _change_cells(frame, item.change, tables, base_year, item.file, where)
        else:
            frame, rows, found = _change_row(frame, item.change, item.file, where)
        problems += found
        if not found:
            tables[item.change.table] = frame
            applied.append(Applied(item.file, item.position, item.change.table, item.change.op, rows,
                                   item.change.note))
    return tables, problems, applied


def _check_target(change: Change, file: str, where: str) -> list[Problem]:
    table = TABLES.get(change.table)
    if table is None:
        return [Problem(file, None, f"{where}.table", change.table,
                        f"unknown table (known: {', '.join(TABLES)})")]
    problems = []
    names = set(table.column_names)
    for column in [change.column or table.key[0], *change.where, *(change.row or {})]:
        if column not in names:
            problems.append(Problem(file, None, where, column,
                                    f"{change.table} has no column '{column}' "
                                    f"(columns: {', '.join(table.column_names)})"))
    if problems:
        return problems
    if change.op in CELL_OPS and change.column in table.key:
        problems.append(Problem(file, None, f"{where}.column", change.column,
                                f"{change.column} is part of the key of {change.table}: "
                                "use replace_row or remove_row and add_row"))
    if change.op in ("scale", "add", "growth") and table.column(change.column).dtype not in ("int", "float"):
        problems.append(Problem(file, None, f"{where}.column", change.column,
                                f"op {change.op} needs a number column"))
    if change.op == "growth" and "year" not in names:
        problems.append(Problem(file, None, f"{where}.op", "growth", f"{change.table} has no year column"))
    if change.hub is not None and change.table not in HUB_OF:
        problems.append(Problem(file, None, f"{where}.hub", change.hub,
                                f"a hub filter applies to {', '.join(HUB_OF)} only"))
    for column, wanted in change.where.items():
        if isinstance(wanted, dict) and table.column(column).dtype not in ("int", "float"):
            problems.append(Problem(file, None, f"{where}.where.{column}", wanted,
                                    "a {min, max} range needs a number column"))
    return problems


def _change_cells(frame: pd.DataFrame, change: Change, tables: dict[str, pd.DataFrame], base_year: int,
                  file: str, where: str) -> tuple[pd.DataFrame, int, list[Problem]]:
    table = TABLES[change.table]
    col = table.column(change.column)
    mask = row_mask(frame, table, change, tables)
    if not mask.any():
        return frame, 0, [Problem(file, None, where, _filters(change), "selects no row of "
                                  f"{table.file}: check the filter values")]
    rows = frame.index[mask]
    if change.op == "set":
        value, problem = coerce(change.value, col)
        if problem:
            return frame, 0, [Problem(file, None, f"{where}.value", change.value, problem)]
        new = pd.Series([value] * len(rows), index=rows, dtype=object)
    else:
        current = pd.to_numeric(frame.loc[rows, col.name], errors="coerce").astype(float)
        if col.default is not None:
            current = current.fillna(float(col.default))
        factor = float(change.value)
        if change.op == "scale":
            numbers = current * factor
        elif change.op == "add":
            numbers = current + factor
        else:
            years = frame.loc[rows, "year"].astype(float)
            numbers = current * (1.0 + factor) ** (years - base_year)
        new = numbers.map(lambda x: _number(x, col))
    problems = []
    for value in new:
        problem = _out_of_range(value, col)
        if problem:
            problems.append(Problem(file, None, where, value,
                                    f"makes {col.name} of a {change.table} row {problem}"))
            break  # one message per change: the others are of the same kind
    if problems:
        return frame, 0, problems
    frame[col.name] = frame[col.name].astype(object)
    frame.loc[rows, col.name] = new
    frame[col.name] = _typed(frame[col.name], col)
    return frame, int(mask.sum()), []


def _change_row(frame: pd.DataFrame, change: Change, file: str,
                where: str) -> tuple[pd.DataFrame, int, list[Problem]]:
    table = TABLES[change.table]
    row = dict(change.row or {})
    missing = [k for k in table.key if k not in row]
    if missing:
        return frame, 0, [Problem(file, None, f"{where}.row", row, f"needs its key: {', '.join(missing)}")]
    key_cols = list(table.key)
    match = pd.Series(True, index=frame.index)
    for k in key_cols:
        match &= frame[k].map(lambda cell, w=row[k]: _equals(cell, w))
    if change.op == "remove_row":
        if not match.any():
            return frame, 0, [Problem(file, None, where, row, f"no row of {table.file} has this key")]
        return _renumber(frame[~match]), int(match.sum()), []
    if change.op == "add_row" and match.any():
        return frame, 0, [Problem(file, None, where, row,
                                  f"{table.file} already has a row with this key (use replace_row)")]
    if change.op == "replace_row" and not match.any():
        return frame, 0, [Problem(file, None, where, row, f"no row of {table.file} has this key "
                                  "(use add_row)")]
    values, problems = {}, []
    for col in table.columns:
        if col.name not in row or row[col.name] is None:
            if col.required:
                problems.append(Problem(file, None, f"{where}.row.{col.name}", None, "value is required"))
            values[col.name] = col.default if col.default is not None else ("" if col.dtype == "str"
                                                                            else np.nan)
            continue
        value, problem = coerce(row[col.name], col)
        if problem:
            problems.append(Problem(file, None, f"{where}.row.{col.name}", row[col.name], problem))
        values[col.name] = value
    if problems:
        return frame, 0, problems
    kept = frame[~match] if change.op == "replace_row" else frame
    added = pd.DataFrame([values], columns=table.column_names,
                         index=[int(frame.index.max()) + 1 if len(frame) else 0])
    out = pd.concat([kept, added], ignore_index=False) if len(kept) else added
    for col in table.columns:
        out[col.name] = _typed(out[col.name], col)
    out.attrs = dict(frame.attrs)
    return _renumber(out), 1, []


def row_mask(frame: pd.DataFrame, table: Table, change: Change,
             tables: dict[str, pd.DataFrame]) -> pd.Series:
    """The rows of `frame` that the change's `where` and `hub` filters select."""
    mask = pd.Series(True, index=frame.index)
    for column, wanted in change.where.items():
        if isinstance(wanted, dict):
            numbers = pd.to_numeric(frame[column], errors="coerce").astype(float)
            low, high = wanted.get("min", -math.inf), wanted.get("max", math.inf)
            mask &= (numbers >= float(low)) & (numbers <= float(high))
        else:
            choices = wanted if isinstance(wanted, list) else [wanted]
            mask &= frame[column].map(lambda cell, c=choices: any(_equals(cell, w) for w in c))
    if change.hub is not None:
        hubs = {str(h) for h in (change.hub if isinstance(change.hub, list) else [change.hub])}
        mask &= hub_of_rows(frame, table.name, tables).isin(hubs)
    return mask


def hub_of_rows(frame: pd.DataFrame, table: str, tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Each row's hub, through its footprint or site."""
    link = HUB_OF[table]
    if link == "hub":
        return frame["hub"]
    hub_of_fp = dict(zip(tables["footprints"]["footprint"], tables["footprints"]["hub"], strict=True))
    if link == "footprint":
        return frame["footprint"].map(hub_of_fp)
    fp_of_site = dict(zip(tables["sites"]["site"], tables["sites"]["footprint"], strict=True))
    return frame["site"].map(fp_of_site).map(hub_of_fp)


def coerce(value: Any, col: Column) -> tuple[Any, str | None]:
    """`value` as the column's type, or why it cannot be (type, range, allowed values)."""
    if col.dtype == "str":
        if isinstance(value, bool | dict | list):
            return None, "must be text"
        text = str(value).strip()
        if col.choices and text not in col.choices:
            return None, f"must be one of {', '.join(col.choices)}"
        return text, None
    if col.dtype == "bool":
        if isinstance(value, bool):
            return value, None
        return None, "must be true or false"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, f"not a valid {col.dtype}"
    if col.dtype == "int" and float(value) != int(value):
        return None, "not a valid int"
    number = int(value) if col.dtype == "int" else float(value)
    return number, _out_of_range(number, col)


def _out_of_range(value: Any, col: Column) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if not math.isfinite(value):
        return "not a finite number"
    if col.minimum is not None and value < col.minimum:
        return f"must be >= {col.minimum:g}"
    if col.maximum is not None and value > col.maximum:
        return f"must be <= {col.maximum:g}"
    return None


def _number(x: float, col: Column) -> float | int:
    # an int column (wards) scaled by a factor is rounded to the nearest whole number
    return int(round(x)) if col.dtype == "int" and math.isfinite(x) else float(x)


def _typed(series: pd.Series, col: Column) -> pd.Series:
    if col.dtype == "int":
        return pd.to_numeric(series, errors="coerce").round().astype("Int64")
    if col.dtype == "float":
        return pd.to_numeric(series, errors="coerce").astype(float)
    if col.dtype == "bool":
        return series.astype(bool)
    return series.astype(object)


def _equals(cell: Any, wanted: Any) -> bool:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or cell is pd.NA:
        return False
    if isinstance(wanted, bool) or isinstance(cell, bool | np.bool_):
        return bool(cell) == wanted if isinstance(wanted, bool) else False
    if isinstance(wanted, int | float):
        try:
            return math.isclose(float(cell), float(wanted), rel_tol=0, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return str(cell) == str(wanted)


def _filters(change: Change) -> dict[str, Any]:
    shown: dict[str, Any] = dict(change.where)
    if change.hub is not None:
        shown["hub"] = change.hub
    return shown


def _renumber(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows 0..n-1 again (as the rest of the code expects), each keeping its file line."""
    lines = frame.attrs.get("rows", {})
    out = frame.reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    out.attrs["rows"] = {i: lines[old] for i, old in enumerate(frame.index) if old in lines}
    return out
