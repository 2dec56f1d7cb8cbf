"""A sweep's pictures: the robustness map (British National Grid, zoomed to the hubs the sweep
touches, every site coloured by its most common outcome across the variants) and the trade-off
chart (every solved variant visible, coincident ones spread apart; axes and colour named)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.gis.styles import ACTION_STYLES
from model.gis.tables import BNG, bng_points
from model.outputs import ATTRIBUTION

log = logging.getLogger(__name__)

#: outcome (a robustness.csv column) -> the action whose colour it takes on every map
OUTCOME_ACTION = {"kept": "keep", "reduced": "reduce", "decommissioned": "decommission",
                  "commissioned": "commission", "reconfigured": "reconfigure", "expanded": "expand"}
ROBUST = 0.9
_ZOOM_MARGIN_M = 15_000


def dominant(robust: pd.DataFrame) -> pd.DataFrame:
    """Each site's most common outcome and its share; a candidate never commissioned is
    'not used'."""
    shares = robust[list(OUTCOME_ACTION)].astype(float).fillna(0.0)
    out = robust.copy()
    out["outcome"] = shares.idxmax(axis=1)
    out["outcome_share"] = shares.max(axis=1)
    unused = (robust["status"] == "candidate") & (shares["commissioned"] == 0)
    out.loc[unused, "outcome"] = "not used"
    out.loc[unused, "outcome_share"] = 1.0
    return out


def touched_hubs(robust: pd.DataFrame, parameter_hubs: list[str]) -> list[str]:
    """Hubs with a site that some variant changes or commissions, and hubs a parameter names;
    all hubs with a site when no variant changes anything."""
    changed = robust[(robust["kept"].astype(float) < 1.0) & (robust["status"] == "existing")
                     | (robust["commissioned"].astype(float) > 0)]
    hubs = set(changed["hub"].dropna().astype(str)) | {str(h) for h in parameter_hubs if h}
    return sorted(hubs) if hubs else sorted(robust["hub"].dropna().astype(str).unique())


def robustness_map(name: str, sites: pd.DataFrame, robust: pd.DataFrame, geometry: Any,
                   hub_of: pd.Series, parameter_hubs: list[str], path: Path) -> bool:
    """`sites`: the scenario's sites (site, lat, lon); `geometry`: footprint polygons indexed
    by footprint (or None); `hub_of`: footprint -> hub."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    table = dominant(sites[["site", "lat", "lon"]].merge(robust, on="site"))
    if table.empty or table["kept"].isna().all():
        return False
    pts = bng_points(table["lon"], table["lat"])
    table["x"], table["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    hubs = touched_hubs(table, parameter_hubs)
    fig, ax = plt.subplots(figsize=(9, 9.5))
    extent = None
    if geometry is not None:
        polys = geometry.to_crs(epsg=BNG)
        polys = polys.assign(hub=polys.index.map(hub_of))
        polys.plot(ax=ax, facecolor="#f4f4f4", edgecolor="#b0b0b0", linewidth=0.4)
        try:
            outline = polys.dissolve("hub")
            outline.boundary.plot(ax=ax, color="#4d4d4d", linewidth=1.0)
            zoom = outline[outline.index.isin(hubs)]
            if len(zoom):
                extent = zoom.total_bounds
        except Exception:  # hub outlines are a nicety; invalid unions must not stop the map
            log.debug("hub outlines skipped", exc_info=True)
    in_zoom = table[table["hub"].astype(str).isin(hubs)]
    if extent is None:
        extent = (in_zoom if len(in_zoom) else table)[["x", "y"]].agg(["min", "max"]).to_numpy().T \
            .reshape(-1)[[0, 2, 1, 3]]
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    _draw_sites(ax, table)
    ax.set_xlim(xmin - _ZOOM_MARGIN_M, xmax + _ZOOM_MARGIN_M)
    ax.set_ylim(ymin - _ZOOM_MARGIN_M, ymax + _ZOOM_MARGIN_M)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [Line2D([], [], marker="o", ls="", ms=9, mfc=_colour(o), mec="black", label=o)
               for o in [*OUTCOME_ACTION, "not used"] if (table["outcome"] == o).any()]
    handles += [Line2D([], [], marker="o", ls="", ms=9, mfc="white", mec="black", mew=2.2,
                       label=f"robust (≥{ROBUST:.0%} of variants)"),
                Line2D([], [], marker="o", ls="", ms=9, mfc="white", mec="black", mew=0.6,
                       label="depends on the inputs (share shown)"),
                Line2D([], [], marker="^", ls="", ms=9, mfc="white", mec="black",
                       label="candidate site")]
    ax.legend(handles=handles, loc="upper left", fontsize=8, title="most common outcome",
              title_fontsize=8, framealpha=0.9)
    ax.set_title(f"Sweep {name}: each site's most common outcome across the variants\n"
                 f"hubs: {', '.join(hubs)} (British National Grid)", fontsize=10)
    fig.text(0.01, 0.01, ATTRIBUTION, fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _colour(outcome: str) -> str:
    return ACTION_STYLES[OUTCOME_ACTION.get(outcome, "not_used")].color


def _draw_sites(ax, table: pd.DataFrame) -> None:
    for _, r in table.iterrows():
        robust = r["outcome_share"] >= ROBUST
        marker = "^" if r["status"] == "candidate" else "o"
        ax.scatter([r["x"]], [r["y"]], s=70 if marker == "^" else 55, marker=marker,
                   color=_colour(r["outcome"]), edgecolor="black",
                   linewidth=2.0 if robust else 0.6, zorder=4 if robust else 5)
        if r["outcome"] != "not used":
            text = str(r["site"]) + ("" if robust else f" {r['outcome']} {r['outcome_share']:.0%}")
            ax.annotate(text, (r["x"], r["y"]), xytext=(5, 3), textcoords="offset points",
                        fontsize=7, zorder=6, clip_on=True)


def spread(x: np.ndarray, y: np.ndarray, radius: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Coincident points (equal to 6 significant digits) placed on a small circle around their
    common position, so every variant is visible; others unchanged."""
    x, y = x.astype(float).copy(), y.astype(float).copy()
    keys = [(f"{a:.6g}", f"{b:.6g}") for a, b in zip(x, y, strict=True)]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    for idx in groups.values():
        if len(idx) < 2:
            continue
        for j, i in enumerate(idx):
            angle = 2 * math.pi * j / len(idx)
            x[i] += radius[0] * math.cos(angle)
            y[i] += radius[1] * math.sin(angle)
    return x, y


def tradeoffs(name: str, parameters: list[Any], solved: pd.DataFrame, path: Path) -> bool:
    """Cost vs carbon, cost vs patient-km, carbon vs patient-km: one marker per solved variant,
    coloured by the first parameter that varies (named on the colour bar with what it
    changes), the base variant starred."""
    needed = {"cost_gbp", "carbon_t", "patient_km"}
    if solved.empty or not needed <= set(solved.columns):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    varying = [p for p in parameters if p.name in solved.columns
               and pd.api.types.is_numeric_dtype(solved[p.name])
               and not pd.api.types.is_bool_dtype(solved[p.name]) and solved[p.name].nunique() > 1]
    colour_by = varying[0] if varying else None
    size_by = varying[1] if len(varying) > 1 else None
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained")
    pairs = (("cost_gbp", 1e-6, "cost, £m (undiscounted)", "carbon_t", 1e-3, "carbon, ktCO2e"),
             ("cost_gbp", 1e-6, "cost, £m (undiscounted)", "patient_km", 1e-3,
              "patient-km, thousand"),
             ("carbon_t", 1e-3, "carbon, ktCO2e", "patient_km", 1e-3, "patient-km, thousand"))
    sc = None
    coincident = 0
    for ax, (xc, xs, xl, yc, ys, yl) in zip(axes, pairs, strict=True):
        x0 = solved[xc].astype(float).to_numpy() * xs
        y0 = solved[yc].astype(float).to_numpy() * ys
        span = (max(np.ptp(x0), abs(x0.mean()) * 1e-3, 1e-9), max(np.ptp(y0), abs(y0.mean()) * 1e-3, 1e-9))
        x, y = spread(x0, y0, (span[0] * 0.015, span[1] * 0.015))
        coincident = max(coincident, int(((x != x0) | (y != y0)).sum()))
        kwargs: dict[str, Any] = {"s": _sizes(solved, size_by), "edgecolor": "black",
                                  "linewidth": 0.5, "alpha": 0.85}
        if colour_by is not None:
            kwargs.update(c=solved[colour_by.name].astype(float), cmap="viridis")
        sc = ax.scatter(x, y, **kwargs)
        base = (solved["label"] == "base").to_numpy() if "label" in solved.columns else None
        if base is not None and base.any():
            ax.scatter(x[base], y[base], marker="*", s=180, facecolor="none", edgecolor="#d7191c",
                       linewidth=1.2, label="base variant")
            ax.legend(fontsize=8, loc="best")
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
    if size_by is not None:
        values = sorted(solved[size_by.name].astype(float).unique())
        picks = values if len(values) <= 5 else [values[int(i)] for i in
                                                  np.linspace(0, len(values) - 1, 5)]
        sizes = _sizes(pd.DataFrame({size_by.name: picks}), size_by, solved)
        handles = [plt.scatter([], [], s=z, facecolor="white", edgecolor="black", label=f"{v:g}")
                   for v, z in zip(picks, sizes, strict=True)]
        fig.legend(handles=handles, title=f"size: parameter {size_by.name} ({_target(size_by)})",
                   loc="outside lower center", ncol=len(handles), fontsize=8, title_fontsize=8)
    if colour_by is not None and sc is not None:
        fig.colorbar(sc, ax=list(axes), shrink=0.85,
                     label=f"colour: parameter {colour_by.name} ({_target(colour_by)})")
    others = ", ".join(p.name for p in varying[2:])
    note = (f"; {coincident} variants with equal results spread on a small circle" if coincident
            else "")
    fig.suptitle(f"Sweep {name}: all {len(solved)} solved variants (England totals, all years)"
                 + (f"; also varying: {others}" if others else "") + note, fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


def _target(p: Any) -> str:
    what = p.key or f"{p.table}.{p.column}"
    return f"{what}, {p.op}" + (f", hub {p.hub}" if p.hub else "")


def _sizes(frame: pd.DataFrame, p: Any, scale_from: pd.DataFrame | None = None) -> Any:
    """Marker areas from 25 to 110 by the value of parameter `p` (30 when no parameter)."""
    if p is None:
        return 30
    ref = (scale_from if scale_from is not None else frame)[p.name].astype(float)
    lo, hi = float(ref.min()), float(ref.max())
    v = frame[p.name].astype(float).to_numpy()
    return 25 + 85 * (v - lo) / (hi - lo if hi > lo else 1.0)
