"""The recommended configuration as GIS layers: GeoPackage with QGIS styles, and re-exports.

Every run writes ``configuration.gpkg`` (British National Grid, EPSG:27700) with the layers

- ``sites`` (points): each site with its provider, sector and status, the action over the
  plan and its wards and beds per service at the start of the base year and at the end of the
  final year;
- ``site_years`` (table, no geometry): ``decisions.csv`` with total wards, beds and occupied
  beds per site and year; join it to ``sites`` on ``site``;
- ``footprints`` (polygons): demand, share of need placed in the home hub, mean and maximum
  travel km, unmet need and delayed discharges of the recommended case (``kpis.csv``,
  ``allocation.csv``), with the do-nothing baseline's share and unmet need for comparison;
- ``flows`` (lines from each footprint's reference point to a site): beds by service and year;
- ``hubs`` (the footprint polygons dissolved by hub) with the hub totals.

Scenarios without footprint polygons get ``sites``, ``site_years`` and ``flows`` only.
Each layer carries a default QGIS style (QML, with an SLD rendering for other clients) in the
GeoPackage ``layer_styles`` table, so QGIS opens it styled: sites categorised by action,
footprints graduated by in-hub share, flows graduated in width by beds (with temporal
properties by year), hubs as outlines.

``export_run`` re-exports an existing run folder from its CSVs and its scenario as GeoPackage,
GeoJSON (RFC 7946, WGS84), shapefile (field names shortened deterministically, listed in
``fields.csv``) or CSV with WKT; it never overwrites existing files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from model.data import ScenarioData, load_scenario
from model.errors import Problem, ScenarioError
from model.outputs import MANIFEST

log = logging.getLogger(__name__)

ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government "
               "Licence v.3.0. Contains OS data © Crown copyright and database right 2017.")
BNG = 27700
WGS84 = 4326
GPKG_FILE = "configuration.gpkg"
FORMATS = ("gpkg", "geojson", "shapefile", "csv")
CASE = "optimised"
BASELINE = "baseline"
SHAPEFILE_FIELD_CHARS = 10
QGIS_VERSION = "3.28.0-Firenze"
LAYER_ORDER = ("sites", "site_years", "footprints", "flows", "hubs")


# --------------------------------------------------------------------------------------------
# Symbology shared by the QGIS styles, the static map and the web map
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionStyle:
    label: str
    color: str  # fill, hex
    qgis_marker: str  # QGIS SimpleMarker shape name
    mpl_marker: str  # matplotlib marker
    angle: float = 0.0
    size_mm: float = 3.6
    outline: str = "#1a1a1a"


ACTION_STYLES: dict[str, ActionStyle] = {
    "commission": ActionStyle("Commission (new unit)", "#2166ac", "star", "*", size_mm=5.2),
    "expand": ActionStyle("Expand", "#1a9850", "triangle", "^", size_mm=4.0),
    "reconfigure": ActionStyle("Reconfigure (change services)", "#8e44ad", "diamond", "D"),
    "reduce": ActionStyle("Reduce", "#f28e2b", "triangle", "v", angle=180.0, size_mm=4.0),
    "decommission": ActionStyle("Decommission (close)", "#d7191c", "cross_fill", "X", angle=45.0,
                                size_mm=4.2),
    "keep": ActionStyle("Keep as is", "#9e9e9e", "circle", "o", size_mm=3.2),
    "not_used": ActionStyle("Candidate or closed unit, not used", "#ffffff", "circle", "o",
                            size_mm=2.6, outline="#6e6e6e"),
}


@dataclass(frozen=True)
class ShareClass:
    lower: float
    upper: float
    color: str
    label: str


# share of need placed in the home hub; the warm classes are below the usual 80% target
SHARE_CLASSES: tuple[ShareClass, ...] = (
    ShareClass(0.0, 0.5, "#d6604d", "under 50%"),
    ShareClass(0.5, 0.7, "#f4a582", "50% to 70%"),
    ShareClass(0.7, 0.8, "#fddbc7", "70% to 80%"),
    ShareClass(0.8, 0.9, "#d1e5f0", "80% to 90%"),
    ShareClass(0.9, 0.95, "#92c5de", "90% to 95%"),
    ShareClass(0.95, 1.0, "#4393c3", "95% or more"),
)
FLOW_COLOR = "#2b2b2b"
HUB_COLOR = "#252525"


def share_color(share: float | None) -> str:
    """The fill colour of an in-hub share (the class it falls in; the top class includes 1)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "#d9d9d9"
    for cls in SHARE_CLASSES:
        if share < cls.upper:
            return cls.color
    return SHARE_CLASSES[-1].color


def flow_breaks(beds: Iterable[float], classes: int = 5) -> list[float]:
    """Class limits for flow widths: 0, then 'nice' rounded quantiles, then the maximum."""
    values = np.asarray([b for b in beds if b > 0], dtype=float)
    if values.size == 0:
        return [0.0, 1.0]
    top = float(values.max())
    limits = [0.0]
    for q in np.linspace(0, 1, classes + 1)[1:-1]:
        limits.append(_nice(float(np.quantile(values, q))))
    limits.append(math.ceil(top))
    out = [limits[0]]
    for value in limits[1:]:
        if value > out[-1]:
            out.append(value)
    return out if len(out) > 1 else [0.0, max(top, 1.0)]


def _nice(value: float) -> float:
    if value <= 0:
        return 0.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


# --------------------------------------------------------------------------------------------
# Building the layers
# --------------------------------------------------------------------------------------------

@dataclass
class RunTables:
    """The result tables a run folder holds, as written (so re-exports match the run)."""

    decisions: pd.DataFrame
    wards: pd.DataFrame
    allocation: pd.DataFrame
    kpis: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> RunTables:
        missing = [name for name in ("decisions.csv", "wards.csv", "allocation.csv", "kpis.csv")
                   if not (folder / name).exists()]
        if missing:
            raise ScenarioError([Problem(str(folder / name), None, None, None,
                                         "missing: not a run folder with a solution")
                                 for name in missing])
        site_cols = {"site": str, "name": str, "hub": str, "footprint": str, "action": str}
        return cls(
            decisions=pd.read_csv(folder / "decisions.csv", dtype=site_cols, keep_default_na=False),
            wards=pd.read_csv(folder / "wards.csv", dtype={"site": str, "service": str}),
            allocation=pd.read_csv(folder / "allocation.csv",
                                   dtype={"footprint": str, "site": str, "service": str}),
            kpis=pd.read_csv(folder / "kpis.csv", dtype={"case": str, "scope": str, "id": str,
                                                         "year": str}),
        )


