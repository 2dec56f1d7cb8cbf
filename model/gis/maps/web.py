"""``map.html``: an interactive web map of the recommended configuration (folium/Leaflet) with
a layer control, per-footprint tooltips and per-site decision popups.

Nothing is fetched while writing: the page references tile and Leaflet URLs that the browser
loads when it is opened. folium is imported only while writing, so importing the GIS package
stays quick.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from model.gis.layers import Layers
from model.gis.maps.captions import map_summary, map_title, present_actions
from model.gis.styles import ACTION_STYLES, ATTRIBUTION, FLOW_COLOR, HUB_COLOR, SHARE_CLASSES, share_color
from model.gis.tables import WGS84

if TYPE_CHECKING:
    import folium


def render_html(layers: Layers, path: Path) -> Path:
    """An interactive web map with a layer control and per-site decision popups."""
    import folium

    wgs = layers if layers.sites.crs.to_epsg() == WGS84 else layers.to_crs(WGS84)
    bounds = _bounds(wgs)
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=7, tiles=None, control_scale=True)
    folium.TileLayer("openstreetmap", name="OpenStreetMap").add_to(m)
    if wgs.footprints is not None:
        _footprint_group(wgs.footprints).add_to(m)
    if wgs.hubs is not None:
        _hub_group(wgs.hubs).add_to(m)
    for group in _flow_groups(wgs):
        group.add_to(m)
    _site_group(wgs).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    root = m.get_root()
    root.html.add_child(folium.Element(_title_html(wgs)))
    root.html.add_child(folium.Element(_legend_html(wgs)))
    m.fit_bounds(bounds)
    path = Path(path)
    m.save(str(path))
    return path


def _bounds(layers: Layers) -> list[list[float]]:
    """[[south, west], [north, east]] of the sites and footprints."""
    frames = [layers.sites]
    if layers.footprints is not None:
        frames.append(layers.footprints)
    xmin, ymin, xmax, ymax = np.array([f.total_bounds for f in frames]).T
    return [[float(ymin.min()), float(xmin.min())], [float(ymax.max()), float(xmax.max())]]


def _footprint_group(footprints: gpd.GeoDataFrame) -> folium.FeatureGroup:
    import folium

    fps = footprints.copy()
    fps["share_pct"] = (fps["in_hub_share"] * 100).round(1)
    fps["share_base_pct"] = (fps["in_hub_share_baseline"] * 100).round(1)
    for col in ("mean_km", "max_km", "unmet_beds", "delayed_discharges", "demand_beds"):
        fps[col] = fps[col].round(1)
    keep = ["footprint", "name", "hub", "share_pct", "share_base_pct", "demand_beds",
            "mean_km", "max_km", "unmet_beds", "delayed_discharges", "in_hub_share",
            "geometry"]
    data = json.loads(fps[keep].to_json(na="null", drop_id=True))
    group = folium.FeatureGroup(name="Footprints: share placed in home hub", show=True)
    folium.GeoJson(
        data,
        style_function=lambda f: {"fillColor": share_color(f["properties"]["in_hub_share"]),
                                  "color": "#ffffff", "weight": 1, "fillOpacity": 0.7},
        highlight_function=lambda f: {"weight": 3, "color": "#555555"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "hub", "share_pct", "share_base_pct", "demand_beds", "mean_km",
                    "max_km", "unmet_beds", "delayed_discharges"],
            aliases=["Footprint", "Hub", "Placed in hub (%)", "Do nothing (%)",
                     "Demand (bed-years)", "Mean km", "Max km", "Unmet (bed-years)",
                     "Delayed discharges"]),
    ).add_to(group)
    return group


def _hub_group(hubs: gpd.GeoDataFrame) -> folium.FeatureGroup:
    import folium

    group = folium.FeatureGroup(name="Hub boundaries", show=True)
    folium.GeoJson(
        json.loads(hubs[["hub", "name", "geometry"]].to_json(na="null", drop_id=True)),
        style_function=lambda f: {"color": HUB_COLOR, "weight": 3, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Hub"]),
    ).add_to(group)
    return group


def _flow_groups(layers: Layers) -> list[folium.FeatureGroup]:
    """One layer of flow lines per year, the selected or final year shown."""
    import folium

    if not len(layers.flows):
        return []
    max_beds = float(layers.flows["beds"].max())
    final = layers.year if layers.year is not None else layers.years[-1]
    groups = []
    for year in sorted(layers.flows["year"].unique()):
        group = folium.FeatureGroup(name=f"Flows {year} (beds placed)", show=year == final)
        for r in layers.flows[layers.flows["year"] == year].itertuples():
            coords = [(lat, lon) for lon, lat in r.geometry.coords]
            tip = (f"{html.escape(r.footprint_name)} → {html.escape(r.site_name)}, {year}: "
                   f"{r.beds:.1f} beds, {r.km:.0f} km" + ("" if r.in_hub else " (out of hub)"))
            folium.PolyLine(coords, color=FLOW_COLOR, opacity=0.55,
                            weight=1 + 9 * r.beds / max(max_beds, 1e-9),
                            tooltip=tip).add_to(group)
        groups.append(group)
    return groups


def _site_group(layers: Layers) -> folium.FeatureGroup:
    import folium

    group = folium.FeatureGroup(name="Sites by action", show=True)
    by_site = {s: g for s, g in layers.site_years.groupby("site")} if len(layers.site_years) else {}
    empty = layers.site_years.iloc[0:0]
    for _, site in layers.sites.iterrows():
        popup = _site_popup(site, by_site.get(site["site"], empty), layers.services)
        folium.Marker(
            location=(site.geometry.y, site.geometry.x),
            icon=folium.DivIcon(html=_svg(site["action"], 22), icon_size=(22, 22),
                                icon_anchor=(11, 11)),
            tooltip=f"{html.escape(str(site['name']))}: {site['action']}",
            popup=folium.Popup(popup, max_width=480),
        ).add_to(group)
    return group


def _title_html(layers: Layers) -> str:
    return (f"<div style='position:fixed;top:10px;left:60px;z-index:9999;background:white;"
            f"padding:6px 10px;border:1px solid #999;border-radius:4px;font:bold 15px "
            f"sans-serif'>{html.escape(map_title(layers))}<div style='font-weight:normal;"
            f"font-size:12px'>{html.escape(map_summary(layers))}</div></div>")


_SVG_SHAPES = {
    "circle": '<circle cx="12" cy="12" r="{r}" />',
    "^": '<polygon points="12,{t} {l},{b} {rr},{b}" />',
    "v": '<polygon points="12,{b} {l},{t} {rr},{t}" />',
    "D": '<polygon points="12,{t} {rr},12 12,{b} {l},12" />',
    "*": ('<polygon points="12,2 14.6,9 22,9 16,13.6 18.3,21 12,16.5 5.7,21 8,13.6 2,9 9.4,9" />'),
    "X": ('<polygon points="6,4 12,10 18,4 20,6 14,12 20,18 18,20 12,14 6,20 4,18 10,12 4,6" />'),
}


def _svg(action: str, px: int = 20) -> str:
    style = ACTION_STYLES[action]
    scale = style.size_mm / 4.2
    r = 9 * scale
    t, b = 12 - 9 * scale, 12 + 8 * scale
    left, right = 12 - 9 * scale, 12 + 9 * scale
    shape = _SVG_SHAPES.get(style.mpl_marker if style.mpl_marker != "o" else "circle")
    body = shape.format(r=f"{r:.1f}", t=f"{t:.1f}", b=f"{b:.1f}", l=f"{left:.1f}",
                        rr=f"{right:.1f}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" '
            f'viewBox="0 0 24 24"><g fill="{style.color}" stroke="{style.outline}" '
            f'stroke-width="1.4">{body}</g></svg>')


def _site_popup(site: pd.Series, years: pd.DataFrame, services: list[str]) -> str:
    e = html.escape
    head = (f"<b>{e(str(site['name']))}</b> ({e(str(site['site']))})<br>"
            f"{e(str(site['provider']) or '—')}, {e(str(site['sector']))}; {e(str(site['status']))}"
            f"<br>Hub {e(str(site['hub']))}, footprint {e(str(site['footprint']))}<br>"
            f"Plan: <b>{e(ACTION_STYLES[site['action']].label)}</b>; beds "
            f"{int(site['beds_base'])} → {int(site['beds_final'])}")
    if years.empty:
        return head + "<br><i>Not used in any year of the plan.</i>"
    cols = "".join(f"<th>{e(v)}</th>" for v in services)
    rows = []
    for r in years.sort_values("year").itertuples(index=False):
        d = r._asdict()
        cells = "".join(
            f"<td>{d[f'wards_after_{v}']} ({d[f'beds_after_{v}']})</td>" for v in services)
        color = "#000" if d["action"] == "keep" else ACTION_STYLES.get(
            d["action"], ACTION_STYLES["keep"]).color
        rows.append(f"<tr><td>{d['year']}</td><td style='color:{color}'><b>{e(d['action'])}</b>"
                    f"</td>{cells}<td>{d['occupied_beds']:.1f}</td></tr>")
    table = ("<table style='border-collapse:collapse;font-size:12px' border='1' cellpadding='3'>"
             f"<tr><th>year</th><th>action</th>{cols}<th>occupied</th></tr>"
             + "".join(rows) + "</table><small>wards (beds) per service after each year's "
             "changes</small>")
    return head + "<br>" + table


def _legend_html(layers: Layers) -> str:
    actions = present_actions(layers.sites)
    items = "".join(
        f"<div style='display:flex;align-items:center;gap:6px'>{_svg(a, 16)}"
        f"<span>{html.escape(ACTION_STYLES[a].label)}</span></div>" for a in actions)
    shares = ""
    if layers.footprints is not None:
        period = "all years" if layers.year is None else str(layers.year)
        shares = (f"<div style='margin-top:6px'><b>Placed in home hub ({period})</b></div>"
                  + "".join(
                      f"<div><span style='display:inline-block;width:14px;height:12px;"
                      f"background:{c.color};border:1px solid #999;margin-right:6px'></span>"
                      f"{html.escape(c.label)}</div>" for c in reversed(SHARE_CLASSES)))
    return (
        "<div style='position:fixed;bottom:28px;left:10px;z-index:9999;background:white;"
        "padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif;"
        "max-width:260px'>"
        f"<b>Site action over the plan</b>{items}{shares}"
        f"<div style='margin-top:6px;font-size:10px;color:#444'>{html.escape(ATTRIBUTION)}</div>"
        "</div>")
