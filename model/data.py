"""Loading a scenario folder into validated tables (driven by the data dictionary).

Every problem found is collected, then reported at once as a :class:`ScenarioError`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.changes import Applied, apply_changes
from model.config import SCENARIO_FILE, ScenarioConfig, load_config
from model.dictionary import TABLES, Column, Table
from model.errors import Problem, ScenarioError
from model.validation import (
    check_identifiers,
    check_pathway_cycle,
    check_references,
    check_rules,
    check_sites_in_footprints,
)

log = logging.getLogger(__name__)

INT_LIMIT = 2.0 ** 63  # an int column's values are 64-bit: a whole number from here on is invalid
PANDAS_DTYPES = {"str": object, "int": "Int64", "float": float, "bool": bool}  # a parsed column's type
TRUE_WORDS = {"true", "yes", "1", "y", "t"}
FALSE_WORDS = {"false", "no", "0", "n", "f", ""}


@dataclass
class ScenarioData:
    """A loaded, validated scenario: its configuration and its tables (one DataFrame each)."""

    config: ScenarioConfig
    folder: Path
    layers: list[Path]
    tables: dict[str, pd.DataFrame]
    input_files: dict[str, Path] = field(default_factory=dict)
    geometry: Any = None  # geopandas.GeoDataFrame indexed by footprint, or None
    changes: list[dict[str, Any]] = field(default_factory=list)  # what `changes:` did

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def file_hashes(self) -> dict[str, str]:
        return {name: sha256(path) for name, path in sorted(self.input_files.items())}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_file(layers: list[Path], name: str) -> Path | None:
    """The file `name` from the nearest layer that has it (the scenario's own folder first)."""
    for layer in reversed(layers):
        if (layer / name).exists():
            return layer / name
    return None


def load_scenario(folder: str | Path, overrides: dict[str, Any] | None = None) -> ScenarioData:
    """Load and validate a scenario folder. Raises ScenarioError listing every problem."""
    folder = Path(folder)
    if not (folder / SCENARIO_FILE).exists():
        raise ScenarioError([Problem(str(folder), None, None, None,
                                     f"not a scenario folder (no {SCENARIO_FILE})")])
    config, layers, placed = load_config(folder, overrides)
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    broken: set[str] = set()
    files: dict[str, Path] = {"scenario.yaml": folder / SCENARIO_FILE}
    for layer in layers[:-1]:
        files[f"{layer.name}/scenario.yaml"] = layer / SCENARIO_FILE
    for table in TABLES.values():
        path = find_file(layers, table.file)
        if path is None and table.optional:
            tables[table.name] = empty_table(table)
            continue
        if path is None:
            problems.append(Problem(str(folder / table.file), None, None, None,
                                    "required table is missing (here or in an extended scenario)"))
            continue
        files[table.file] = path
        unreadable = check_input_file(path, (".csv",))  # a directory, pipe or device would hang
        if unreadable:
            problems += unreadable
            continue
        frame, table_problems = read_table(path, table)
        problems += table_problems
        if table_problems:
            broken.add(table.name)
        tables[table.name] = frame
    if len(tables) < len(TABLES):
        raise ScenarioError(problems)
    applied: list[Applied] = []
    if placed and not problems:
        tables, change_problems, applied = apply_changes(tables, placed, config.base_year)
        if change_problems:
            raise ScenarioError(change_problems)
    # References are checked even when some values failed to parse (those are skipped), so one
    # run reports both kinds; the cross-table rules need clean values and wait for them.
    problems += check_references(tables, files, skip_targets=broken)
    problems += check_pathway_cycle(tables, files)
    if problems:
        raise ScenarioError(problems)
    tables = _apply_scope(config, tables)
    problems += check_rules(config, tables, files)
    geometry = None
    if config.geometry:
        path = find_file(layers, config.geometry)
        if path is None:
            problems.append(Problem(str(folder / SCENARIO_FILE), None, "geometry", config.geometry,
                                    "geometry file not found"))
        else:
            files[config.geometry] = path
            geometry, geo_problems = _read_geometry(path, tables)
            problems += geo_problems
            if geometry is not None and not geo_problems:
                problems += check_sites_in_footprints(tables, geometry, files)
    for key in ("graph_file", "matrix_file"):
        name = getattr(config.distance, key)
        if name:
            path = find_file(layers, name)
            if path is None:
                problems.append(Problem(str(folder / SCENARIO_FILE), None, f"distance.{key}", name,
                                        "file not found"))
            else:
                files[name] = path
                problems += check_input_file(path, (".graphml", ".xml") if key == "graph_file"
                                             else (".csv",))
    if problems:
        raise ScenarioError(problems)
    outside = _outside_tree(folder, files)
    if outside:  # allowed (a scenario may extend a shared one), but said
        log.warning("scenario %s reads files outside %s: %s", config.name,
                    Path(folder).resolve().parent, ", ".join(outside))
    log.info("loaded scenario %s from %s", config.name, folder)
    return ScenarioData(config=config, folder=folder, layers=layers, tables=tables,
                        input_files=files, geometry=geometry, changes=[a.as_dict() for a in applied])


def empty_table(table: Table) -> pd.DataFrame:
    """An optional table the scenario leaves out: its columns, no rows."""
    return pd.DataFrame({c.name: pd.Series(dtype=PANDAS_DTYPES[c.dtype]) for c in table.columns})


def read_table(path: Path, table: Table) -> tuple[pd.DataFrame, list[Problem]]:
    """Read one CSV as text and parse each column by the dictionary; collect all problems.

    Tolerated (harmless): a UTF-8 byte-order mark, Excel's `sep=,` first line, blank lines,
    spaces around values, Windows line ends. Rejected (ambiguous): other encodings, semicolon or
    tab separators, rows with more or fewer fields than the header.
    """
    empty = pd.DataFrame(columns=table.column_names)
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return empty, [Problem(where, None, None, None,
                               f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8")]
    except OSError as exc:  # unreadable (permissions), vanished, a directory...
        return empty, [Problem(where, None, None, None, f"cannot read: {exc.strerror or exc}")]
    lines = text.splitlines()
    first = 0
    if lines and lines[0].strip().lower().startswith("sep="):
        if lines[0].strip().lower() != "sep=,":
            return empty, [Problem(where, 1, None, lines[0], "separator must be a comma")]
        first = 1  # Excel's separator hint
    if not "".join(lines[first:]).strip():
        return empty, [Problem(where, None, None, None, "file is empty (a header row is required)")]
    header_line = lines[first]
    if "," not in header_line and (";" in header_line or "\t" in header_line):
        kind = "semicolons" if ";" in header_line else "tabs"
        return empty, [Problem(where, first + 1, None, header_line,
                               f"separated by {kind}; save as comma-separated CSV")]
    reader = csv.reader(io.StringIO("\n".join(lines[first:])), skipinitialspace=True)
    problems: list[Problem] = []
    header: list[str] | None = None
    records: dict[int, list[str]] = {}
    for fields in reader:
        line = reader.line_num + first
        if header is None:
            header = [h.strip() for h in fields]
            continue
        if not any(f.strip() for f in fields):
            continue  # blank line
        if len(fields) != len(header):
            problems.append(Problem(where, line, None, ",".join(fields),
                                    f"has {len(fields)} fields but the header has {len(header)} "
                                    "(a comma inside a value needs quotes)"))
            continue
        records[line] = [f.strip() for f in fields]
    assert header is not None
    for name in sorted({h for h in header if header.count(h) > 1}):
        problems.append(Problem(where, first + 1, name, None, "column appears more than once"))
    frame = pd.DataFrame.from_dict(records, orient="index", columns=header, dtype=object)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    known = set(table.column_names)
    for extra in [c for c in frame.columns if c not in known]:
        close = difflib.get_close_matches(extra, table.column_names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(table.column_names)})"
        problems.append(Problem(where, first + 1, extra, None, "unknown column" + hint))
    for col in table.columns:
        if col.name not in frame.columns:
            if col.required:
                problems.append(Problem(where, first + 1, col.name, None, "required column is missing"))
                frame[col.name] = ""
            else:
                frame[col.name] = "" if col.dtype == "str" or col.default is None else str(col.default)
    columns: dict[str, pd.Series] = {}
    for col in table.columns:
        columns[col.name], col_problems = _parse_column(frame[col.name], col, path)
        problems += col_problems
    # one frame from all columns: inserting them one at a time costs a block copy each
    parsed = pd.DataFrame(columns, index=frame.index)
    problems += check_identifiers(parsed, table, where)
    dupes = parsed.duplicated(subset=list(table.key), keep="first")
    for idx, *key in parsed.loc[dupes, list(table.key)].itertuples(name=None):
        problems.append(Problem(where, int(idx), ",".join(table.key), tuple(key), "duplicate key"))
    parsed.attrs["rows"] = RowLines({i: int(i) for i in parsed.index})
    return parsed.reset_index(drop=True).pipe(_keep_rows, parsed.attrs["rows"]), problems


class RowLines(dict):
    """Row -> line of the file, kept in a table's ``attrs``. Never copied: pandas deep-copies
    ``attrs`` into every frame and Series it derives (``.at``, a column, ``iterrows``), which
    made each lookup cost a copy of the whole map (loading and building quadratic in rows)."""

    def __deepcopy__(self, memo: dict) -> RowLines:
        return self


def _keep_rows(frame: pd.DataFrame, rows: dict[int, int]) -> pd.DataFrame:
    """Index rows 0..n-1 (as the rest of the code expects) and remember each row's line."""
    frame.attrs["rows"] = RowLines(enumerate(rows.values()))
    return frame


# a numeric column of at most this many rows is parsed value by value (`_parse_small_numbers`):
# pandas' column operations cost about a millisecond each whatever the length, and a scenario's
# small tables (services, hubs, an OR-Library instance's sites) are most of its columns
SMALL_COLUMN = 256


def _parse_numbers(values: pd.Series, col: Column, path: Path) -> tuple[pd.Series, list[Problem]]:
    """`_parse_column` for numbers, column at a time (a table of millions of rows parses in
    seconds); the same values and the same problems, in row order."""
    if len(values) <= SMALL_COLUMN:
        return _parse_small_numbers(values, col, path)
    return _parse_numbers_by_column(values, col, path)


def _parse_numbers_by_column(values: pd.Series, col: Column, path: Path) -> tuple[pd.Series, list[Problem]]:
    """`_parse_numbers` by pandas' column operations."""
    text = values.astype(str).str.strip()
    empty = text == ""
    number = pd.to_numeric(text.where(~empty & ~text.str.contains("_", regex=False)),
                           errors="coerce").astype(float)
    invalid = ~empty & ~np.isfinite(number.to_numpy())
    if col.dtype == "int":  # a whole number past a 64-bit integer is no valid int either
        invalid |= ~empty & np.isfinite(number.to_numpy()) & (
            (number % 1 != 0).to_numpy() | (np.abs(number.to_numpy()) >= INT_LIMIT))
    checks: list[tuple[pd.Series | np.ndarray, str]] = [(invalid, f"not a valid {col.dtype}")]
    if col.required:
        checks.insert(0, (empty.to_numpy(), "value is required"))
    valid = ~empty.to_numpy() & ~invalid
    if col.minimum is not None:
        checks.append((valid & (number < col.minimum).to_numpy(), f"must be >= {col.minimum:g}"))
    if col.maximum is not None:
        checks.append((valid & (number > col.maximum).to_numpy(), f"must be <= {col.maximum:g}"))
    found: list[tuple[int, int, Problem]] = []
    for order, (mask, rule) in enumerate(checks):
        for idx in values.index[np.asarray(mask, dtype=bool)]:
            found.append((int(idx), order, Problem(str(path), int(idx), col.name, values[idx], rule)))
    problems = [p for _row, _order, p in sorted(found, key=lambda item: (item[0], item[1]))]
    default = col.default if col.default is not None else None
    out = number.where(~empty.to_numpy(), np.nan if default is None else float(default))
    if invalid.any() or (col.required and empty.any()):
        series = pd.Series([None if (bad or (e and col.required)) else v for v, bad, e in
                            zip(out, invalid, empty, strict=True)], index=values.index, dtype=object)
        return series, problems
    if problems:  # kept as they were read, for the messages; nothing downstream uses them
        return out.astype(object).where(out.notna(), None), problems
    if col.dtype == "int":
        out = out.round().astype("Int64")
    return out, problems


def _parse_small_numbers(values: pd.Series, col: Column, path: Path) -> tuple[pd.Series, list[Problem]]:
    """`_parse_numbers` value by value: the same values, types and problems (a test compares the
    two on random columns). As pandas does, a number is ASCII text `float` reads, without `_`;
    a non-finite one is invalid."""
    numbers: list[float] = []
    bad: list[bool] = []
    blank: list[bool] = []
    problems: list[Problem] = []
    for idx, raw in values.items():
        text = str(raw).strip()
        empty = text == ""
        number = math.nan if empty or "_" in text or not text.isascii() else _float_or_nan(text)
        invalid = not empty and (not math.isfinite(number) or (
            col.dtype == "int" and (number % 1 != 0 or abs(number) >= INT_LIMIT)))
        rules = []
        if col.required and empty:
            rules.append("value is required")
        if invalid:
            rules.append(f"not a valid {col.dtype}")
        elif not empty and col.minimum is not None and number < col.minimum:
            rules.append(f"must be >= {col.minimum:g}")
        if not empty and not invalid and col.maximum is not None and number > col.maximum:
            rules.append(f"must be <= {col.maximum:g}")
        problems += [Problem(str(path), int(idx), col.name, raw, rule) for rule in rules]
        default = math.nan if col.default is None else float(col.default)
        numbers.append(default if empty else number)
        bad.append(invalid)
        blank.append(empty)
    out = pd.Series(numbers, index=values.index, dtype=float)
    if any(bad) or (col.required and any(blank)):
        series = pd.Series([None if (b or (e and col.required)) else v for v, b, e in
                            zip(numbers, bad, blank, strict=True)], index=values.index, dtype=object)
        return series, problems
    if problems:  # kept as they were read, for the messages; nothing downstream uses them
        return out.astype(object).where(out.notna(), None), problems
    if col.dtype == "int":
        out = out.round().astype("Int64")
    return out, problems


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _parse_column(values: pd.Series, col: Column, path: Path) -> tuple[pd.Series, list[Problem]]:
    if col.dtype in ("float", "int") and not col.choices:
        return _parse_numbers(values, col, path)
    problems: list[Problem] = []
    out: list[object] = []
    for idx, raw in values.items():
        text = str(raw).strip()
        row = int(idx)
        if text == "":
            if col.required and col.dtype != "str":
                problems.append(Problem(str(path), row, col.name, raw, "value is required"))
                out.append(None)
                continue
            if col.required and col.dtype == "str":
                problems.append(Problem(str(path), row, col.name, raw, "value is required"))
            out.append(col.default if col.default is not None else ("" if col.dtype == "str" else None))
            continue
        try:
            value = _convert(text, col.dtype)
        except ValueError:
            problems.append(Problem(str(path), row, col.name, raw, f"not a valid {col.dtype}"))
            out.append(None)
            continue
        if col.minimum is not None and value < col.minimum:
            problems.append(Problem(str(path), row, col.name, raw, f"must be >= {col.minimum:g}"))
        if col.maximum is not None and value > col.maximum:
            problems.append(Problem(str(path), row, col.name, raw, f"must be <= {col.maximum:g}"))
        if col.choices and value not in col.choices:
            problems.append(Problem(str(path), row, col.name, raw,
                                    f"must be one of {', '.join(col.choices)}"))
        out.append(value)
    dtype = PANDAS_DTYPES[col.dtype]
    series = pd.Series(out, index=values.index, dtype=object)
    if not problems:
        series = series.astype(dtype)
    return series, problems


def _convert(text: str, dtype: str) -> object:
    if dtype == "str":
        return text
    if "_" in text:  # Python reads 1_000 as 1000; a table cell with it is more likely a typo
        raise ValueError(text)
    if dtype == "int":
        number = float(text)
        if not number.is_integer():
            raise ValueError(text)
        return int(number)
    if dtype == "float":
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(text)
        return number
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(text)


def _apply_scope(config: ScenarioConfig, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Keep only the hubs in `scope.hubs` (and their footprints, sites and demand)."""
    if not config.scope.hubs:
        return tables
    hubs = set(config.scope.hubs)
    out = dict(tables)

    def keep(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
        kept = frame[mask].copy()
        kept.attrs = dict(frame.attrs)
        return kept

    out["hubs"] = keep(tables["hubs"], tables["hubs"]["hub"].isin(hubs))
    out["footprints"] = keep(tables["footprints"], tables["footprints"]["hub"].isin(hubs))
    fps = set(out["footprints"]["footprint"])
    out["sites"] = keep(tables["sites"], tables["sites"]["footprint"].isin(fps))
    site_ids = set(out["sites"]["site"])
    out["site_services"] = keep(tables["site_services"], tables["site_services"]["site"].isin(site_ids))
    out["demand"] = keep(tables["demand"], tables["demand"]["footprint"].isin(fps))
    out["fixed_decisions"] = keep(tables["fixed_decisions"],
                                  tables["fixed_decisions"]["site"].isin(site_ids))
    return out


def _outside_tree(folder: str | Path, files: dict[str, Path]) -> list[str]:
    """Input files (extended scenarios included) that lie outside the folder holding this
    scenario's folder (e.g. data/scenarios/)."""
    root = Path(folder).resolve().parent
    return sorted({str(p.resolve()) for p in files.values() if not p.resolve().is_relative_to(root)})


GEOMETRY_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
MAX_INPUT_BYTES = 200_000_000


def check_input_file(path: Path, suffixes: dict[str, str] | tuple[str, ...]) -> list[Problem]:
    """A data file named by scenario.yaml: a regular local file of a format we read, of a
    sane size (not a directory, pipe, device, GDAL virtual file system or archive)."""
    text = str(path)
    if text.startswith("/vsi") or "/vsi" in text:
        return [Problem(text, None, None, None, "GDAL virtual file systems are not read")]
    if path.suffix.lower() not in suffixes:
        return [Problem(text, None, None, None,
                        f"not a supported format (expected {', '.join(suffixes)})")]
    if not path.is_file():
        return [Problem(text, None, None, None, "not a regular file")]
    if path.stat().st_size > MAX_INPUT_BYTES:
        return [Problem(text, None, None, None, f"larger than {MAX_INPUT_BYTES:,} bytes")]
    return []


def _read_geometry(path: Path, tables: dict[str, pd.DataFrame]) -> tuple[Any, list[Problem]]:
    import geopandas as gpd

    problems = check_input_file(path, GEOMETRY_DRIVERS)
    if problems:
        return None, problems
    # GDAL opens by content, not by name: a ".geojson" that is really a VRT (XML that can open
    # other files or network addresses) must be refused before GDAL sees it
    with path.open("rb") as stream:
        head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    wanted = GEOMETRY_DRIVERS[path.suffix.lower()]
    if (wanted == "GeoJSON" and not head.startswith(b"{")) or (
            wanted == "GPKG" and not head.startswith(b"SQLite format 3\x00")):
        return None, [Problem(str(path), None, None, None, f"not a {wanted} file")]
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # GDAL raises several types for unreadable files
        return None, [Problem(str(path), None, None, None, f"cannot read geometry: {exc}")]
    if "footprint" not in gdf.columns:
        return None, [Problem(str(path), None, "footprint", None,
                              "geometry file needs a 'footprint' attribute")]
    duplicated = sorted(set(gdf.loc[gdf["footprint"].duplicated(), "footprint"]))
    if duplicated:
        return None, [Problem(str(path), None, "footprint", fp, "more than one feature for this footprint")
                      for fp in duplicated]
    gdf = gdf[["footprint", "geometry"]].set_index("footprint")
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = gdf.to_crs("EPSG:4326")
    for fp in tables["footprints"]["footprint"]:
        if fp not in gdf.index:
            problems.append(Problem(str(path), None, "footprint", fp, "no geometry for footprint"))
        elif gdf.loc[fp, "geometry"] is None or not gdf.loc[fp, "geometry"].is_valid:
            problems.append(Problem(str(path), None, "geometry", fp, "missing or invalid geometry"))
    return gdf, problems


def revalidate(scenario: ScenarioData, overrides: dict[str, Any] | None = None) -> ScenarioData:
    """A loaded scenario, perhaps edited in memory, checked again as if read from its folder:
    the tables against the dictionary (types, ranges, keys), references and cross-table rules;
    `overrides` merged into its configuration, and their `changes` applied to its tables."""
    from model.config import Change as ChangeSchema
    from model.config import PlacedChange, _pydantic_problems, deep_merge

    overrides = dict(overrides or {})
    extra = overrides.pop("changes", None) or []
    config = scenario.config
    where = Path(scenario.folder) / SCENARIO_FILE
    if overrides:
        merged = deep_merge(config.model_dump(mode="json"), overrides)
        try:
            config = ScenarioConfig.model_validate(merged)
        except Exception as exc:  # pydantic.ValidationError
            raise ScenarioError(_pydantic_problems(where, exc)) from exc
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    files = {**scenario.input_files, SCENARIO_FILE: scenario.input_files.get(SCENARIO_FILE, where)}
    for table in TABLES.values():
        frame = scenario.tables.get(table.name)
        if frame is None:
            frame = empty_table(table) if table.optional else None
        if frame is None:
            problems.append(Problem(f"<memory>/{table.file}", None, None, None, "required table is missing"))
            continue
        files.setdefault(table.file, Path(f"<memory>/{table.file}"))
        parsed, found = _reparse(frame, table, str(files[table.file]))
        problems += found
        tables[table.name] = parsed
    if problems:
        raise ScenarioError(problems)
    if extra:
        placed = []
        for k, item in enumerate(extra):
            try:
                placed.append(PlacedChange(ChangeSchema.model_validate(item), "overrides", k))
            except Exception as exc:  # pydantic.ValidationError
                problems += _pydantic_problems(Path("overrides"), exc)
        if problems:
            raise ScenarioError(problems)
        tables, problems, _applied = apply_changes(tables, placed, config.base_year)
        if problems:
            raise ScenarioError(problems)
    problems += check_references(tables, files) + check_pathway_cycle(tables, files)
    if not problems:
        problems += check_rules(config, tables, files)
    if problems:
        raise ScenarioError(problems)
    return ScenarioData(config=config, folder=scenario.folder, layers=scenario.layers, tables=tables,
                        input_files=scenario.input_files, geometry=scenario.geometry,
                        changes=list(scenario.changes))


def _reparse(frame: pd.DataFrame, table: Table, where: str) -> tuple[pd.DataFrame, list[Problem]]:
    """A DataFrame's cells checked and typed as the loader types a file's (every problem)."""
    problems: list[Problem] = []
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    problems += [Problem(where, None, name, None, "required column is missing") for name in missing]
    unknown = [c for c in frame.columns if c not in table.column_names]
    problems += [Problem(where, None, str(name), None, "unknown column") for name in unknown]
    if problems:
        return frame, problems
    text = pd.DataFrame(index=frame.index)
    for col in table.columns:
        values = frame[col.name] if col.name in frame.columns else pd.Series("", index=frame.index)
        text[col.name] = values.map(_as_text)
    parsed = pd.DataFrame(index=frame.index)
    for col in table.columns:
        parsed[col.name], found = _parse_column(text[col.name], col, Path(where))
        problems += found
    problems += check_identifiers(parsed, table, where)
    dupes = parsed.duplicated(subset=list(table.key), keep="first")
    for idx, *key in parsed.loc[dupes, list(table.key)].itertuples(name=None):
        problems.append(Problem(where, None, ",".join(table.key), tuple(key),
                                f"duplicate key (row index {idx})"))
    rows = frame.attrs.get("rows", {})
    parsed = parsed.reset_index(drop=True)
    parsed.attrs["rows"] = {i: rows[old] for i, old in enumerate(frame.index) if old in rows}
    return parsed, problems


def _as_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value)) if not float(value).is_integer() else str(int(value))
    return str(value)