@dataclass
class Layers:
    """The GIS layers of one run, in British National Grid (or another CRS after `to_crs`)."""

    scenario: str
    years: list[int]
    year: int | None
    services: list[str]
    sites: gpd.GeoDataFrame
    site_years: pd.DataFrame
    flows: gpd.GeoDataFrame
    footprints: gpd.GeoDataFrame | None = None
    hubs: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        return "all" if self.year is None else str(self.year)

    def spatial(self) -> dict[str, gpd.GeoDataFrame]:
        out = {"sites": self.sites, "footprints": self.footprints, "flows": self.flows,
               "hubs": self.hubs}
        return {k: v for k, v in out.items() if v is not None}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every layer in the order written: spatial layers and the site_years table."""
        spatial = self.spatial()
        return {name: spatial.get(name, self.site_years)
                for name in LAYER_ORDER if name in spatial or name == "site_years"}

    def to_crs(self, epsg: int) -> Layers:
        def conv(gdf):
            return None if gdf is None else gdf.to_crs(epsg=epsg)
        return Layers(self.scenario, self.years, self.year, self.services, conv(self.sites),
                      self.site_years, conv(self.flows), conv(self.footprints), conv(self.hubs),
                      list(self.warnings))


def build_layers(scenario: ScenarioData, tables: RunTables, year: int | None = None) -> Layers:
    """All layers of the recommended configuration, from a run's tables and its scenario."""
    cfg = scenario.config
    years = list(cfg.years)
    if year is not None and year not in years:
        raise ScenarioError([Problem("--year", None, "year", year,
                                     f"not a year of this run ({years[0]}..{years[-1]})")])
    services_table = _table(scenario, "services")
    services = [v for v in services_table["service"]
                if services_table.set_index("service").at[v, "level"] != "community"]
    layers = Layers(scenario=cfg.name, years=years, year=year, services=services,
                    sites=_sites(scenario, tables, services, years, year),
                    site_years=_site_years(tables, services, year),
                    flows=_flows(scenario, tables, services, year))
    if scenario.geometry is None:
        message = (f"scenario {cfg.name} has no footprint geometry: the footprints and hubs "
                   "layers are not written (sites and flows are)")
        log.warning(message)
        layers.warnings.append(message)
    else:
        layers.footprints = _footprints(scenario, tables, year)
        layers.hubs = _hubs(scenario, tables, layers.footprints, layers.sites, year)
    return layers


def _table(scenario: ScenarioData, name: str) -> pd.DataFrame:
    """A scenario table without its attrs (row numbers for error messages, which pandas
    would deep-copy on every operation)."""
    frame = scenario.tables[name].copy()
    frame.attrs = {}
    return frame


def _points(lon: Iterable[float], lat: Iterable[float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(list(lon), list(lat)), crs=WGS84).to_crs(epsg=BNG)


def _wards_cols(prefix: str, services: list[str]) -> list[str]:
    return [f"{prefix}_{v}" for v in services]


def _sites(scenario: ScenarioData, tables: RunTables, services: list[str], years: list[int],
           year: int | None) -> gpd.GeoDataFrame:
    from model.results import classify

    sites = _table(scenario, "sites").set_index("site")
    fp_hub = _table(scenario, "footprints").set_index("footprint")["hub"].to_dict()
    bpw = _table(scenario, "services").set_index("service")["beds_per_ward"].to_dict()
    existing = {(r.site, r.service): int(r.wards)
                for r in _table(scenario, "site_services").itertuples()}
    dec = tables.decisions
    wards = tables.wards
    last = years[-1]
    rows = []
    for s in sites.index:
        site_dec = dec[dec["site"] == s].sort_values("year")
        site_wards = wards[wards["site"] == s]
        last_wards = site_wards[site_wards["year"] == last]
        if len(site_dec):
            base = {v: int(site_dec.iloc[0].get(f"wards_before_{v}", 0)) for v in services}
            final = {v: int(site_dec.iloc[-1].get(f"wards_after_{v}", 0)) for v in services}
        else:
            base = {v: existing.get((s, v), 0) for v in services}
            final = {v: int(last_wards.loc[last_wards["service"] == v, "wards"].sum())
                     for v in services}
        open_base = sum(base.values()) > 0 and sites.at[s, "status"] == "existing"
        open_final = bool(last_wards["operating"].max()) if len(last_wards) else sum(final.values()) > 0
        if len(site_dec):
            action = classify(base, final, int(site_wards["built"].sum()),
                              int(site_wards["converted_in"].sum()), open_base, open_final)
        else:
            action = "not_used"
        changed = site_dec[site_dec["action"] != "keep"]
        row: dict[str, Any] = {
            "site": s, "name": sites.at[s, "name"], "provider": sites.at[s, "provider"],
            "sector": sites.at[s, "sector"], "status": sites.at[s, "status"],
            "hub": fp_hub.get(sites.at[s, "footprint"], ""), "footprint": sites.at[s, "footprint"],
            "action": action,
            "changes": "; ".join(f"{int(r.year)} {r.action}" for r in changed.itertuples()),
            "first_change": int(changed["year"].min()) if len(changed) else None,
            "open_base": bool(open_base), "open_final": bool(open_final),
            "wards_base": sum(base.values()), "wards_final": sum(final.values()),
            "beds_base": sum(base[v] * int(bpw[v]) for v in services),
            "beds_final": sum(final[v] * int(bpw[v]) for v in services),
            "occupied_final": float(last_wards["occupied_beds"].sum()) if len(last_wards) else 0.0,
        }
        for v in services:
            row[f"wards_base_{v}"] = base[v]
            row[f"wards_final_{v}"] = final[v]
        for v in services:
            row[f"beds_base_{v}"] = base[v] * int(bpw[v])
            row[f"beds_final_{v}"] = final[v] * int(bpw[v])
        if year is not None:
            year_dec = site_dec[site_dec["year"] == year]
            year_wards = site_wards[site_wards["year"] == year]
            row["year"] = year
            row["year_action"] = year_dec["action"].iloc[0] if len(year_dec) else "not_used"
            per = {v: int(year_wards.loc[year_wards["service"] == v, "wards"].sum()) for v in services}
            row["year_wards"] = sum(per.values())
            row["year_beds"] = sum(per[v] * int(bpw[v]) for v in services)
            row["year_occupied"] = float(year_wards["occupied_beds"].sum())
            for v in services:
                row[f"year_wards_{v}"] = per[v]
            for v in services:
                row[f"year_beds_{v}"] = per[v] * int(bpw[v])
        row["lon"] = float(sites.at[s, "lon"])
        row["lat"] = float(sites.at[s, "lat"])
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["first_change"] = frame["first_change"].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=_points(frame["lon"], frame["lat"]).values, crs=BNG)


def _site_years(tables: RunTables, services: list[str], year: int | None) -> pd.DataFrame:
    dec = tables.decisions.copy()
    if year is not None:
        dec = dec[dec["year"] == year]
    if dec.empty:
        return dec
    dec["wards_after"] = dec[_wards_cols("wards_after", services)].sum(axis=1)
    dec["beds_after"] = dec[_wards_cols("beds_after", services)].sum(axis=1)
    occupied = tables.wards.groupby(["site", "year"])["occupied_beds"].sum()
    dec["occupied_beds"] = [float(occupied.get((s, t), 0.0))
                            for s, t in zip(dec["site"], dec["year"], strict=True)]
    return dec.reset_index(drop=True)


