"""The words both maps carry: the title, the one-paragraph summary of the plan and the site
actions present, in legend order."""

from __future__ import annotations

import pandas as pd

from model.gis.layers import Layers
from model.gis.styles import ACTION_STYLES


def present_actions(sites: pd.DataFrame) -> list[str]:
    """The actions some site has, in the order of the legend."""
    present = set(sites["action"])
    return [a for a in ACTION_STYLES if a in present]


def map_title(layers: Layers) -> str:
    span = (f"{layers.years[0]}–{layers.years[-1]}" if layers.year is None
            else str(layers.year))
    return f"{layers.scenario}: recommended secure bed configuration, {span}"


def map_summary(layers: Layers) -> str:
    """Site changes, beds at the start and end, and the need placed in the home hub."""
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
