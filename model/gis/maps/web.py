"""``map.html``: an interactive web map of the recommended configuration that works with no
network: footprints shaded by the share of need placed in the home hub, hub boundaries, sites
marked by their action, flows of each year, and each site's decisions by year on hover.

Drawn with Plotly in British National Grid metres (the layers' own CRS), so no map tiles are
needed; plotly.js is written into the file from the Plotly package (which ships it), so the
page loads nothing from the internet: NHS networks often block content delivery networks. The
legend is the layer control: click an entry to hide or show it; the flows of every year are
there, the final (or selected) year shown.
"""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from model.gis.layers import Layers
from model.gis.maps.captions import map_summary, map_title, present_actions
from model.gis.styles import (
    ACTION_STYLES,
    ATTRIBUTION,
    FLOW_COLOR,
    FLOW_WIDTHS_MM,
    HUB_COLOR,
    SHARE_CLASSES,
    flow_breaks,
    share_color,
)
from model.gis.tables import BNG

# Plotly marker symbols for the matplotlib markers of the shared styles
_SYMBOLS = {"o": "circle", "^": "triangle-up", "v": "triangle-down", "D": "diamond", "*": "star",
            "X": "x"}
# the ids the traces are drawn with (Plotly puts them in each trace's class, which the browser
# test counts)
FOOTPRINT_UID, HUB_UID, SITE_UID, FLOW_UID = "fp", "hub", "site", "flow"


def render_html(layers: Layers, path: Path) -> Path:
    """A self-contained interactive map: plotly.js inline, nothing fetched when opened."""
    import plotly.graph_objects as go

    bng = layers if layers.sites.crs.to_epsg() == BNG else layers.to_crs(BNG)
    fig = go.Figure()
    if bng.footprints is not None:
        _add_footprints(fig, bng.footprints)
    if bng.hubs is not None:
        _add_hubs(fig, bng.hubs)
    _add_flows(fig, bng)
    _add_sites(fig, bng)
    _layout(fig, bng)
    path = Path(path)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True,
                   config={"displaylogo": False, "scrollZoom": True, "responsive": True},
                   div_id="bedplan-map")
    return path