def _flows(scenario: ScenarioData, tables: RunTables, services: list[str],
           year: int | None) -> gpd.GeoDataFrame:
    alloc = tables.allocation
    if year is not None:
        alloc = alloc[alloc["year"] == year]
    fps = _table(scenario, "footprints").set_index("footprint")
    sites = _table(scenario, "sites").set_index("site")
    hub_of_fp = fps["hub"].to_dict()
    columns = ["footprint", "footprint_name", "site", "site_name", "hub", "site_hub", "in_hub",
               "year", "km", "beds"] + _wards_cols("beds", services)
    if alloc.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)
    wide = alloc.pivot_table(index=["footprint", "site", "year"], columns="service", values="beds",
                             aggfunc="sum", fill_value=0.0)
    km = alloc.groupby(["footprint", "site", "year"])["km"].first()
    rows = []
    for (f, s, t), values in wide.iterrows():
        row = {"footprint": f, "footprint_name": fps.at[f, "name"], "site": s,
               "site_name": sites.at[s, "name"], "hub": hub_of_fp[f],
               "site_hub": hub_of_fp.get(sites.at[s, "footprint"], ""),
               "year": int(t), "km": float(km[(f, s, t)]),
               "beds": float(sum(values.get(v, 0.0) for v in services))}
        row["in_hub"] = row["hub"] == row["site_hub"]
        for v in services:
            row[f"beds_{v}"] = float(values.get(v, 0.0))
        rows.append(row)
    frame = pd.DataFrame(rows)[columns]
    frame = frame.sort_values(["year", "footprint", "site"]).reset_index(drop=True)
    start = _points(fps.loc[frame["footprint"], "lon"], fps.loc[frame["footprint"], "lat"])
    end = _points(sites.loc[frame["site"], "lon"], sites.loc[frame["site"], "lat"])
    lines = []
    for a, b in zip(start, end, strict=True):
        if a.distance(b) < 1.0:  # a site at the reference point: a 1 m stub keeps the line valid
            b = Point(b.x, b.y + 1.0)
        lines.append(LineString([a, b]))
    return gpd.GeoDataFrame(frame, geometry=lines, crs=BNG)


def _kpi(tables: RunTables, scope: str, period: str, case: str = CASE) -> pd.DataFrame:
    k = tables.kpis
    sel = k[(k["case"] == case) & (k["scope"] == scope) & (k["year"] == period)]
    return sel.set_index("id")


