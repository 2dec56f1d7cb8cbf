"""The polygon layers: footprints with the KPIs of the recommended case and the do-nothing
baseline, and hubs (their footprints dissolved) with the hub totals."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from model.data import ScenarioData
from model.gis.tables import BASELINE, BNG, CASE, RunTables, scenario_table


def _kpi(tables: RunTables, scope: str, period: str, case: str = CASE) -> pd.DataFrame:
    k = tables.kpis
    sel = k[(k["case"] == case) & (k["scope"] == scope) & (k["year"] == period)]
    return sel.set_index("id")


def _polygonal(geom: BaseGeometry | None) -> MultiPolygon:
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


def build_footprints(scenario: ScenarioData, tables: RunTables, year: int | None) -> gpd.GeoDataFrame:
    """Each footprint's polygon with its KPIs over the plan (or in `year`) and the baseline's."""
    period = "all" if year is None else str(year)
    fps = scenario_table(scenario, "footprints").set_index("footprint")
    hub_names = scenario_table(scenario, "hubs").set_index("hub")["name"].to_dict()
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


def build_hubs(scenario: ScenarioData, tables: RunTables, footprints: gpd.GeoDataFrame,
          sites: gpd.GeoDataFrame, year: int | None) -> gpd.GeoDataFrame:
    """Each hub with footprints: their polygons dissolved, the hub KPIs and its sites' totals."""
    period = "all" if year is None else str(year)
    kpi = _kpi(tables, "hub", period)
    base = _kpi(tables, "hub", period, BASELINE)
    hubs = scenario_table(scenario, "hubs").set_index("hub")
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