def _rings(geom) -> tuple[list[float | None], list[float | None]]:
    """x and y of every exterior ring of a (multi)polygon, rings separated by None."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for poly in getattr(geom, "geoms", [geom]):
        ring = np.asarray(shapely.get_coordinates(poly.exterior))
        xs += ring[:, 0].round(0).tolist() + [None]
        ys += ring[:, 1].round(0).tolist() + [None]
    return xs, ys


def _add_footprints(fig, footprints: gpd.GeoDataFrame) -> None:
    import plotly.graph_objects as go

    group = "Footprints: share placed in home hub"
    for i, fp in enumerate(footprints.itertuples(index=False)):
        xs, ys = _rings(fp.geometry)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", fill="toself", fillcolor=share_color(fp.in_hub_share),
            line={"color": "#ffffff", "width": 1}, opacity=0.8, hoveron="fills",
            hoverinfo="text", text=_footprint_tip(fp), name=group, legendgroup="footprints",
            showlegend=i == 0, uid=f"{FOOTPRINT_UID}{i}"))
    for cls in reversed(SHARE_CLASSES):  # legend entries for the colour classes
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=f"in home hub: {cls.label}",
            marker={"symbol": "square", "size": 12, "color": cls.color,
                    "line": {"color": "#999999", "width": 1}},
            legendgroup="footprints", hoverinfo="skip"))


def _footprint_tip(fp) -> str:
    e = html.escape
    return (f"<b>{e(str(fp.name))}</b> ({e(str(fp.footprint))}), hub {e(str(fp.hub))}<br>"
            f"placed in home hub {fp.in_hub_share:.1%} (doing nothing "
            f"{fp.in_hub_share_baseline:.1%})<br>demand {fp.demand_beds:,.1f} bed-years; "
            f"unmet {fp.unmet_beds:,.1f}<br>mean {fp.mean_km:,.1f} km, farthest "
            f"{fp.max_km:,.1f} km<br>delayed discharges {fp.delayed_discharges:,.1f}")


def _add_hubs(fig, hubs: gpd.GeoDataFrame) -> None:
    import plotly.graph_objects as go

    for i, hub in enumerate(hubs.itertuples(index=False)):
        xs, ys = _rings(hub.geometry)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", line={"color": HUB_COLOR, "width": 2.5},
            hoverinfo="text", text=f"Hub: {html.escape(str(hub.name))}", name="Hub boundaries",
            legendgroup="hubs", showlegend=i == 0, uid=f"{HUB_UID}{i}"))


def _add_flows(fig, layers: Layers) -> None:
    """Per year, one line trace per width class and one of invisible midpoints carrying each
    flow's tooltip (a line's own hover would only show at its vertices)."""
    import plotly.graph_objects as go

    flows = layers.flows
    if not len(flows):
        return
    breaks = flow_breaks(flows["beds"])
    final = layers.year if layers.year is not None else layers.years[-1]
    for year in sorted(flows["year"].unique()):
        rows = flows[flows["year"] == year]
        visible = True if year == final else "legendonly"
        group, name = f"flows{year}", f"Flows {year} (beds placed)"
        cls = np.clip(np.searchsorted(breaks, rows["beds"].to_numpy(), side="left") - 1, 0,
                      len(breaks) - 2)
        for k in sorted(set(cls.tolist())):
            part = rows[cls == k]
            xs: list[float | None] = []
            ys: list[float | None] = []
            for geom in part.geometry:
                coords = shapely.get_coordinates(geom)
                xs += coords[:, 0].round(0).tolist() + [None]
                ys += coords[:, 1].round(0).tolist() + [None]
            width = 1.0 + 2.2 * FLOW_WIDTHS_MM[min(k, len(FLOW_WIDTHS_MM) - 1)]
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": FLOW_COLOR, "width": width},
                opacity=0.55, hoverinfo="skip", name=name, legendgroup=group,
                showlegend=k == min(cls.tolist()), visible=visible, uid=f"{FLOW_UID}{year}w{k}"))
        mids = [geom.interpolate(0.5, normalized=True) for geom in rows.geometry]
        tips = [_flow_tip(r, year) for r in rows.itertuples(index=False)]
        fig.add_trace(go.Scatter(
            x=[p.x for p in mids], y=[p.y for p in mids], mode="markers",
            marker={"size": 10, "opacity": 0}, hoverinfo="text", text=tips, name=name,
            legendgroup=group, showlegend=False, visible=visible, uid=f"tip{year}"))


def _flow_tip(r, year: int) -> str:
    e = html.escape
    return (f"{e(str(r.footprint_name))} → {e(str(r.site_name))}, {year}: {r.beds:.1f} beds, "
            f"{r.km:.0f} km" + ("" if r.in_hub else " (out of hub)"))


def _add_sites(fig, layers: Layers) -> None:
    import plotly.graph_objects as go

    by_site = {s: g for s, g in layers.site_years.groupby("site")} if len(layers.site_years) else {}
    empty = layers.site_years.iloc[0:0]
    for action in present_actions(layers.sites):
        style = ACTION_STYLES[action]
        sites = layers.sites[layers.sites["action"] == action]
        tips = [_site_tip(site, by_site.get(site["site"], empty), layers.services)
                for _, site in sites.iterrows()]
        fig.add_trace(go.Scatter(
            x=sites.geometry.x.round(0), y=sites.geometry.y.round(0), mode="markers",
            marker={"symbol": _SYMBOLS.get(style.mpl_marker, "circle"), "color": style.color,
                    "size": 4 * style.size_mm, "line": {"color": style.outline, "width": 1.2}},
            hoverinfo="text", text=tips, name=f"Sites: {style.label}", legendgroup="sites",
            legendgrouptitle={"text": "Sites by action over the plan"}, uid=f"{SITE_UID}{action}"))


def _site_tip(site: pd.Series, years: pd.DataFrame, services: list[str]) -> str:
    """Hover text: who runs the site, the plan's action, and the wards (beds) per service
    after each year's changes."""
    e = html.escape
    head = (f"<b>{e(str(site['name']))}</b> ({e(str(site['site']))})<br>"
            f"{e(str(site['provider']) or '—')}, {e(str(site['sector']))}; {e(str(site['status']))}"
            f"<br>Hub {e(str(site['hub']))}, footprint {e(str(site['footprint']))}<br>"
            f"Plan: <b>{e(ACTION_STYLES[site['action']].label)}</b>; beds "
            f"{int(site['beds_base'])} → {int(site['beds_final'])}")
    if years.empty:
        return head + "<br><i>Not used in any year of the plan.</i>"
    lines = []
    for r in years.sort_values("year").itertuples(index=False):
        d = r._asdict()
        cells = ", ".join(f"{e(v)} {d[f'wards_after_{v}']} ({d[f'beds_after_{v}']})"
                          for v in services if d[f"wards_after_{v}"] or d[f"beds_after_{v}"])
        lines.append(f"{d['year']}: <b>{e(d['action'])}</b> — {cells or 'no wards'}; "
                     f"occupied {d['occupied_beds']:.1f}")
    return (head + "<br>Wards (beds) per service after each year's changes:<br>"
            + "<br>".join(lines))


def _layout(fig, layers: Layers) -> None:
    title = (f"<b>{html.escape(map_title(layers))}</b><br><span style='font-size:12px'>"
             f"{html.escape(map_summary(layers))}</span>")
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white", hovermode="closest", dragmode="pan",
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1},
        legend={"title": {"text": "Layers (click to hide or show)"}, "groupclick": "toggleitem",
                "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#999999", "borderwidth": 1},
        margin={"l": 10, "r": 10, "t": 90, "b": 40}, height=860,
        hoverlabel={"align": "left", "bgcolor": "white", "font": {"size": 12}},
        annotations=[{"text": html.escape(ATTRIBUTION) + " Coordinates: British National Grid.",
                      "xref": "paper", "yref": "paper", "x": 0, "y": -0.03, "showarrow": False,
                      "xanchor": "left", "font": {"size": 10, "color": "#444444"}}])