def _polygonal(geom) -> MultiPolygon:
    """A valid MultiPolygon (footprints and hubs are written as one geometry type)."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon | MultiPolygon)]
    polys = []
    for p in parts:
        polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    return MultiPolygon(polys)


KPI_FIELDS = ("demand_beds", "need_beds", "placed_beds", "in_hub_share", "mean_km", "unmet_beds",
              "delayed_discharges", "community_places", "cost_gbp", "carbon_t", "patient_km")


def _footprints(scenario: ScenarioData, tables: RunTables, year: int | None) -> gpd.GeoDataFrame:
    period = "all" if year is None else str(year)
    fps = _table(scenario, "footprints").set_index("footprint")
    hub_names = _table(scenario, "hubs").set_index("hub")["name"].to_dict()
    kpi = _kpi(tables, "footprint", period)
    base = _kpi(tables, "footprint", period, BASELINE)
    alloc = tables.allocation
    if year is not None:
        alloc = alloc[alloc["year"] == year]
    max_km = alloc[alloc["beds"] > 0].groupby("footprint")["km"].max()
    geom = scenario.geometry.to_crs(epsg=BNG)
    rows, geoms = [], []
    for f in fps.index:
        row: dict[str, Any] = {"footprint": f, "name": fps.at[f, "name"], "hub": fps.at[f, "hub"],
                               "hub_name": hub_names.get(fps.at[f, "hub"], ""),
                               "population": float(fps.at[f, "population"]), "period": period}
        for col in KPI_FIELDS:
            row[col] = float(kpi.at[f, col]) if f in kpi.index else math.nan
            if col == "mean_km":
                row["max_km"] = float(max_km[f]) if f in max_km.index else math.nan
        row["in_hub_share_baseline"] = (float(base.at[f, "in_hub_share"]) if f in base.index
                                        else math.nan)
        row["unmet_beds_baseline"] = (float(base.at[f, "unmet_beds"]) if f in base.index
                                      else math.nan)
        row["ref_lon"] = float(fps.at[f, "lon"])
        row["ref_lat"] = float(fps.at[f, "lat"])
        rows.append(row)
        geoms.append(_polygonal(geom.geometry.get(f)))
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=BNG)


def _hubs(scenario: ScenarioData, tables: RunTables, footprints: gpd.GeoDataFrame,
          sites: gpd.GeoDataFrame, year: int | None) -> gpd.GeoDataFrame:
    period = "all" if year is None else str(year)
    kpi = _kpi(tables, "hub", period)
    base = _kpi(tables, "hub", period, BASELINE)
    hubs = _table(scenario, "hubs").set_index("hub")
    rows, geoms = [], []
    for h in hubs.index:
        members = footprints[footprints["hub"] == h]
        if members.empty:
            continue
        # snap to a 1 m grid first so shared boundaries dissolve without slivers
        union = shapely.union_all(shapely.set_precision(members.geometry.values, 1.0))
        hub_sites = sites[sites["hub"] == h]
        row: dict[str, Any] = {"hub": h, "name": hubs.at[h, "name"], "period": period,
                               "footprints": len(members),
                               "population": float(members["population"].sum())}
        for col in KPI_FIELDS:
            row[col] = float(kpi.at[h, col]) if h in kpi.index else math.nan
        row["in_hub_share_baseline"] = (float(base.at[h, "in_hub_share"]) if h in base.index
                                        else math.nan)
        row["unmet_beds_baseline"] = (float(base.at[h, "unmet_beds"]) if h in base.index
                                      else math.nan)
        row["sites_open_base"] = int(hub_sites["open_base"].sum())
        row["sites_open_final"] = int(hub_sites["open_final"].sum())
        row["beds_base"] = int(hub_sites["beds_base"].sum())
        row["beds_final"] = int(hub_sites["beds_final"].sum())
        rows.append(row)
        geoms.append(_polygonal(union))
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=BNG)


# --------------------------------------------------------------------------------------------
# Field descriptions (README of an export; QGIS aliases)
# --------------------------------------------------------------------------------------------

_FIELD_DOCS = {
    "site": "site id", "name": "name", "provider": "provider organisation",
    "sector": "provider sector", "status": "existing unit or candidate site",
    "hub": "hub", "footprint": "footprint id",
    "action": "action over the plan: commission, decommission, reconfigure, expand, reduce, keep "
              "(as for one year, applied to the base-year estate and the final year); not_used: "
              "a candidate or closed unit the plan does not use",
    "changes": "the years with an action other than keep",
    "first_change": "first year with an action other than keep",
    "open_base": "open at the start of the base year", "open_final": "open in the final year",
    "wards_base": "wards at the start of the base year (all services)",
    "wards_final": "wards in the final year (all services)",
    "beds_base": "beds at the start of the base year", "beds_final": "beds in the final year",
    "occupied_final": "occupied beds in the final year",
    "year": "year", "year_action": "action in the selected year",
    "year_wards": "wards in the selected year", "year_beds": "beds in the selected year",
    "year_occupied": "occupied beds in the selected year",
    "lon": "longitude (WGS84)", "lat": "latitude (WGS84)",
    "hub_name": "hub name", "population": "resident population",
    "period": "'all' (totals over the plan) or the selected year",
    "demand_beds": "bed demand (bed-years over the period)",
    "need_beds": "inpatient need after community substitution (bed-years)",
    "placed_beds": "beds placed at sites (bed-years)",
    "in_hub_share": "share of need placed in the home hub (0-1)",
    "mean_km": "mean km from home per patient (unmet counted at the out-of-area distance)",
    "max_km": "farthest placement, km", "unmet_beds": "need not placed (bed-years)",
    "delayed_discharges": "delayed discharges (patients)",
    "community_places": "community places (place-years)", "cost_gbp": "cost, GBP (undiscounted)",
    "carbon_t": "carbon, tCO2e", "patient_km": "patient-km",
    "in_hub_share_baseline": "in-hub share if nothing is done (baseline)",
    "unmet_beds_baseline": "unmet need if nothing is done (baseline)",
    "ref_lon": "longitude of the reference point (WGS84)",
    "ref_lat": "latitude of the reference point (WGS84)",
    "footprints": "footprints in the hub",
    "sites_open_base": "sites open at the start", "sites_open_final": "sites open in the final year",
    "footprint_name": "footprint name", "site_name": "site name",
    "site_hub": "hub of the site", "in_hub": "site in the patients' home hub",
    "km": "distance from the footprint reference point to the site, km",
    "beds": "beds placed (all services)", "wards_after": "wards after the year's changes",
    "beds_after": "beds after the year's changes", "occupied_beds": "occupied beds",
}
_PATTERNS = (
    (r"wards_base_(.+)", "wards of {} at the start of the base year"),
    (r"wards_final_(.+)", "wards of {} in the final year"),
    (r"beds_base_(.+)", "beds of {} at the start of the base year"),
    (r"beds_final_(.+)", "beds of {} in the final year"),
    (r"year_wards_(.+)", "wards of {} in the selected year"),
    (r"year_beds_(.+)", "beds of {} in the selected year"),
    (r"wards_before_(.+)", "wards of {} before the year's changes"),
    (r"wards_after_(.+)", "wards of {} after the year's changes"),
    (r"beds_before_(.+)", "beds of {} before the year's changes"),
    (r"beds_after_(.+)", "beds of {} after the year's changes"),
    (r"beds_(.+)", "beds of {} placed"),
)


_LAYER_DOCS = {
    ("sites", "hub"): "hub of the site", ("sites", "footprint"): "footprint of the site",
    ("flows", "hub"): "home hub of the patients (the footprint's hub)",
    ("flows", "footprint"): "home footprint of the patients",
    ("flows", "year"): "year of the placements",
}


def describe_field(name: str, layer: str | None = None) -> str:
    if (layer, name) in _LAYER_DOCS:
        return _LAYER_DOCS[(layer, name)]
    if name in _FIELD_DOCS:
        return _FIELD_DOCS[name]
    for pattern, text in _PATTERNS:
        match = re.fullmatch(pattern, name)
        if match:
            return text.format(match.group(1))
    return ""


# --------------------------------------------------------------------------------------------
# QGIS styles (QML) and SLD
# --------------------------------------------------------------------------------------------

def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _empty_ddp(parent: ET.Element, tag: str = "data_defined_properties") -> None:
    ddp = ET.SubElement(parent, tag)
    opt = ET.SubElement(ddp, "Option", type="Map")
    ET.SubElement(opt, "Option", type="QString", name="name", value="")
    ET.SubElement(opt, "Option", name="properties")
    ET.SubElement(opt, "Option", type="QString", name="type", value="collection")


def _symbol(kind: str, name: str, layer_class: str, props: dict[str, str],
            alpha: float = 1.0) -> ET.Element:
    """A QGIS symbol with one symbol layer; properties written as <Option> (QGIS >= 3.18)
    and as <prop> (older releases read those)."""
    sym = ET.Element("symbol", type=kind, name=name, alpha=f"{alpha:g}", clip_to_extent="1",
                     force_rhr="0")
    _empty_ddp(sym)
    layer = ET.SubElement(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                         "pass": "0"})
    opts = ET.SubElement(layer, "Option", type="Map")
    for key in sorted(props):
        ET.SubElement(opts, "Option", type="QString", name=key, value=str(props[key]))
    for key in sorted(props):
        ET.SubElement(layer, "prop", k=key, v=str(props[key]))
    _empty_ddp(layer)
    return sym


def _marker(name: str, style: ActionStyle) -> ET.Element:
    return _symbol("marker", name, "SimpleMarker", {
        "name": style.qgis_marker, "color": _rgba(style.color), "angle": f"{style.angle:g}",
        "outline_color": _rgba(style.outline), "outline_style": "solid", "outline_width": "0.3",
        "outline_width_unit": "MM", "size": f"{style.size_mm:g}", "size_unit": "MM",
        "scale_method": "diameter", "joinstyle": "miter", "horizontal_anchor_point": "1",
        "vertical_anchor_point": "1", "offset": "0,0", "offset_unit": "MM"})


def _fill(name: str, color: str | None, outline: str, width_mm: float, alpha: float = 1.0,
          outline_alpha: int = 255) -> ET.Element:
    return _symbol("fill", name, "SimpleFill", {
        "color": _rgba(color) if color else "0,0,0,0", "style": "solid" if color else "no",
        "outline_color": _rgba(outline, outline_alpha), "outline_style": "solid",
        "outline_width": f"{width_mm:g}", "outline_width_unit": "MM", "joinstyle": "round",
        "offset": "0,0", "offset_unit": "MM"}, alpha)


def _line(name: str, color: str, width_mm: float, alpha: float = 1.0) -> ET.Element:
    return _symbol("line", name, "SimpleLine", {
        "line_color": _rgba(color), "line_style": "solid", "line_width": f"{width_mm:g}",
        "line_width_unit": "MM", "capstyle": "round", "joinstyle": "round", "offset": "0",
        "offset_unit": "MM"}, alpha)


def _labeling(field_expr: str, size: float, bold: bool, placement: str, color: str = "#1a1a1a",
              is_expression: bool = False, dist_mm: float = 1.2) -> ET.Element:
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", {
        "fieldName": field_expr, "isExpression": "1" if is_expression else "0",
        "fontSize": f"{size:g}", "fontSizeUnit": "Point", "fontWeight": "75" if bold else "50",
        "namedStyle": "Bold" if bold else "Regular", "textColor": _rgba(color),
        "textOpacity": "1", "multilineHeight": "1", "blendMode": "0"})
    ET.SubElement(style, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
        "bufferColor": "255,255,255,255", "bufferOpacity": "0.85", "bufferJoinStyle": "128",
        "bufferNoFill": "1", "bufferBlendMode": "0"})
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "3",
                                            "autoWrapLength": "0", "formatNumbers": "0"})
    ET.SubElement(settings, "placement", {
        "placement": placement, "dist": f"{dist_mm:g}", "distUnits": "MM",
        "placementFlags": "10", "priority": "5", "quadOffset": "4", "offsetType": "1",
        "predefinedPositionOrder": "TR,TL,BR,BL,R,L,TSR,BSR", "centroidInside": "1",
        "overlapHandling": "PreventOverlap"})
    ET.SubElement(settings, "rendering", {
        "drawLabels": "1", "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1",
        "scaleVisibility": "0", "upsidedownLabels": "0", "zIndex": "0", "maxNumLabels": "2000",
        "limitNumLabels": "0", "fontLimitPixelSize": "0", "mergeLines": "0", "labelPerPart": "0"})
    return labeling


def _qml(renderer: ET.Element, geometry_type: int, labeling: ET.Element | None,
         map_tip: str = "", aliases: dict[str, str] | None = None,
         temporal: dict[str, str] | None = None) -> str:
    categories = "Symbology|Labeling|Fields|MapTips|Rendering" + ("|Temporal" if temporal else "")
    root = ET.Element("qgis", {
        "version": QGIS_VERSION, "styleCategories": categories,
        "labelsEnabled": "1" if labeling is not None else "0",
        "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0",
        "simplifyDrawingHints": "0", "readOnly": "0"})
    if temporal:
        tmp = ET.SubElement(root, "temporal", {
            "enabled": "1", "mode": temporal["mode"], "startField": "", "endField": "",
            "durationField": "", "durationUnit": "min", "fixedDuration": "0", "accumulate": "0",
            "limitMode": "0", "startExpression": temporal.get("start", ""),
            "endExpression": temporal.get("end", "")})
        rng = ET.SubElement(tmp, "fixedRange")
        ET.SubElement(rng, "start").text = ""
        ET.SubElement(rng, "end").text = ""
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    if aliases:
        al = ET.SubElement(root, "aliases")
        for i, (name, alias) in enumerate(aliases.items()):
            ET.SubElement(al, "alias", field=name, index=str(i), name=alias)
    ET.SubElement(root, "previewExpression").text = '"name"'
    ET.SubElement(root, "mapTip").text = map_tip
    ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _renderer_ddp(renderer: ET.Element) -> None:
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")


def _aliases(columns: Iterable[str], layer: str) -> dict[str, str]:
    """Field aliases shown in QGIS: the field's description, cut at its first colon or
    parenthesis when long."""
    out = {}
    for col in columns:
        if col == "geometry":
            continue
        text = describe_field(col, layer)
        if len(text) > 60:
            text = re.split(r"[:(]", text, maxsplit=1)[0].strip()
        out[col] = text[:1].upper() + text[1:]
    return out


def qml_sites(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="categorizedSymbol", attr="action", symbollevels="0",
                          enableorderby="1", forceraster="0", referencescale="-1")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (action, style) in enumerate(ACTION_STYLES.items()):
        ET.SubElement(cats, "category", render="true", value=action, symbol=str(i),
                      label=style.label, type="string")
        symbols.append(_marker(str(i), style))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_marker("0", ACTION_STYLES["keep"]))
    # draw changed sites above unchanged ones
    order = ET.SubElement(renderer, "orderby")
    ET.SubElement(order, "orderByClause", asc="1", nullsFirst="0").text = (
        "CASE WHEN \"action\" = 'not_used' THEN 0 WHEN \"action\" = 'keep' THEN 1 ELSE 2 END")
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"site\" %])<br>[% \"provider\" %], [% \"sector\" %]<br>"
           "Action: <b>[% \"action\" %]</b><br>[% \"changes\" %]<br>"
           "Beds: [% \"beds_base\" %] → [% \"beds_final\" %]")
    return _qml(renderer, 0, _labeling("name", 8.5, False, "6"), tip, _aliases(columns, "sites"))


def qml_footprints(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="graduatedSymbol", attr="in_hub_share",
                          graduatedMethod="GraduatedColor", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, cls in enumerate(SHARE_CLASSES):
        upper = cls.upper if i < len(SHARE_CLASSES) - 1 else 1.000001  # include exactly 100%
        ET.SubElement(ranges, "range", lower=f"{cls.lower:.6f}", upper=f"{upper:.6f}",
                      symbol=str(i), label=cls.label, render="true")
        symbols.append(_fill(str(i), cls.color, "#ffffff", 0.3))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_fill("0", SHARE_CLASSES[3].color, "#ffffff", 0.3))
    method = ET.SubElement(renderer, "classificationMethod", id="EqualInterval")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision="2",
                  trimtrailingzeroes="1")
    ET.SubElement(ET.SubElement(method, "parameters"), "Option")
    ET.SubElement(method, "extraInformation")
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"footprint\" %]), hub [% \"hub\" %]<br>"
           "Placed in hub: [% format_number(\"in_hub_share\" * 100, 1) %]% "
           "(do nothing: [% format_number(\"in_hub_share_baseline\" * 100, 1) %]%)<br>"
           "Mean / max km: [% format_number(\"mean_km\", 0) %] / [% format_number(\"max_km\", 0) %]"
           "<br>Unmet (bed-years): [% format_number(\"unmet_beds\", 1) %]<br>"
           "Delayed discharges: [% format_number(\"delayed_discharges\", 1) %]")
    return _qml(renderer, 2, None, tip, _aliases(columns, "footprints"))


FLOW_WIDTHS_MM = (0.3, 0.7, 1.2, 1.8, 2.6, 3.4, 4.2)


def qml_flows(columns: Iterable[str], breaks: list[float]) -> str:
    renderer = ET.Element("renderer-v2", type="graduatedSymbol", attr="beds",
                          graduatedMethod="GraduatedSize", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    n = len(breaks) - 1
    for i in range(n):
        lower, upper = breaks[i], breaks[i + 1]
        ET.SubElement(ranges, "range", lower=f"{lower:.6f}", upper=f"{upper:.6f}", symbol=str(i),
                      label=f"{lower:g} - {upper:g} beds", render="true")
        symbols.append(_line(str(i), FLOW_COLOR, FLOW_WIDTHS_MM[min(i, len(FLOW_WIDTHS_MM) - 1)],
                             0.7))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_line("0", FLOW_COLOR, 0.5, 0.7))
    method = ET.SubElement(renderer, "classificationMethod", id="Quantile")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2 beds", labelprecision="0",
                  trimtrailingzeroes="1")
    ET.SubElement(ET.SubElement(method, "parameters"), "Option")
    ET.SubElement(method, "extraInformation")
    _renderer_ddp(renderer)
    tip = ("[% \"footprint_name\" %] → <b>[% \"site_name\" %]</b>, [% \"year\" %]<br>"
           "[% format_number(\"beds\", 1) %] beds, [% format_number(\"km\", 0) %] km"
           "[% CASE WHEN \"in_hub\" THEN '' ELSE ' (out of hub)' END %]")
    # each feature belongs to its year: the QGIS temporal controller steps through the plan
    temporal = {"mode": "4", "start": 'make_date("year", 1, 1)',
                "end": 'make_date("year" + 1, 1, 1)'}
    return _qml(renderer, 1, None, tip, _aliases(columns, "flows"), temporal)


def qml_hubs(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    symbols = ET.SubElement(renderer, "symbols")
    symbols.append(_fill("0", None, HUB_COLOR, 0.9))
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"hub\" %])<br>"
           "Placed in hub: [% format_number(\"in_hub_share\" * 100, 1) %]%<br>"
           "Beds: [% \"beds_base\" %] → [% \"beds_final\" %]; sites open: "
           "[% \"sites_open_base\" %] → [% \"sites_open_final\" %]")
    return _qml(renderer, 2, _labeling("name", 10, True, "1", HUB_COLOR, dist_mm=0), tip,
                _aliases(columns, "hubs"))


SLD_NS = {"sld": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se",
          "ogc": "http://www.opengis.net/ogc", "xlink": "http://www.w3.org/1999/xlink",
          "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
for _prefix, _uri in SLD_NS.items():
    ET.register_namespace(_prefix if _prefix != "sld" else "", _uri)


def _q(prefix: str, tag: str) -> str:
    return f"{{{SLD_NS[prefix]}}}{tag}"


def _sld(layer: str, rules: list[ET.Element]) -> str:
    root = ET.Element(_q("sld", "StyledLayerDescriptor"), {
        "version": "1.1.0",
        _q("xsi", "schemaLocation"): "http://www.opengis.net/sld "
                                     "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"})
    named = ET.SubElement(root, _q("sld", "NamedLayer"))
    ET.SubElement(named, _q("se", "Name")).text = layer
    style = ET.SubElement(named, _q("sld", "UserStyle"))
    ET.SubElement(style, _q("se", "Name")).text = layer
    fts = ET.SubElement(style, _q("se", "FeatureTypeStyle"))
    fts.extend(rules)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _sld_param(parent: ET.Element, tag: str, name: str, value: str) -> None:
    ET.SubElement(parent, _q("se", tag), name=name).text = value


def _sld_rule(name: str, filt: ET.Element | None, symbolizer: ET.Element) -> ET.Element:
    rule = ET.Element(_q("se", "Rule"))
    ET.SubElement(rule, _q("se", "Name")).text = name
    desc = ET.SubElement(rule, _q("se", "Description"))
    ET.SubElement(desc, _q("se", "Title")).text = name
    if filt is not None:
        rule.append(filt)
    rule.append(symbolizer)
    return rule


def _ogc_compare(op: str, prop: str, value: str) -> ET.Element:
    el = ET.Element(_q("ogc", op))
    ET.SubElement(el, _q("ogc", "PropertyName")).text = prop
    ET.SubElement(el, _q("ogc", "Literal")).text = value
    return el


def _ogc_range(prop: str, lower: float, upper: float, last: bool) -> ET.Element:
    filt = ET.Element(_q("ogc", "Filter"))
    both = ET.SubElement(filt, _q("ogc", "And"))
    both.append(_ogc_compare("PropertyIsGreaterThanOrEqualTo", prop, f"{lower:g}"))
    both.append(_ogc_compare("PropertyIsLessThanOrEqualTo" if last else "PropertyIsLessThan",
                             prop, f"{upper:g}"))
    return filt


_SLD_MARKS = {"circle": "circle", "triangle": "triangle", "diamond": "square", "star": "star",
              "cross_fill": "cross"}


def sld_sites() -> str:
    rules = []
    for action, style in ACTION_STYLES.items():
        filt = ET.Element(_q("ogc", "Filter"))
        filt.append(_ogc_compare("PropertyIsEqualTo", "action", action))
        sym = ET.Element(_q("se", "PointSymbolizer"))
        graphic = ET.SubElement(sym, _q("se", "Graphic"))
        mark = ET.SubElement(graphic, _q("se", "Mark"))
        ET.SubElement(mark, _q("se", "WellKnownName")).text = _SLD_MARKS[style.qgis_marker]
        fill = ET.SubElement(mark, _q("se", "Fill"))
        _sld_param(fill, "SvgParameter", "fill", style.color)
        stroke = ET.SubElement(mark, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", style.outline)
        _sld_param(stroke, "SvgParameter", "stroke-width", "1")
        ET.SubElement(graphic, _q("se", "Size")).text = f"{style.size_mm * 3.78:.0f}"
        angle = style.angle + (45 if style.qgis_marker == "diamond" else 0)
        if angle:
            ET.SubElement(graphic, _q("se", "Rotation")).text = f"{angle:g}"
        rules.append(_sld_rule(style.label, filt, sym))
    return _sld("sites", rules)


def sld_footprints() -> str:
    rules = []
    for i, cls in enumerate(SHARE_CLASSES):
        sym = ET.Element(_q("se", "PolygonSymbolizer"))
        fill = ET.SubElement(sym, _q("se", "Fill"))
        _sld_param(fill, "SvgParameter", "fill", cls.color)
        stroke = ET.SubElement(sym, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", "#ffffff")
        _sld_param(stroke, "SvgParameter", "stroke-width", "1")
        rules.append(_sld_rule(cls.label, _ogc_range("in_hub_share", cls.lower, cls.upper,
                                                     i == len(SHARE_CLASSES) - 1), sym))
    return _sld("footprints", rules)


def sld_flows(breaks: list[float]) -> str:
    rules = []
    n = len(breaks) - 1
    for i in range(n):
        sym = ET.Element(_q("se", "LineSymbolizer"))
        stroke = ET.SubElement(sym, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", FLOW_COLOR)
        _sld_param(stroke, "SvgParameter", "stroke-opacity", "0.7")
        width = FLOW_WIDTHS_MM[min(i, len(FLOW_WIDTHS_MM) - 1)] * 3.78
        _sld_param(stroke, "SvgParameter", "stroke-width", f"{width:.1f}")
        _sld_param(stroke, "SvgParameter", "stroke-linecap", "round")
        rules.append(_sld_rule(f"{breaks[i]:g} - {breaks[i + 1]:g} beds",
                               _ogc_range("beds", breaks[i], breaks[i + 1], i == n - 1), sym))
    return _sld("flows", rules)


def sld_hubs() -> str:
    sym = ET.Element(_q("se", "PolygonSymbolizer"))
    stroke = ET.SubElement(sym, _q("se", "Stroke"))
    _sld_param(stroke, "SvgParameter", "stroke", HUB_COLOR)
    _sld_param(stroke, "SvgParameter", "stroke-width", "3.4")
    return _sld("hubs", [_sld_rule("Hub boundary", None, sym)])


def layer_styles(layers: Layers) -> dict[str, tuple[str, str, str]]:
    """Layer name -> (style name, QML, SLD) for each styled layer present."""
    out = {"sites": ("bedplan: sites by action", qml_sites(layers.sites.columns), sld_sites())}
    if layers.footprints is not None:
        out["footprints"] = ("bedplan: in-hub share", qml_footprints(layers.footprints.columns),
                             sld_footprints())
    breaks = flow_breaks(layers.flows["beds"]) if len(layers.flows) else [0.0, 1.0]
    out["flows"] = ("bedplan: beds placed", qml_flows(layers.flows.columns, breaks),
                    sld_flows(breaks))
    if layers.hubs is not None:
        out["hubs"] = ("bedplan: hub outlines", qml_hubs(layers.hubs.columns), sld_hubs())
    return out


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

_GEOMETRY_TYPES = {"sites": "Point", "flows": "LineString", "footprints": "MultiPolygon",
                   "hubs": "MultiPolygon"}
_DESCRIPTIONS = {
    "sites": "bedplan: secure units and candidate sites with the recommended action",
    "site_years": "bedplan: decisions per site and year (join to sites on site)",
    "footprints": "bedplan: footprint KPIs of the recommended configuration",
    "flows": "bedplan: beds placed from each footprint at each site, by year",
    "hubs": "bedplan: hubs (footprints dissolved) with totals",
}


def _write(frame: pd.DataFrame, path: Path, layer: str, driver: str, **kwargs: Any) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver,
                                geometry_type=_GEOMETRY_TYPES.get(layer), **kwargs)
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer, driver=driver, **kwargs)


def write_geopackage(layers: Layers, path: Path) -> Path:
    """Write every layer and its default QGIS style into one GeoPackage (EPSG:27700)."""
    if path.exists():
        raise FileExistsError(path)
    bng = layers if layers.sites.crs.to_epsg() == BNG else layers.to_crs(BNG)
    for name, frame in bng.tables().items():
        description = f"{_DESCRIPTIONS[name]}. {ATTRIBUTION}"
        _write(frame, path, name, "GPKG", layer_options={"DESCRIPTION": description})
    geometry_columns = {name: pyogrio.read_info(path, layer=name).get("geometry_name") or "geom"
                        for name in bng.spatial()}
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(microsecond=0))
    rows = []
    for name, (style_name, qml, sld) in layer_styles(bng).items():
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": geometry_columns[name], "styleName": style_name,
                     "styleQML": qml, "styleSLD": sld, "useAsDefault": True,
                     "description": f"bedplan default style for {name}", "owner": "", "ui": "",
                     "update_time": now})
    # the layer QGIS itself creates when saving a style: same columns, FID column "id"
    pyogrio.write_dataframe(pd.DataFrame(rows), path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})
    return path


def write_gis_outputs(out: Path, inputs, result) -> None:
    """The run's GIS files: configuration.gpkg, map.png and map.html (from the CSVs in `out`).

    A failure here is logged and recorded in the manifest's warnings; it never loses the run.
    """
    scenario = inputs.scenario
    warnings = result.manifest.setdefault("warnings", [])
    try:
        layers = build_layers(scenario, RunTables.read(out))
    except Exception as exc:  # GIS outputs are an extra: never lose the run
        log.exception("GIS layers not written")
        warnings.append(f"GIS outputs not written: {exc}")
        return
    warnings.extend(layers.warnings)
    steps = [("configuration.gpkg", lambda: write_geopackage(layers, out / GPKG_FILE))]
    from model import maps

    steps.append(("map.png", lambda: maps.render_png(layers, out / "map.png")))
    steps.append(("map.html", lambda: maps.render_html(layers, out / "map.html")))
    for name, step in steps:
        try:
            step()
        except Exception as exc:
            log.exception("%s not written", name)
            warnings.append(f"{name} not written: {exc}")
            (out / name).unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Re-export of an existing run
# --------------------------------------------------------------------------------------------

def shapefile_names(columns: Iterable[str], limit: int = SHAPEFILE_FIELD_CHARS) -> dict[str, str]:
    """Original -> shapefile field name (at most `limit` characters, unique ignoring case,
    starting with a letter).

    Deterministic: names that fit are kept (and reserved first); a longer name has its words
    abbreviated from a fixed table one at a time, last word first, until it fits; failing
    that its underscores are dropped, then it is cut, and a clash gets a number, in column
    order.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    columns = [c for c in columns if c != "geometry"]
    for col in columns:
        if len(col) <= limit and col[:1].isalpha() and col.lower() not in taken:
            out[col] = col
            taken.add(col.lower())
    for col in columns:
        if col in out:
            continue
        words = [w for w in col.split("_") if w] or ["field"]
        candidates = []
        for i in range(len(words) - 1, -1, -1):
            words[i] = _ABBREVIATIONS.get(words[i], words[i])
            candidates.append("_".join(words))
        candidates += ["".join(words), "".join(words)[:limit]]
        candidates = [c if c[:1].isalpha() else "f" + c for c in candidates]
        name = next((c for c in candidates if len(c) <= limit and c.lower() not in taken), None)
        if name is None:
            stem = candidates[-1]
            for i in range(1, 10 ** (limit - 1)):
                suffix = str(i)
                name = stem[: limit - len(suffix)] + suffix
                if name.lower() not in taken:
                    break
        out[col] = name
        taken.add(name.lower())
    return {col: out[col] for col in columns}


