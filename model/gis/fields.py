"""What the layers and their fields mean (export READMEs, GeoPackage layer descriptions,
QGIS field aliases, ``fields.csv``) and the shortened field names shapefiles need."""

from __future__ import annotations

import re
from collections.abc import Iterable

SHAPEFILE_FIELD_CHARS = 10

LAYER_DESCRIPTIONS = {
    "sites": "bedplan: secure units and candidate sites with the recommended action",
    "site_years": "bedplan: decisions per site and year (join to sites on site)",
    "footprints": "bedplan: footprint KPIs of the recommended configuration",
    "flows": "bedplan: beds placed from each footprint at each site, by year",
    "hubs": "bedplan: hubs (footprints dissolved) with totals",
}


_FIELD_DOCS = {
    "site": "site id", "name": "name", "provider": "provider organisation",
    "sector": "provider sector", "status": "existing unit or candidate site",
    "hub": "hub", "footprint": "footprint id",
    "action": "action over the plan: commission, decommission, reconfigure, expand, reduce, keep "
              "(as for one year, applied to the base-year estate and the final year); not_used: "
              "a candidate or closed unit the plan does not use",
    "changes": "the years with an action other than keep",
    "first_change": "first year with an action other than keep",
    "open_base": "open at the start of the base year", "open_final": "open in the final year",
    "wards_base": "wards at the start of the base year (all services)",
    "wards_final": "wards in the final year (all services)",
    "beds_base": "beds at the start of the base year", "beds_final": "beds in the final year",
    "occupied_final": "occupied beds in the final year",
    "year": "year", "year_action": "action in the selected year",
    "year_wards": "wards in the selected year", "year_beds": "beds in the selected year",
    "year_occupied": "occupied beds in the selected year",
    "lon": "longitude (WGS84)", "lat": "latitude (WGS84)",
    "hub_name": "hub name", "population": "resident population",
    "period": "'all' (totals over the plan) or the selected year",
    "demand_beds": "bed demand (bed-years over the period)",
    "need_beds": "inpatient need after community substitution (bed-years)",
    "placed_beds": "beds placed at sites (bed-years)",
    "in_hub_share": "share of need placed in the home hub (0-1)",
    "mean_km": "mean km from home per patient (unmet counted at the out-of-area distance)",
    "max_km": "farthest placement, km", "unmet_beds": "need not placed (bed-years)",
    "delayed_discharges": "delayed discharges (patients)",
    "community_places": "community places (place-years)", "cost_gbp": "cost, GBP (undiscounted)",
    "carbon_t": "carbon, tCO2e", "patient_km": "patient-km",
    "in_hub_share_baseline": "in-hub share if nothing is done (baseline)",
    "unmet_beds_baseline": "unmet need if nothing is done (baseline)",
    "ref_lon": "longitude of the reference point (WGS84)",
    "ref_lat": "latitude of the reference point (WGS84)",
    "footprints": "footprints in the hub",
    "sites_open_base": "sites open at the start", "sites_open_final": "sites open in the final year",
    "footprint_name": "footprint name", "site_name": "site name",
    "site_hub": "hub of the site", "in_hub": "site in the patients' home hub",
    "km": "distance from the footprint reference point to the site, km",
    "beds": "beds placed (all services)", "wards_after": "wards after the year's changes",
    "beds_after": "beds after the year's changes", "occupied_beds": "occupied beds",
}


_PATTERNS = (
    (r"wards_base_(.+)", "wards of {} at the start of the base year"),
    (r"wards_final_(.+)", "wards of {} in the final year"),
    (r"beds_base_(.+)", "beds of {} at the start of the base year"),
    (r"beds_final_(.+)", "beds of {} in the final year"),
    (r"year_wards_(.+)", "wards of {} in the selected year"),
    (r"year_beds_(.+)", "beds of {} in the selected year"),
    (r"wards_before_(.+)", "wards of {} before the year's changes"),
    (r"wards_after_(.+)", "wards of {} after the year's changes"),
    (r"beds_before_(.+)", "beds of {} before the year's changes"),
    (r"beds_after_(.+)", "beds of {} after the year's changes"),
    (r"beds_(.+)", "beds of {} placed"),
)


_LAYER_DOCS = {
    ("sites", "hub"): "hub of the site", ("sites", "footprint"): "footprint of the site",
    ("flows", "hub"): "home hub of the patients (the footprint's hub)",
    ("flows", "footprint"): "home footprint of the patients",
    ("flows", "year"): "year of the placements",
}


def describe_field(name: str, layer: str | None = None) -> str:
    if (layer, name) in _LAYER_DOCS:
        return _LAYER_DOCS[(layer, name)]
    if name in _FIELD_DOCS:
        return _FIELD_DOCS[name]
    for pattern, text in _PATTERNS:
        match = re.fullmatch(pattern, name)
        if match:
            return text.format(match.group(1))
    return ""


def shapefile_names(columns: Iterable[str], limit: int = SHAPEFILE_FIELD_CHARS) -> dict[str, str]:
    """Original -> shapefile field name (at most `limit` characters, unique ignoring case,
    starting with a letter).

    Deterministic and consistent: a name that fits is kept (and reserved first); a longer name
    has EVERY word replaced by its abbreviation from one fixed table (so a word reads the same
    in every shortened field: ``wards_base_medium`` -> ``wd_b_med``, ``beds_base_medium`` ->
    ``bd_b_med``), joined by underscores if that fits, else without; failing that it is cut,
    and a clash gets a number, in column order.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    columns = [c for c in columns if c != "geometry"]
    for col in columns:
        if len(col) <= limit and col[:1].isalpha() and col.lower() not in taken:
            out[col] = col
            taken.add(col.lower())
    for col in columns:
        if col in out:
            continue
        words = [_ABBREVIATIONS.get(w.lower(), w) for w in col.split("_") if w] or ["field"]
        candidates = ["_".join(words), "".join(words), "".join(words)[:limit]]
        candidates = [c if c[:1].isalpha() else "f" + c for c in candidates]
        name = next((c for c in candidates if len(c) <= limit and c.lower() not in taken), None)
        if name is None:
            stem = candidates[-1]
            for i in range(1, 10 ** (limit - 1)):
                suffix = str(i)
                name = stem[: limit - len(suffix)] + suffix
                if name.lower() not in taken:
                    break
        out[col] = name
        taken.add(name.lower())
    return {col: out[col] for col in columns}


_ABBREVIATIONS = {
    "wards": "wd", "beds": "bd", "base": "b", "final": "f", "before": "bef", "after": "aft",
    "year": "yr", "medium": "med", "high": "hi", "community": "com", "share": "shr",
    "baseline": "bl", "discharges": "dis", "delayed": "del", "places": "pl", "patient": "pt",
    "footprint": "fp", "footprints": "fps", "name": "nm", "action": "act", "demand": "dem",
    "placed": "plc", "unmet": "unm", "occupied": "occ", "first": "frst", "change": "chg",
    "changes": "chgs", "population": "pop", "carbon": "co2", "converted": "cnv",
    "removed": "rem", "built": "blt", "sites": "st", "site": "st", "open": "op",
    "secure": "sec",
}

