"""``map.png``: a static map of the recommended configuration (matplotlib, Agg, British
National Grid) with its legends, scale bar, north arrow, title, summary and attribution.

matplotlib is imported only while drawing, so importing the GIS package stays quick.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from model.gis.layers import Layers
from model.gis.maps.captions import map_summary, map_title, present_actions
from model.gis.styles import ACTION_STYLES, ATTRIBUTION, FLOW_COLOR, HUB_COLOR, SHARE_CLASSES, share_color
from model.gis.tables import BNG

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patheffects import AbstractPathEffect

MM_TO_PT = 72 / 25.4
# beyond these counts the names would crowd the map, so they are left to the legend and GIS
MAX_SITE_LABELS = 40
MAX_FOOTPRINT_LABELS = 30
# actions drawn first (below the others), so changed sites stay visible
DRAW_ORDER = {"not_used": 0, "keep": 1}

XY = tuple[float, float]


@dataclass(frozen=True)
class _Frame:
    """The map's extent (British National Grid metres) and its place on the figure."""

    x0: float
    y0: float
    x1: float
    y1: float
    fig_w: float = 13.0  # inches
    map_w: float = 0.64  # the map's share of the figure's width
    map_h: float = 0.80  # and of its height
    bottom: float = 0.07

    @property
    def per_point(self) -> float:
        """Map units per typographic point."""
        return (self.x1 - self.x0) / (self.fig_w * self.map_w * 72)


@dataclass(frozen=True)
class _Flows:
    """The flows drawn: those of the selected year, or of the final year of the plan."""

    frame: gpd.GeoDataFrame
    year: int
    max_beds: float


def render_png(layers: Layers, path: Path, dpi: int = 150) -> Path:
    """A static map for boards and consultations (British National Grid)."""
    bng = layers if layers.sites.crs.to_epsg() == BNG else layers.to_crs(BNG)
    frame = _frame(bng)
    fig, ax = _figure(frame, dpi)
    obstacles = _site_obstacles(bng, frame)
    if bng.footprints is not None:
        _draw_footprints(ax, bng.footprints, frame, obstacles)
    if bng.hubs is not None and len(bng.hubs):
        bng.hubs.boundary.plot(ax=ax, color=HUB_COLOR, linewidth=2.2, zorder=4)
    flows = _final_flows(bng)
    _draw_flows(ax, bng, flows)
    _draw_sites(ax, bng.sites)
    if bng.hubs is not None and len(bng.hubs) > 1:
        _label_hubs(ax, bng.hubs, frame, obstacles)
    ax.set_xlabel("")  # geopandas labels the axes with the CRS's units
    ax.set_ylabel("")
    _draw_scale_bar_and_north(ax, frame)
    _draw_legends(fig, frame, _legend_groups(bng, flows))
    _draw_captions(fig, bng, frame)
    path = Path(path)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


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


