"""Which placement arcs the model builds: $ARCS$ (docs/formulation.md).

``choose_arcs`` is the one place the arc set is chosen: every arc within
``policy.max_placement_km`` (``solver.arcs: all``, the default), or each footprint's nearest
sites (``nearest:K``), whose left-out arcs ``model/arc_pricing.py`` prices and adds back.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

Arc = tuple[str, str, str]


def nearest_k(spec: str) -> int | None:
    """K of ``nearest:K``; None for ``all``."""
    match = re.fullmatch(r"nearest:(\d+)", spec)
    return int(match.group(1)) if match else None


def choose_arcs(need_pairs: list[tuple[str, str]], sites: list[str], hosted: set[tuple[str, str]],
                km: pd.DataFrame, max_km: float | None, spec: str = "all",
                hub_of_footprint: dict[str, str] | None = None,
                hub_of_site: dict[str, str] | None = None) -> list[Arc]:
    """$ARCS$: for each need pair $(f,v)$ the sites hosting $v$ within `max_km`, in site order.

    With ``nearest:K`` only the K nearest of them, and the K nearest in $f$'s own hub (without
    them the in-hub rule could not be met at all); ties go to the earlier site.
    """
    k = nearest_k(spec)
    dist = km.reindex(columns=sites).to_numpy(dtype=float)
    row_of = {f: i for i, f in enumerate(km.index)}
    services = sorted({v for _f, v in need_pairs})
    host = {v: np.array([(s, v) in hosted for s in sites], dtype=bool) for v in services}
    site_hub = np.array([(hub_of_site or {}).get(s, "") for s in sites], dtype=object)
    out: list[Arc] = []
    for f, v in need_pairs:
        row = dist[row_of[f]]
        ok = host[v] if max_km is None else host[v] & (row <= max_km)
        if k is not None:
            ok = _nearest(row, ok, k) | _nearest(row, ok & (site_hub == (hub_of_footprint or {}).get(f)), k)
        out.extend((f, sites[j], v) for j in np.flatnonzero(ok))
    return out


def _nearest(row: np.ndarray, ok: np.ndarray, k: int) -> np.ndarray:
    idx = np.flatnonzero(ok)
    keep = idx[np.argsort(row[idx], kind="stable")[:k]]
    mask = np.zeros_like(ok)
    mask[keep] = True
    return mask


def ordered_arcs(data, arcs: set[Arc]) -> list[Arc]:
    """`arcs` in the order ``choose_arcs`` gives (need pairs, then sites), so a model built from
    them is the model the full set would give restricted to them."""
    need_rank = {pair: i for i, pair in enumerate(data.need_pairs)}
    site_rank = {s: i for i, s in enumerate(data.sites)}
    return sorted(arcs, key=lambda a: (need_rank[(a[0], a[2])], site_rank[a[1]]))
