"""Maps of the recommended configuration: a static ``map.png`` (matplotlib, Agg) and an
interactive ``map.html`` (folium/Leaflet).

Both use the symbology of :mod:`model.gis` (the QGIS styles): footprints shaded by the share
of need placed in the home hub, hub boundaries, sites marked by their action over the plan,
and carry the ONS/OS attribution. Nothing is fetched while writing: the web map references
tile and Leaflet URLs that the browser loads when the page is opened.
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from model.gis import (
    ACTION_STYLES,
    ATTRIBUTION,
    BNG,
    FLOW_COLOR,
    HUB_COLOR,
    SHARE_CLASSES,
    WGS84,
    Layers,
    share_color,
)

MM_TO_PT = 72 / 25.4


def _present_actions(sites: pd.DataFrame) -> list[str]:
    present = set(sites["action"])
    return [a for a in ACTION_STYLES if a in present]


def _title(layers: Layers) -> str:
    span = (f"{layers.years[0]}–{layers.years[-1]}" if layers.year is None
            else str(layers.year))
    return f"{layers.scenario}: recommended secure bed configuration, {span}"


def _summary(layers: Layers) -> str:
    sites = layers.sites[layers.sites["action"] != "not_used"]
    # a unit is kept only if no year changes it (the count summary.md and the terminal give)
    unchanged = sites["changes"].fillna("") == ""
    kept = int(unchanged.sum())
    counts = sites[~unchanged]["action"].value_counts()
    parts = [f"{counts[a]} {a.replace('_', ' ')}" for a in ACTION_STYLES if a in counts]
    text = (f"{int((~unchanged).sum())} change (over the plan: " + ", ".join(parts) + ")"
            if parts else "no changes")
    beds = (int(layers.sites["beds_base"].sum()), int(layers.sites["beds_final"].sum()))
    out = (f"Sites: {text}; {kept} kept as they are. "
           f"Beds {beds[0]:,} at the start → {beds[1]:,} in {layers.years[-1]}.")
    fps = layers.footprints
    if fps is not None and fps["need_beds"].sum() > 0:
        need = fps["need_beds"]
        share = (fps["in_hub_share"] * need).sum() / need.sum()
        base = (fps["in_hub_share_baseline"] * need).sum() / need.sum()
        period = "all years" if layers.year is None else str(layers.year)
        out += (f" Need placed in the home hub ({period}): {share:.0%}"
                f" (doing nothing: {base:.0%}).")
    return out


# --------------------------------------------------------------------------------------------
# map.png
# --------------------------------------------------------------------------------------------

def _extent(layers: Layers) -> tuple[float, float, float, float]:
    frames = [layers.sites.geometry]
    if layers.footprints is not None:
        frames.append(layers.footprints.geometry)
    elif len(layers.flows):
        frames.append(layers.flows.geometry)
    xmin, ymin, xmax, ymax = np.array([g.total_bounds for g in frames]).T
    bounds = [xmin.min(), ymin.min(), xmax.max(), ymax.max()]
    dx, dy = bounds[2] - bounds[0], bounds[3] - bounds[1]
    pad = 0.06 * max(dx, dy, 20_000.0)
    return bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad


def _label_point(polygon, obstacles: list[tuple[float, float]], half_width: float = 0.0,
                 grid: int = 24) -> tuple[float, float]:
    """A point inside `polygon` where a label `2 * half_width` wide keeps clear of the
    obstacles (sites, labels placed before) and of the polygon's edge: the best of a grid of
    candidates, scored by the smaller of the two distances along the label's width."""
    from shapely import contains_xy, distance, points

    x0, y0, x1, y1 = polygon.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, grid + 2)[1:-1], np.linspace(y0, y1, grid + 2)[1:-1])
    xs, ys = xs.ravel(), ys.ravel()
    inside = contains_xy(polygon, xs, ys)
    if not inside.any():
        pt = polygon.representative_point()
        return pt.x, pt.y
    xs, ys = xs[inside], ys[inside]
    score = distance(points(xs, ys), polygon.boundary) * 1.5
    offsets = np.linspace(-half_width, half_width, 5) if half_width > 0 else np.zeros(1)
    for dx in offsets:
        within = contains_xy(polygon, xs + dx, ys)
        score = np.where(within, score, score * 0.5)
        if obstacles:
            obs = np.asarray(obstacles)
            near = np.sqrt(((xs + dx)[:, None] - obs[None, :, 0]) ** 2
                           + ((ys[:, None] - obs[None, :, 1]) * 2.5) ** 2).min(axis=1)
            score = np.minimum(score, near)
    best = int(np.argmax(score))
    return float(xs[best]), float(ys[best])


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if step * 1000 >= target:
            return step * 1000.0
    return 1_000_000.0


