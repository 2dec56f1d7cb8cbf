"""Loading a scenario folder into validated tables (driven by the data dictionary).

Every problem found is collected, then reported at once as a :class:`ScenarioError`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from model.config import SCENARIO_FILE, ScenarioConfig, load_config
from model.dictionary import TABLES, Column, Table
from model.errors import Problem, ScenarioError

log = logging.getLogger(__name__)

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
    config, layers = load_config(folder, overrides)
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    broken: set[str] = set()
    files: dict[str, Path] = {"scenario.yaml": folder / SCENARIO_FILE}
    for layer in layers[:-1]:
        files[f"{layer.name}/scenario.yaml"] = layer / SCENARIO_FILE
    for table in TABLES.values():
        path = find_file(layers, table.file)
        if path is None:
            problems.append(Problem(str(folder / table.file), None, None, None,
                                    "required table is missing (here or in an extended scenario)"))
            continue
        files[table.file] = path
        frame, table_problems = read_table(path, table)
        problems += table_problems
        if table_problems:
            broken.add(table.name)
        tables[table.name] = frame
    if len(tables) < len(TABLES):
        raise ScenarioError(problems)
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
    if problems:
        raise ScenarioError(problems)
    log.info("loaded scenario %s from %s", config.name, folder)
    return ScenarioData(config=config, folder=folder, layers=layers, tables=tables,
                        input_files=files, geometry=geometry)


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
                frame[col.name] = "" if col.dtype == "str" else str(col.default)
    parsed = pd.DataFrame(index=frame.index)
    for col in table.columns:
        parsed[col.name], col_problems = _parse_column(frame[col.name], col, path)
        problems += col_problems
    dupes = parsed.duplicated(subset=list(table.key), keep="first")
    for idx in parsed.index[dupes]:
        key = tuple(parsed.loc[idx, k] for k in table.key)
        problems.append(Problem(where, int(idx), ",".join(table.key), key, "duplicate key"))
    parsed.attrs["rows"] = {i: int(i) for i in parsed.index}
    return parsed.reset_index(drop=True).pipe(_keep_rows, parsed.attrs["rows"]), problems


def _keep_rows(frame: pd.DataFrame, rows: dict[int, int]) -> pd.DataFrame:
    """Index rows 0..n-1 (as the rest of the code expects) and remember each row's line."""
    frame.attrs["rows"] = dict(enumerate(rows.values()))
    return frame


def _parse_column(values: pd.Series, col: Column, path: Path) -> tuple[pd.Series, list[Problem]]:
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
    dtype = {"str": object, "int": "Int64", "float": float, "bool": bool}[col.dtype]
    series = pd.Series(out, index=values.index, dtype=object)
    if not problems:
        series = series.astype(dtype)
    return series, problems


def _convert(text: str, dtype: str) -> object:
    if dtype == "str":
        return text
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


def _row(frame: pd.DataFrame, idx: object) -> int | None:
    return frame.attrs.get("rows", {}).get(idx)


def check_references(tables: dict[str, pd.DataFrame], files: dict[str, Path],
                     skip_targets: set[str] = frozenset()) -> list[Problem]:
    """Every value with a `references` entry in the dictionary exists in the referenced table.

    References into a table that itself has problems are not checked (they would only echo them).
    """
    problems: list[Problem] = []
    for table in TABLES.values():
        frame = tables[table.name]
        for col in table.columns:
            if not col.references:
                continue
            target_table, target_col = col.references
            if target_table in skip_targets:
                continue
            allowed = set(tables[target_table][target_col])
            for idx, value in frame[col.name].items():
                if value is None or (value == "" and not col.required):
                    continue
                if value not in allowed:
                    problems.append(Problem(str(files[table.file]), _row(frame, idx), col.name, value,
                                            f"unknown {target_table.removesuffix('s')}"
                                            f" (not in {TABLES[target_table].file})"))
    return problems


