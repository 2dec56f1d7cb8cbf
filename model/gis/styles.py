"""The symbology every GIS output shares: site actions, in-hub share classes, flow and hub
colours, flow class breaks and the attribution.

The QGIS and SLD styles of the GeoPackage, the static map and the web map all draw from
here, so a site or footprint looks the same wherever it is opened. Nothing here knows about
layers or maps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from model.outputs import ATTRIBUTION  # noqa: F401 - the GIS writers and maps take it from here


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
# flow line widths by class, thinnest first; classes beyond the last share its width
FLOW_WIDTHS_MM = (0.3, 0.7, 1.2, 1.8, 2.6, 3.4, 4.2)


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