def render_png(layers: Layers, path: Path, dpi: int = 150) -> Path:
    """A static map for boards and consultations (British National Grid)."""
    from matplotlib import patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    bng = layers if layers.sites.crs.to_epsg() == BNG else layers.to_crs(BNG)
    x0, y0, x1, y1 = _extent(bng)
    # keep the map's aspect within limits by widening the shorter side
    ratio = (y1 - y0) / (x1 - x0)
    if ratio > 1.45:
        grow = ((y1 - y0) / 1.45 - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    elif ratio < 0.7:
        grow = ((x1 - x0) * 0.7 - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    ratio = (y1 - y0) / (x1 - x0)
    fig_w = 13.0
    map_w_frac, map_h_frac, bottom = 0.64, 0.80, 0.07
    fig_h = fig_w * map_w_frac * ratio / map_h_frac
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.015, bottom, map_w_frac, map_h_frac))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_facecolor("#eef3f7")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#9e9e9e")
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]

    period = "all years" if bng.year is None else str(bng.year)
    # labels keep clear of the sites and their names (which sit up and right of them)
    per_point = (x1 - x0) / (fig_w * map_w_frac * 72)  # map units per typographic point
    obstacles = [(g.x, g.y) for g in bng.sites.geometry]
    if len(bng.sites) <= 40:
        obstacles += [(g.x + 0.06 * (x1 - x0), g.y + 0.01 * (y1 - y0))
                      for g in bng.sites.geometry]
    if bng.footprints is not None:
        fps = bng.footprints
        colors = [share_color(s) for s in fps["in_hub_share"]]
        fps.plot(ax=ax, color=colors, edgecolor="white", linewidth=0.9, zorder=1)
        if len(fps) <= 30:
            for row in fps.itertuples():
                x, y = _label_point(row.geometry, obstacles, len(row.name) * 7.5 * 0.3 * per_point)
                obstacles.append((x, y))
                label = (f"{row.name}\n{row.in_hub_share:.0%}"
                         if not math.isnan(row.in_hub_share) else row.name)
                ax.annotate(label, (x, y), fontsize=7.5, color="#333333",
                            style="italic", ha="center", va="center", zorder=3,
                            path_effects=[patheffects.withStroke(linewidth=2.2,
                                                                 foreground="white")])
    if bng.hubs is not None and len(bng.hubs):
        bng.hubs.boundary.plot(ax=ax, color=HUB_COLOR, linewidth=2.2, zorder=4)
    final_year = bng.year if bng.year is not None else bng.years[-1]
    flows = bng.flows[bng.flows["year"] == final_year] if len(bng.flows) else bng.flows
    max_beds = float(flows["beds"].max()) if len(flows) else 0.0
    if len(flows):
        widths = 0.5 + 4.0 * flows["beds"] / max(max_beds, 1e-9)
        flows.plot(ax=ax, color=FLOW_COLOR, linewidth=widths, alpha=0.45, zorder=5)
    if bng.footprints is None:  # no polygons: show the footprints' reference points instead
        refs = bng.flows.drop_duplicates("footprint") if len(bng.flows) else bng.flows
        if len(refs):
            starts = [g.coords[0] for g in refs.geometry]
            ax.scatter([p[0] for p in starts], [p[1] for p in starts], s=18, c="#737373",
                       marker="s", zorder=5)
    sites = bng.sites
    order = {"not_used": 0, "keep": 1}
    for action in sorted(_present_actions(sites), key=lambda a: order.get(a, 2)):
        style = ACTION_STYLES[action]
        sel = sites[sites["action"] == action]
        size = (style.size_mm * MM_TO_PT * 1.5) ** 2
        ax.scatter(sel.geometry.x, sel.geometry.y, s=size, marker=style.mpl_marker,
                   c=style.color, edgecolors=style.outline, linewidths=0.9,
                   zorder=7 + order.get(action, 2))
    if len(sites) <= 40:
        for row in sites.itertuples():
            ax.annotate(row.name, (row.geometry.x, row.geometry.y), xytext=(7, 5),
                        textcoords="offset points", fontsize=8.5, color="#111111", zorder=10,
                        path_effects=halo)
    if bng.hubs is not None and len(bng.hubs) > 1:
        for row in bng.hubs.itertuples():
            x, y = _label_point(row.geometry, obstacles, len(row.name) * 9 * 0.36 * per_point)
            obstacles.append((x, y))
            ax.annotate(row.name.upper(), (x, y), fontsize=9, weight="bold", color=HUB_COLOR,
                        ha="center", va="center", zorder=12, path_effects=halo)
    ax.set_xlabel("")  # geopandas labels the axes with the CRS's units
    ax.set_ylabel("")
    # scale bar and north arrow
    length = _nice_length(x1 - x0)
    sx, sy = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([sx, sx + length], [sy, sy], color="#252525", linewidth=3, solid_capstyle="butt",
            zorder=11)
    ax.annotate(f"{length / 1000:g} km", (sx + length / 2, sy), xytext=(0, 5),
                textcoords="offset points", ha="center", fontsize=8.5, zorder=11,
                path_effects=halo)
    nx, ny = x1 - 0.05 * (x1 - x0), y1 - 0.1 * (y1 - y0)
    ax.annotate("N", xy=(nx, ny + 0.06 * (y1 - y0)), xytext=(nx, ny), ha="center", va="top",
                fontsize=11, weight="bold", zorder=11,
                arrowprops={"arrowstyle": "-|>", "color": "#252525", "linewidth": 1.5})

    # legends in a panel on the right
    panel_left = 0.015 + map_w_frac + 0.02
    handles_share = [Patch(facecolor=c.color, edgecolor="#bdbdbd", label=c.label)
                     for c in reversed(SHARE_CLASSES)]
    handles_sites = []
    for action in _present_actions(sites):
        style = ACTION_STYLES[action]
        handles_sites.append(Line2D([], [], linestyle="", marker=style.mpl_marker,
                                    markersize=style.size_mm * MM_TO_PT * 1.25,
                                    markerfacecolor=style.color, markeredgecolor=style.outline,
                                    label=style.label))
    handles_other = []
    if bng.hubs is not None:
        handles_other.append(Line2D([], [], color=HUB_COLOR, linewidth=2.2, label="Hub boundary"))
    if len(flows):
        handles_other.append(Line2D([], [], color=FLOW_COLOR, alpha=0.55, linewidth=3.0,
                                    label=f"Beds placed, {final_year}\n(line width: up to "
                                          f"{max_beds:.0f} beds)"))
    top = bottom + map_h_frac
    legend_kw = {"frameon": False, "fontsize": 9.5, "title_fontsize": 10.5, "alignment": "left",
                 "borderaxespad": 0.0, "handlelength": 1.6}
    anchors = []
    if bng.footprints is not None:
        anchors.append((handles_share, f"Share of need placed in\nthe home hub ({period})"))
    anchors.append((handles_sites, f"Site action, {bng.years[0]}–{bng.years[-1]}"
                    if bng.year is None else f"Site action over the plan\n(wards: {bng.year})"))
    if handles_other:
        anchors.append((handles_other, "Boundaries and placements"))
    y = top
    for handles, title in anchors:
        leg = fig.legend(handles=handles, title=title, loc="upper left",
                         bbox_to_anchor=(panel_left, y), **legend_kw)
        leg.get_title().set_fontweight("bold")
        fig.canvas.draw()
        box = leg.get_window_extent().transformed(fig.transFigure.inverted())
        y = box.y0 - 0.03
    fig.text(0.015, 0.975, _title(bng), fontsize=15, weight="bold", va="top")
    summary = "\n".join(textwrap.wrap(_summary(bng), width=int(fig_w * 12.5)))
    fig.text(0.015, 0.94, summary, fontsize=10, va="top", color="#333333", linespacing=1.4)
    fig.text(0.015, 0.037, ATTRIBUTION, fontsize=8.5, va="top", color="#222222", wrap=True)
    fig.text(0.015, 0.012, "Boundaries, site positions and figures as in the scenario; "
             "lines join each footprint's reference point to a site. Made with bedplan.",
             fontsize=7.5, va="bottom", color="#666666")
    path = Path(path)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


