"""The layers of a run's recommended configuration, built from its result tables and its
scenario, in British National Grid: sites (points), site_years (a table), flows (lines),
and, when the scenario has footprint polygons, footprints and hubs (see :mod:`.areas`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from model.data import ScenarioData
from model.errors import Problem, ScenarioError
from model.gis.areas import build_footprints, build_hubs
from model.gis.tables import BNG, RunTables, bng_points, scenario_table

# the package's messages keep the logger name the CLI prints and log filters match
log = logging.getLogger("model.gis")

LAYER_ORDER = ("sites", "site_years", "footprints", "flows", "hubs")


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
        def conv(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
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
    services_table = scenario_table(scenario, "services")
    hosted = set(scenario_table(scenario, "site_services")["service"])
    # inpatient services some site may host: the ones decisions.csv has columns for
    services = [v for v in services_table["service"]
                if services_table.set_index("service").at[v, "level"] != "community" and v in hosted]
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
        layers.footprints = build_footprints(scenario, tables, year)
        layers.hubs = build_hubs(scenario, tables, layers.footprints, layers.sites, year)
    return layers


def _wards_cols(prefix: str, services: list[str]) -> list[str]:
    return [f"{prefix}_{v}" for v in services]


def _sites(scenario: ScenarioData, tables: RunTables, services: list[str], years: list[int],
           year: int | None) -> gpd.GeoDataFrame:
    from model.results import classify

    sites = scenario_table(scenario, "sites").set_index("site")
    fp_hub = scenario_table(scenario, "footprints").set_index("footprint")["hub"].to_dict()
    bpw = scenario_table(scenario, "services").set_index("service")["beds_per_ward"].to_dict()
    existing = {(r.site, r.service): int(r.wards)
                for r in scenario_table(scenario, "site_services").itertuples()}
    dec = tables.decisions
    wards = tables.wards
    last = years[-1]
    # each site's rows split off once (a filter of both tables per site took about 0.5 s for
    # England's 137 sites)
    dec_of = {s: frame.sort_values("year") for s, frame in dec.groupby("site", sort=False)}
    wards_of = {s: frame for s, frame in wards.groupby("site", sort=False)}
    rows = []
    for s in sites.index:
        site_dec = dec_of.get(s, dec.iloc[:0])
        site_wards = wards_of.get(s, wards.iloc[:0])
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
            "changes": "; ".join(f"{int(y)} {a}" for y, a in zip(changed["year"], changed["action"],
                                                                  strict=True)),
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
    return gpd.GeoDataFrame(frame, geometry=bng_points(frame["lon"], frame["lat"]).values, crs=BNG)


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
    fps = scenario_table(scenario, "footprints").set_index("footprint")
    sites = scenario_table(scenario, "sites").set_index("site")
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
    start = bng_points(fps.loc[frame["footprint"], "lon"], fps.loc[frame["footprint"], "lat"])
    end = bng_points(sites.loc[frame["site"], "lon"], sites.loc[frame["site"], "lat"])
    lines = []
    for a, b in zip(start, end, strict=True):
        if a.distance(b) < 1.0:  # a site at the reference point: a 1 m stub keeps the line valid
            b = Point(b.x, b.y + 1.0)
        lines.append(LineString([a, b]))
    return gpd.GeoDataFrame(frame, geometry=lines, crs=BNG)
