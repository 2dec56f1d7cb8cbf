"""Validation of loaded tables: one check per concern (references between tables, the
cross-table rules, an acyclic pathway, sites inside their footprints). Each returns every
problem it finds; the loader (``model.data``) gathers them and fails once."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from model.config import ScenarioConfig
from model.dictionary import TABLES, Table
from model.errors import Problem


def row_of(frame: pd.DataFrame, idx: object) -> int | None:
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
                    where = files.get(table.file, files.get("scenario.yaml", table.file))
                    problems.append(Problem(str(where), row_of(frame, idx), col.name, value,
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
        r = row_of(tables["services"], idx)
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
            problems.append(Problem(site_file, row_of(sites, idx), "min_wards", row["min_wards"],
                                    f"must be <= max_wards ({row['max_wards']})"))
    ss = tables["site_services"]
    ss_file = str(files["site_services.csv"])
    status = sites.set_index("site")["status"].to_dict()
    for idx, row in ss.iterrows():
        if row["service"] not in inpatient and row["service"] in services.index:
            problems.append(Problem(ss_file, row_of(ss, idx), "service", row["service"],
                                    "only inpatient services have wards at sites"))
        if status.get(row["site"]) == "candidate" and row["wards"] > 0:
            problems.append(Problem(ss_file, row_of(ss, idx), "wards", row["wards"],
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
            problems.append(Problem(d_file, row_of(demand, idx), "year", row["year"],
                                    f"outside the planning horizon {min(years)}..{max(years)}"))
    pathway = tables["pathway"]
    shares = pathway.groupby("from_service")["share"].sum()
    for svc, total in shares.items():
        if total > 1 + 1e-9:
            problems.append(Problem(str(files["pathway.csv"]), None, "share", round(float(total), 6),
                                    f"step-down shares from {svc} add up to more than 1"))
    for idx, row in pathway.iterrows():
        if row["from_service"] not in inpatient and row["from_service"] in services.index:
            problems.append(Problem(str(files["pathway.csv"]), row_of(pathway, idx), "from_service",
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
        problems.append(Problem(str(files["sites.csv"]), row_of(sites, idx), "lat,lon",
                                f"{sites.at[idx, 'lat']},{sites.at[idx, 'lon']}", rule))
    return problems


def identifier_columns(table: Table) -> list[str]:
    """The text columns that name things other rows refer to: keys and references."""
    return [c.name for c in table.columns
            if c.dtype == "str" and (c.name in table.key or c.references)]


def check_identifiers(frame: pd.DataFrame, table: Table, where: str) -> list[Problem]:
    """Identifiers are normalised to Unicode NFC in place (the same text typed two ways is one
    id); invisible or control characters are refused (an id with a zero-width space looks
    like another but is not); ids of a one-column key that differ only in case are reported
    (two units "YH-Newton" and "YH-NEWTON" are almost certainly one)."""
    problems: list[Problem] = []
    for name in identifier_columns(table):
        if name not in frame.columns:
            continue
        column = frame[name]
        # per distinct value, not per cell: a table of millions of rows has few distinct ids
        normal, hidden = {}, {}
        for value in column.dropna().unique():
            if not isinstance(value, str) or not value:
                continue
            text = unicodedata.normalize("NFC", value)
            normal[value] = text
            chars = [ch for ch in text if unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs")]
            if chars:
                hidden[value] = ", ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(chars))
        for idx in column.index[column.isin(list(hidden))]:
            problems.append(Problem(where, int(idx), name, column[idx],
                                    f"contains invisible or control characters ({hidden[column[idx]]})"))
        if any(k != v for k, v in normal.items()):
            frame[name] = column.map(lambda v, table=normal: table.get(v, v))
    if len(table.key) == 1 and table.key[0] in frame.columns:
        key = table.key[0]
        first: dict[str, tuple[int, str]] = {}
        distinct = frame[key].drop_duplicates()  # exact duplicates are reported as such
        for idx, value in distinct.items():
            if not isinstance(value, str):
                continue
            folded = value.casefold()
            if folded in first and first[folded][1] != value:
                row, other = first[folded]
                problems.append(Problem(where, int(idx), key, value,
                                        f"differs only in case from '{other}' (row {row})"))
            first.setdefault(folded, (int(idx), value))
    return problems