# --------------------------------------------------------------------------------------------
# map.html
# --------------------------------------------------------------------------------------------

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
    actions = _present_actions(layers.sites)
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


def render_html(layers: Layers, path: Path) -> Path:
    """An interactive web map with a layer control and per-site decision popups."""
    import folium

    wgs = layers if layers.sites.crs.to_epsg() == WGS84 else layers.to_crs(WGS84)
    frames = [wgs.sites]
    if wgs.footprints is not None:
        frames.append(wgs.footprints)
    xmin, ymin, xmax, ymax = np.array([f.total_bounds for f in frames]).T
    bounds = [[float(ymin.min()), float(xmin.min())], [float(ymax.max()), float(xmax.max())]]
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=7, tiles=None, control_scale=True)
    folium.TileLayer("openstreetmap", name="OpenStreetMap").add_to(m)

    if wgs.footprints is not None:
        fps = wgs.footprints.copy()
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
        group.add_to(m)
    if wgs.hubs is not None:
        group = folium.FeatureGroup(name="Hub boundaries", show=True)
        hubs = wgs.hubs[["hub", "name", "geometry"]]
        folium.GeoJson(
            json.loads(hubs.to_json(na="null", drop_id=True)),
            style_function=lambda f: {"color": HUB_COLOR, "weight": 3, "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Hub"]),
        ).add_to(group)
        group.add_to(m)
    if len(wgs.flows):
        max_beds = float(wgs.flows["beds"].max())
        final = wgs.year if wgs.year is not None else wgs.years[-1]
        for year in sorted(wgs.flows["year"].unique()):
            group = folium.FeatureGroup(name=f"Flows {year} (beds placed)", show=year == final)
            for r in wgs.flows[wgs.flows["year"] == year].itertuples():
                coords = [(lat, lon) for lon, lat in r.geometry.coords]
                tip = (f"{html.escape(r.footprint_name)} → {html.escape(r.site_name)}, {year}: "
                       f"{r.beds:.1f} beds, {r.km:.0f} km" + ("" if r.in_hub else " (out of hub)"))
                folium.PolyLine(coords, color=FLOW_COLOR, opacity=0.55,
                                weight=1 + 9 * r.beds / max(max_beds, 1e-9),
                                tooltip=tip).add_to(group)
            group.add_to(m)
    group = folium.FeatureGroup(name="Sites by action", show=True)
    by_site = {s: g for s, g in wgs.site_years.groupby("site")} if len(wgs.site_years) else {}
    empty = wgs.site_years.iloc[0:0]
    for _, site in wgs.sites.iterrows():
        popup = _site_popup(site, by_site.get(site["site"], empty), wgs.services)
        folium.Marker(
            location=(site.geometry.y, site.geometry.x),
            icon=folium.DivIcon(html=_svg(site["action"], 22), icon_size=(22, 22),
                                icon_anchor=(11, 11)),
            tooltip=f"{html.escape(str(site['name']))}: {site['action']}",
            popup=folium.Popup(popup, max_width=480),
        ).add_to(group)
    group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    title = (f"<div style='position:fixed;top:10px;left:60px;z-index:9999;background:white;"
             f"padding:6px 10px;border:1px solid #999;border-radius:4px;font:bold 15px "
             f"sans-serif'>{html.escape(_title(wgs))}<div style='font-weight:normal;"
             f"font-size:12px'>{html.escape(_summary(wgs))}</div></div>")
    root = m.get_root()
    root.html.add_child(folium.Element(title))
    root.html.add_child(folium.Element(_legend_html(wgs)))
    m.fit_bounds(bounds)
    path = Path(path)
    m.save(str(path))
    return path


__all__ = ["render_html", "render_png"]