def _frame(layers: Layers) -> _Frame:
    """The extent of the layers, its aspect kept within limits by widening the shorter side."""
    x0, y0, x1, y1 = _extent(layers)
    ratio = (y1 - y0) / (x1 - x0)
    if ratio > 1.45:
        grow = ((y1 - y0) / 1.45 - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    elif ratio < 0.7:
        grow = ((x1 - x0) * 0.7 - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    return _Frame(x0, y0, x1, y1)


def _figure(frame: _Frame, dpi: int) -> tuple[Figure, Axes]:
    """A figure sized to the map's aspect, with empty map axes on the left."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ratio = (frame.y1 - frame.y0) / (frame.x1 - frame.x0)
    fig_h = frame.fig_w * frame.map_w * ratio / frame.map_h
    fig = Figure(figsize=(frame.fig_w, fig_h), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.015, frame.bottom, frame.map_w, frame.map_h))
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal")
    ax.set_facecolor("#eef3f7")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#9e9e9e")
    return fig, ax


def _halo(width: float = 3) -> list[AbstractPathEffect]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _site_obstacles(layers: Layers, frame: _Frame) -> list[XY]:
    """Where area labels must not go: the sites and, when they are labelled, their names
    (which sit up and right of them)."""
    obstacles = [(g.x, g.y) for g in layers.sites.geometry]
    if len(layers.sites) <= MAX_SITE_LABELS:
        obstacles += [(g.x + 0.06 * (frame.x1 - frame.x0), g.y + 0.01 * (frame.y1 - frame.y0))
                      for g in layers.sites.geometry]
    return obstacles


def _label_point(polygon: BaseGeometry, obstacles: list[XY], half_width: float = 0.0,
                 grid: int = 24) -> XY:
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


def _draw_footprints(ax: Axes, fps: gpd.GeoDataFrame, frame: _Frame,
                     obstacles: list[XY]) -> None:
    """Footprints shaded by in-hub share, labelled with their name and share; each label
    placed joins `obstacles`, so later labels keep clear of it."""
    colors = [share_color(s) for s in fps["in_hub_share"]]
    fps.plot(ax=ax, color=colors, edgecolor="white", linewidth=0.9, zorder=1)
    if len(fps) > MAX_FOOTPRINT_LABELS:
        return
    for row in fps.itertuples():
        x, y = _label_point(row.geometry, obstacles, len(row.name) * 7.5 * 0.3 * frame.per_point)
        obstacles.append((x, y))
        label = (f"{row.name}\n{row.in_hub_share:.0%}"
                 if not math.isnan(row.in_hub_share) else row.name)
        ax.annotate(label, (x, y), fontsize=7.5, color="#333333", style="italic", ha="center",
                    va="center", zorder=3, path_effects=_halo(2.2))


def _final_flows(layers: Layers) -> _Flows:
    year = layers.year if layers.year is not None else layers.years[-1]
    flows = layers.flows[layers.flows["year"] == year] if len(layers.flows) else layers.flows
    return _Flows(flows, year, float(flows["beds"].max()) if len(flows) else 0.0)


def _draw_flows(ax: Axes, layers: Layers, flows: _Flows) -> None:
    """Flow lines, wider for more beds; without footprint polygons, the footprints'
    reference points too."""
    if len(flows.frame):
        # an array, not a Series: geopandas reads a Series by label, and the frame is a slice
        widths = (0.5 + 4.0 * flows.frame["beds"] / max(flows.max_beds, 1e-9)).to_numpy()
        flows.frame.plot(ax=ax, color=FLOW_COLOR, linewidth=widths, alpha=0.45, zorder=5)
    if layers.footprints is None:
        refs = layers.flows.drop_duplicates("footprint") if len(layers.flows) else layers.flows
        if len(refs):
            starts = [g.coords[0] for g in refs.geometry]
            ax.scatter([p[0] for p in starts], [p[1] for p in starts], s=18, c="#737373",
                       marker="s", zorder=5)


def _draw_sites(ax: Axes, sites: gpd.GeoDataFrame) -> None:
    """Sites marked by action, changed sites on top, named when there are few."""
    for action in sorted(present_actions(sites), key=lambda a: DRAW_ORDER.get(a, 2)):
        style = ACTION_STYLES[action]
        sel = sites[sites["action"] == action]
        size = (style.size_mm * MM_TO_PT * 1.5) ** 2
        ax.scatter(sel.geometry.x, sel.geometry.y, s=size, marker=style.mpl_marker,
                   c=style.color, edgecolors=style.outline, linewidths=0.9,
                   zorder=7 + DRAW_ORDER.get(action, 2))
    if len(sites) <= MAX_SITE_LABELS:
        for row in sites.itertuples():
            ax.annotate(row.name, (row.geometry.x, row.geometry.y), xytext=(7, 5),
                        textcoords="offset points", fontsize=8.5, color="#111111", zorder=10,
                        path_effects=_halo())


def _label_hubs(ax: Axes, hubs: gpd.GeoDataFrame, frame: _Frame, obstacles: list[XY]) -> None:
    """Hub names in capitals, clear of the sites and the footprint labels."""
    for row in hubs.itertuples():
        x, y = _label_point(row.geometry, obstacles, len(row.name) * 9 * 0.36 * frame.per_point)
        obstacles.append((x, y))
        ax.annotate(row.name.upper(), (x, y), fontsize=9, weight="bold", color=HUB_COLOR,
                    ha="center", va="center", zorder=12, path_effects=_halo())


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if step * 1000 >= target:
            return step * 1000.0
    return 1_000_000.0


def _draw_scale_bar_and_north(ax: Axes, frame: _Frame) -> None:
    x0, y0, x1, y1 = frame.x0, frame.y0, frame.x1, frame.y1
    length = _nice_length(x1 - x0)
    sx, sy = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([sx, sx + length], [sy, sy], color="#252525", linewidth=3, solid_capstyle="butt",
            zorder=11)
    ax.annotate(f"{length / 1000:g} km", (sx + length / 2, sy), xytext=(0, 5),
                textcoords="offset points", ha="center", fontsize=8.5, zorder=11,
                path_effects=_halo())
    nx, ny = x1 - 0.05 * (x1 - x0), y1 - 0.1 * (y1 - y0)
    ax.annotate("N", xy=(nx, ny + 0.06 * (y1 - y0)), xytext=(nx, ny), ha="center", va="top",
                fontsize=11, weight="bold", zorder=11,
                arrowprops={"arrowstyle": "-|>", "color": "#252525", "linewidth": 1.5})


def _legend_groups(layers: Layers, flows: _Flows) -> list[tuple[list[Artist], str]]:
    """(legend handles, title) of each legend, top to bottom."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    groups: list[tuple[list[Artist], str]] = []
    if layers.footprints is not None:
        period = "all years" if layers.year is None else str(layers.year)
        shares: list[Artist] = [Patch(facecolor=c.color, edgecolor="#bdbdbd", label=c.label)
                                for c in reversed(SHARE_CLASSES)]
        groups.append((shares, f"Share of need placed in\nthe home hub ({period})"))
    sites: list[Artist] = []
    for action in present_actions(layers.sites):
        style = ACTION_STYLES[action]
        sites.append(Line2D([], [], linestyle="", marker=style.mpl_marker,
                            markersize=style.size_mm * MM_TO_PT * 1.25,
                            markerfacecolor=style.color, markeredgecolor=style.outline,
                            label=style.label))
    groups.append((sites, f"Site action, {layers.years[0]}–{layers.years[-1]}"
                   if layers.year is None else f"Site action over the plan\n(wards: {layers.year})"))
    other: list[Artist] = []
    if layers.hubs is not None:
        other.append(Line2D([], [], color=HUB_COLOR, linewidth=2.2, label="Hub boundary"))
    if len(flows.frame):
        other.append(Line2D([], [], color=FLOW_COLOR, alpha=0.55, linewidth=3.0,
                            label=f"Beds placed, {flows.year}\n(line width: up to "
                                  f"{flows.max_beds:.0f} beds)"))
    if other:
        groups.append((other, "Boundaries and placements"))
    return groups


def _draw_legends(fig: Figure, frame: _Frame, groups: list[tuple[list[Artist], str]]) -> None:
    """The legends stacked in a panel right of the map, each placed under the one before
    (which needs a draw to know its height)."""
    legend_kw = {"frameon": False, "fontsize": 9.5, "title_fontsize": 10.5, "alignment": "left",
                 "borderaxespad": 0.0, "handlelength": 1.6}
    panel_left = 0.015 + frame.map_w + 0.02
    y = frame.bottom + frame.map_h
    for handles, title in groups:
        leg = fig.legend(handles=handles, title=title, loc="upper left",
                         bbox_to_anchor=(panel_left, y), **legend_kw)
        leg.get_title().set_fontweight("bold")
        fig.canvas.draw()
        box = leg.get_window_extent().transformed(fig.transFigure.inverted())
        y = box.y0 - 0.03


def _draw_captions(fig: Figure, layers: Layers, frame: _Frame) -> None:
    fig.text(0.015, 0.975, map_title(layers), fontsize=15, weight="bold", va="top")
    summary = "\n".join(textwrap.wrap(map_summary(layers), width=int(frame.fig_w * 12.5)))
    fig.text(0.015, 0.94, summary, fontsize=10, va="top", color="#333333", linespacing=1.4)
    fig.text(0.015, 0.037, ATTRIBUTION, fontsize=8.5, va="top", color="#222222", wrap=True)
    fig.text(0.015, 0.012, "Boundaries, site positions and figures as in the scenario; "
             "lines join each footprint's reference point to a site. Made with bedplan.",
             fontsize=7.5, va="bottom", color="#666666")