_ABBREVIATIONS = {
    "wards": "wd", "beds": "bd", "base": "b", "final": "f", "before": "pre", "after": "post",
    "year": "yr", "medium": "med", "high": "hi", "community": "com", "share": "shr",
    "baseline": "bl", "discharges": "dis", "delayed": "del", "places": "pl", "patient": "pt",
    "footprint": "fp", "footprints": "fps", "name": "nm", "action": "act", "demand": "dem",
    "placed": "plc", "unmet": "unm", "occupied": "occ", "first": "frst", "change": "chg",
    "changes": "chgs", "population": "pop", "carbon": "co2",
}


def find_scenario_folder(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """The scenario folder of a run: as recorded, relative to the working directory, or to
    the folders above the run folder (runs/<scenario>/<run-id> sits under the project)."""
    recorded = Path(manifest.get("scenario_folder", ""))
    candidates = [recorded] if recorded.is_absolute() else [
        Path.cwd() / recorded, *[parent / recorded for parent in run_dir.resolve().parents]]
    for folder in candidates:
        if (folder / "scenario.yaml").exists():
            return folder
    raise ScenarioError([Problem(str(run_dir / MANIFEST), None, "scenario_folder", str(recorded),
                                 "scenario folder not found (give it with --scenario)")])


def _read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    if not path.exists():
        raise ScenarioError([Problem(str(run_dir), None, None, None,
                                     f"not a complete run folder (no {MANIFEST})")])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError([Problem(str(path), exc.lineno, None, None,
                                     f"not valid JSON: {exc.msg}")]) from exc


def _files_for(fmt: str, layers: Layers, stem: str) -> list[str]:
    names = list(layers.tables())
    spatial = set(layers.spatial())
    if fmt == "gpkg":
        return [f"{stem}.gpkg", "README.txt"]
    if fmt == "geojson":
        return [f"{n}.geojson" if n in spatial else f"{n}.csv" for n in names] + ["README.txt"]
    if fmt == "csv":
        return [f"{n}.csv" for n in names] + ["README.txt"]
    files = []
    for n in names:
        exts = (".shp", ".shx", ".dbf", ".prj", ".cpg") if n in spatial else (".dbf", ".cpg")
        files += [n + ext for ext in exts]
    return files + ["fields.csv", "README.txt"]


def export_run(run_dir: str | Path, fmt: str = "gpkg", year: int | None = None,
               output: str | Path | None = None, scenario: str | Path | None = None) -> list[Path]:
    """Re-export a run folder's recommended configuration; returns the files written.

    Raises ScenarioError (exit code 2) for a bad run folder, format or year, or when any file
    it would write exists already (nothing is overwritten).
    """
    run_dir = Path(run_dir)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ScenarioError([Problem("--format", None, "format", fmt,
                                     f"unknown format (choose one of {', '.join(FORMATS)})")])
    manifest = _read_manifest(run_dir)
    tables = RunTables.read(run_dir)
    folder = Path(scenario) if scenario else find_scenario_folder(run_dir, manifest)
    data = load_scenario(folder)
    recorded = manifest.get("input_sha256", {})
    changed = sorted(k for k, v in data.file_hashes().items() if k in recorded and recorded[k] != v)
    layers = build_layers(data, tables, year)
    if changed:
        message = (f"the scenario's files changed since the run ({', '.join(changed)}): site and "
                   "footprint attributes come from the files as they are now")
        log.warning(message)
        layers.warnings.append(message)
    suffix = f"-{year}" if year is not None else ""
    target = Path(output) if output else run_dir / "exports" / f"{fmt}{suffix}"
    stem = f"configuration{suffix}"
    files = _files_for(fmt, layers, stem)
    clashes = [f for f in files if (target / f).exists()]
    if clashes:
        raise ScenarioError([Problem(str(target), None, None, ", ".join(clashes),
                                     "export files exist already; nothing is overwritten "
                                     "(remove them or choose another --output)")])
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target) as tmp:
        staging = Path(tmp)
        renames = _write_format(fmt, layers, staging, stem)
        (staging / "README.txt").write_text(_readme(fmt, layers, manifest, run_dir, renames),
                                            encoding="utf-8")
        written = []
        for name in files:
            src = staging / name
            if not src.exists():
                continue
            dst = target / name
            if dst.exists():  # appeared meanwhile: still never overwrite
                raise ScenarioError([Problem(str(dst), None, None, None,
                                             "exists already; export refuses to overwrite")])
            shutil.move(str(src), dst)
            written.append(dst)
    return written