def check_rules(config: ScenarioConfig, tables: dict[str, pd.DataFrame],
                files: dict[str, Path]) -> list[Problem]:
    """Rules across columns and tables that the dictionary cannot express alone."""
    problems: list[Problem] = []
    services = tables["services"].set_index("service")
    inpatient = set(services.index[services["level"] != "community"])
    svc_file = str(files["services.csv"])
    for idx, row in tables["services"].iterrows():
        r = _row(tables["services"], idx)
        if row["level"] == "community":
            if row["substitutes"] and row["substitutes"] not in inpatient:
                problems.append(Problem(svc_file, r, "substitutes", row["substitutes"],
                                        "must name an inpatient service"))
        else:
            if row["beds_per_ward"] < 1:
                problems.append(Problem(svc_file, r, "beds_per_ward", row["beds_per_ward"],
                                        "an inpatient service needs at least 1 bed per ward"))
            if row["substitutes"]:
                problems.append(Problem(svc_file, r, "substitutes", row["substitutes"],
                                        "only community services substitute for another"))
    sites = tables["sites"]
    site_file = str(files["sites.csv"])
    for idx, row in sites.iterrows():
        if row["min_wards"] > row["max_wards"]:
            problems.append(Problem(site_file, _row(sites, idx), "min_wards", row["min_wards"],
                                    f"must be <= max_wards ({row['max_wards']})"))
    ss = tables["site_services"]
    ss_file = str(files["site_services.csv"])
    status = sites.set_index("site")["status"].to_dict()
    for idx, row in ss.iterrows():
        if row["service"] not in inpatient and row["service"] in services.index:
            problems.append(Problem(ss_file, _row(ss, idx), "service", row["service"],
                                    "only inpatient services have wards at sites"))
        if status.get(row["site"]) == "candidate" and row["wards"] > 0:
            problems.append(Problem(ss_file, _row(ss, idx), "wards", row["wards"],
                                    "a candidate site has no wards at the base year"))
    totals = ss.groupby("site")["wards"].sum()
    max_wards = sites.set_index("site")["max_wards"]
    for site, total in totals.items():
        if site in max_wards.index and total > max_wards[site]:
            problems.append(Problem(ss_file, None, "wards", int(total),
                                    f"site {site}: base-year wards exceed its max_wards ({max_wards[site]})"))
    demand = tables["demand"]
    years = set(config.years)
    d_file = str(files["demand.csv"])
    for idx, row in demand.iterrows():
        if row["year"] not in years:
            problems.append(Problem(d_file, _row(demand, idx), "year", row["year"],
                                    f"outside the planning horizon {min(years)}..{max(years)}"))
    pathway = tables["pathway"]
    shares = pathway.groupby("from_service")["share"].sum()
    for svc, total in shares.items():
        if total > 1 + 1e-9:
            problems.append(Problem(str(files["pathway.csv"]), None, "share", round(float(total), 6),
                                    f"step-down shares from {svc} add up to more than 1"))
    for idx, row in pathway.iterrows():
        if row["from_service"] not in inpatient and row["from_service"] in services.index:
            problems.append(Problem(str(files["pathway.csv"]), _row(pathway, idx), "from_service",
                                    row["from_service"], "step-down starts from an inpatient service"))
    unknown = sorted(set(config.policy.open_sites_per_hub) - set(tables["hubs"]["hub"]))
    if unknown:
        problems.append(Problem(str(files["scenario.yaml"]), None, "policy.open_sites_per_hub",
                                unknown, "unknown hub"))
    if config.scope.hubs:
        unknown = sorted(set(config.scope.hubs) - set(tables["hubs"]["hub"]))
        if unknown:
            problems.append(Problem(str(files["scenario.yaml"]), None, "scope.hubs", unknown,
                                    "unknown hub"))
    return problems


def check_pathway_cycle(tables: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """The step-down pathway must be acyclic (checked with networkx)."""
    problems: list[Problem] = []
    pathway = tables["pathway"]
    graph = nx.DiGraph()
    graph.add_edges_from(zip(pathway["from_service"], pathway["to_service"], strict=True))
    try:
        cycle = nx.find_cycle(graph)
        problems.append(Problem(str(files["pathway.csv"]), None, None,
                                " -> ".join(f"{a}" for a, _ in cycle) + f" -> {cycle[0][0]}",
                                "the pathway has a cycle"))
    except nx.NetworkXNoCycle:
        pass
    return problems


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
    return out


SITE_TOLERANCE_M = 1000.0  # the ultra-generalised boundaries are coarse near coasts and rivers


def check_sites_in_footprints(tables: dict[str, pd.DataFrame], geometry: Any,
                              files: dict[str, Path]) -> list[Problem]:
    """Each site lies in its stated footprint's polygon (within SITE_TOLERANCE_M)."""
    import geopandas as gpd

    sites = tables["sites"]
    points = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), index=sites.index,
                           crs="EPSG:4326").to_crs("EPSG:27700")
    polygons = geometry.to_crs("EPSG:27700").geometry
    problems = []
    for idx, point in points.items():
        stated = sites.at[idx, "footprint"]
        if stated in polygons.index and polygons[stated].distance(point) <= SITE_TOLERANCE_M:
            continue
        inside = [fp for fp, poly in polygons.items() if poly.contains(point)]
        rule = (f"the site lies in footprint {inside[0]}, not {stated}" if inside else
                "the site lies outside every footprint of the scenario (outside England?)")
        problems.append(Problem(str(files["sites.csv"]), _row(sites, idx), "lat,lon",
                                f"{sites.at[idx, 'lat']},{sites.at[idx, 'lon']}", rule))
    return problems


def _read_geometry(path: Path, tables: dict[str, pd.DataFrame]) -> tuple[Any, list[Problem]]:
    import geopandas as gpd

    problems: list[Problem] = []
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # GDAL raises several types for unreadable files
        return None, [Problem(str(path), None, None, None, f"cannot read geometry: {exc}")]
    if "footprint" not in gdf.columns:
        return None, [Problem(str(path), None, "footprint", None,
                              "geometry file needs a 'footprint' attribute")]
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
