"""How a variant changes the base: overrides of scenario.yaml keys and edits of table cells.

Tables are edited as text, so every cell a parameter does not touch keeps its bytes and a
variant's key changes only with what it changes.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd
from pydantic import ValidationError

from model.config import ScenarioConfig, deep_merge
from model.data import FALSE_WORDS, TRUE_WORDS
from model.dictionary import TABLES
from model.sweep.bundle import content_digest, sha_hex
from model.sweep.spec import Parameter
from model.sweep.store import Sweep, Variant

#: tables whose rows belong to a hub, directly or through their footprint or site
HUB_TABLES = ("demand", "sites", "site_services", "footprints")


def read_text_table(data: bytes) -> pd.DataFrame:
    """A table as text cells, not parsed: an edit rewrites only the cells it changes."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def lookup(content: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted scenario key (None if absent); a part may be an integer key."""
    node: Any = content
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part, node.get(_maybe_int(part)))
    return node


def _maybe_int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def materialise(sweep: Sweep, values: dict[str, Any], label: str = "", index: int = 0) -> Variant:
    """Apply a design point to the base: config overrides, changed tables, and the content key."""
    spec = sweep.spec
    bundle = sweep.bundle
    base_config = sweep.scenario.config.model_dump(mode="json")
    overrides: dict[str, Any] = {"solver": spec.solver.model_dump()}
    frames: dict[str, pd.DataFrame] = {}
    for p in spec.parameters:
        value = values.get(p.name)
        # None leaves the base as it is, except that a scenario key can be set to null
        if value is None and not (p.key is not None and p.op == "set" and p.name in values):
            continue
        if p.key is not None:
            new = value if p.op == "set" else _apply_number(lookup(base_config, p.key), p.op, value)
            overrides = deep_merge(overrides, _nested(p.key, new))
            continue
        if _is_identity(p.op, value):
            continue
        frame = frames.get(p.table) if p.table in frames else sweep.frames[p.table].copy()
        frames[p.table] = _apply_column(sweep, frame, p, value, base_config["base_year"])
    tables = {bundle.table_files[name]: frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
              for name, frame in frames.items()}
    merged = deep_merge(bundle.config, overrides)
    try:
        resolved = ScenarioConfig.model_validate(merged).model_dump(mode="json")
        resolved.pop("extends", None)
    except ValidationError:
        resolved = json.loads(json.dumps(merged, default=str))
    files = {name: sha_hex(tables.get(name, data)) for name, data in bundle.files.items()}
    digest = content_digest({"config": resolved, "files": files})
    return Variant(index=index, label=label, values=dict(values), overrides=overrides, tables=tables,
                   digest=digest)


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(dotted.split(".")):
        out = {part: out}
    return out


def _is_identity(op: str, value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return (op == "scale" and value == 1) or (op in ("add", "growth") and value == 0)


def _apply_number(base: Any, op: str, value: Any) -> Any:
    if isinstance(base, dict):
        return {k: _apply_number(v, op, value) for k, v in base.items()}
    if op == "scale":
        return base * value
    return base + value


def row_mask(frames: dict[str, pd.DataFrame], p: Parameter) -> pd.Series:
    """The rows of `p.table` that its `where` and `hub` filters select."""
    frame = frames[p.table]
    mask = pd.Series(True, index=frame.index)
    table = TABLES[p.table]
    for col, wanted in p.where.items():
        if col in frame.columns:
            cells = frame[col]
        else:  # an optional column left out of the file: every row has its default
            default = table.column(col).default
            cells = pd.Series("" if default is None else str(default), index=frame.index)
        if isinstance(wanted, dict):  # a range {min, max}, as in a scenario's changes
            numbers = pd.to_numeric(cells.astype(str).str.strip(), errors="coerce")
            mask &= (numbers >= float(wanted.get("min", -math.inf))) & (
                numbers <= float(wanted.get("max", math.inf)))
            continue
        mask &= cells.map(lambda cell, w=wanted: any(_cell_equals(cell, x) for x in as_list(w)))
    if p.hub is not None:
        hubs = {str(h) for h in as_list(p.hub)}
        mask &= _hub_of_rows(frames, p.table).isin(hubs)
    return mask


def _hub_of_rows(frames: dict[str, pd.DataFrame], table: str) -> pd.Series:
    hub_of_fp = dict(zip(frames["footprints"]["footprint"], frames["footprints"]["hub"], strict=True))
    frame = frames[table]
    if table == "footprints":
        return frame["hub"]
    if table in ("demand", "sites"):
        return frame["footprint"].map(hub_of_fp)
    fp_of_site = dict(zip(frames["sites"]["site"], frames["sites"]["footprint"], strict=True))
    return frame["site"].map(fp_of_site).map(hub_of_fp)


def _cell_equals(cell: str, wanted: Any) -> bool:
    text = str(cell).strip()
    if isinstance(wanted, bool):
        # the loader's words for true and false, but an empty cell matches neither: to the
        # loader it is the column's default, not false
        return text != "" and text.lower() in (TRUE_WORDS if wanted else FALSE_WORDS)
    if isinstance(wanted, int | float):
        try:
            return math.isclose(float(text), float(wanted), rel_tol=0, abs_tol=1e-9)
        except ValueError:
            return False
    return text == str(wanted)


def _apply_column(sweep: Sweep, frame: pd.DataFrame, p: Parameter, value: Any,
                  base_year: int) -> pd.DataFrame:
    table = TABLES[p.table]
    col = table.column(p.column)
    frames = {**sweep.frames, p.table: frame}
    mask = row_mask(frames, p)
    if p.column not in frame.columns:  # an optional column left out of the file
        frame[p.column] = "" if col.default is None else _format(col.default, col.dtype)
    out = frame[p.column].copy()
    rows = frame.index[mask]
    if p.op == "set":
        out[rows] = _format(value, col.dtype)
    else:
        cells = frame.loc[rows, p.column].astype(str).str.strip()
        current = pd.to_numeric(cells.where(cells != "", str(col.default or 0.0)), errors="coerce")
        if p.op == "scale":
            new = current * float(value)
        elif p.op == "add":
            new = current + float(value)
        else:
            years = pd.to_numeric(frame.loc[rows, "year"], errors="coerce")
            new = current * (1.0 + float(value)) ** (years - base_year)
        ok = new.notna()  # a cell that is not a number is left for the loader to report
        out[new.index[ok]] = [_format(float(x), col.dtype) for x in new[ok]]
    frame[p.column] = out
    return frame


def _format(value: Any, dtype: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if dtype == "int" and isinstance(value, int | float):
        return str(int(round(value)))
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)