def _write_format(fmt: str, layers: Layers, folder: Path, stem: str) -> dict[str, dict[str, str]]:
    if fmt == "gpkg":
        write_geopackage(layers, folder / f"{stem}.gpkg")
        return {}
    if fmt == "geojson":
        wgs = layers.to_crs(WGS84)
        for name, frame in wgs.tables().items():
            if isinstance(frame, gpd.GeoDataFrame):
                _write(frame, folder / f"{name}.geojson", name, "GeoJSON",
                       layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
            else:
                frame.to_csv(folder / f"{name}.csv", index=False)
        return {}
    if fmt == "csv":
        for name, frame in csv_tables(layers).items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        return {}
    renames: dict[str, dict[str, str]] = {}
    rows = []
    for name, frame in layers.tables().items():
        mapping = shapefile_names(frame.columns)
        renames[name] = mapping
        for original, short in mapping.items():
            rows.append({"layer": name, "field": original, "shapefile_field": short,
                         "renamed": original != short,
                         "description": describe_field(original, name)})
        renamed = frame.rename(columns=mapping)
        _write(renamed, folder / (f"{name}.shp" if name in layers.spatial() else f"{name}.dbf"),
               name, "ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
    pd.DataFrame(rows).to_csv(folder / "fields.csv", index=False)
    return renames


def csv_tables(layers: Layers) -> dict[str, pd.DataFrame]:
    """The layers as plain tables: geometry as WKT in WGS84 (EPSG:4326, lon lat order)."""
    wgs = layers.to_crs(WGS84)
    out = {}
    for name, frame in wgs.tables().items():
        if isinstance(frame, gpd.GeoDataFrame):
            table = pd.DataFrame(frame.drop(columns="geometry"))
            if name == "flows" and len(frame):
                coords = [list(g.coords) for g in frame.geometry]
                table["from_lon"] = [c[0][0] for c in coords]
                table["from_lat"] = [c[0][1] for c in coords]
                table["to_lon"] = [c[-1][0] for c in coords]
                table["to_lat"] = [c[-1][1] for c in coords]
            table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7,
                                          trim=True)
            out[name] = table
        else:
            out[name] = frame
    return out


def _readme(fmt: str, layers: Layers, manifest: dict[str, Any], run_dir: Path,
            renames: dict[str, dict[str, str]]) -> str:
    crs = {"gpkg": "British National Grid (EPSG:27700)",
           "geojson": "WGS84 longitude/latitude (EPSG:4326, RFC 7946)",
           "shapefile": "British National Grid (EPSG:27700; see the .prj files)",
           "csv": "WGS84 longitude/latitude (EPSG:4326): WKT in column `wkt`, lon/lat columns"}[fmt]
    lines = [
        f"bedplan export: {layers.scenario}, run {manifest.get('run_id', run_dir.name)}",
        f"Format: {fmt}. Coordinates: {crs}.",
        "Recommended configuration (case 'optimised'); baseline = do nothing.",
        ("Years: all " f"{layers.years[0]}-{layers.years[-1]}" if layers.year is None
         else f"Year: {layers.year} (flows, site wards and KPIs of that year)"),
        "",
        ATTRIBUTION,
        "",
    ]
    if fmt == "shapefile":
        lines += ["Shapefile field names are limited to 10 characters: fields.csv lists every "
                  "layer's original and shapefile field names.", ""]
    if fmt == "geojson":
        lines += ["site_years has no geometry: it is site_years.csv (join to sites on `site`).",
                  ""]
    for warning in layers.warnings:
        lines.append(f"Note: {warning}")
    if layers.warnings:
        lines.append("")
    for name, frame in layers.tables().items():
        lines.append(f"## {name}: {_DESCRIPTIONS[name].removeprefix('bedplan: ')} "
                     f"({len(frame)} rows)")
        short = renames.get(name, {})
        for col in frame.columns:
            if col == "geometry":
                continue
            shown = f"{col} (shapefile: {short[col]})" if short.get(col, col) != col else col
            lines.append(f"- {shown}: {describe_field(col, name)}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["ACTION_STYLES", "ATTRIBUTION", "FORMATS", "GPKG_FILE", "Layers", "RunTables",
           "SHARE_CLASSES", "build_layers", "export_run", "layer_styles", "shapefile_names",
           "write_geopackage", "write_gis_outputs"]
