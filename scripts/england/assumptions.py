"""ASSUMPTIONS.md of the England dataset: assumptions.md.template filled with computed figures.

The prose, the tables' fixed rows and the number formats live in the template; this module
computes the figures (totals, rates, lists) and the table rows that depend on the data.
"""

from __future__ import annotations

from pathlib import Path

from england.inputs import IS, LD, LF, LM, MF, MM, Dataset, Unit, render

LEVELS = (("medium", (MM, MF)), ("low", (LM, LF, LD)))


def estate_totals(data: Dataset, units: list[Unit]) -> dict[str, dict]:
    beds = {s.service: s.beds_per_ward for s in data.services}
    out: dict[str, dict] = {}
    for level, svcs in LEVELS:
        total = sum(u.wards.get(v, 0) * beds[v] for u in units for v in svcs)
        indep = sum(u.wards.get(v, 0) * beds[v] for u in units for v in svcs
                    if u.sector == IS)
        n_units = sum(1 for u in units if any(u.wards.get(v, 0) for v in svcs))
        out[level] = {"beds": total, "is_share": indep / total if total else 0.0,
                      "units": n_units,
                      "by_service": {v: sum(u.wards.get(v, 0) * beds[v] for u in units)
                                     for v in svcs}}
    return out


def hub_balance(data: Dataset, units: list[Unit], fp_rows: list[dict],
                rates: dict[str, float]) -> list[str]:
    beds = {s.service: s.beds_per_ward for s in data.services}
    inpatient = data.inpatient
    lines = ["| hub | adults (m) | " + " | ".join(f"{v} beds / need" for v in inpatient) + " |",
             "|---|---:|" + "---:|" * len(inpatient)]
    for hub, _name in data.hubs:
        adults = sum(r["adults"] for r in fp_rows if r["hub"] == hub)
        cells = []
        for v in inpatient:
            have = sum(u.wards.get(v, 0) for u in units if u.hub == hub) * beds[v]
            need = rates[v] * adults / 1e5
            cells.append(f"{have} / {need:.0f}")
        lines.append(f"| {hub} | {adults / 1e6:.2f} | " + " | ".join(cells) + " |")
    return lines


def demand_rows(data: Dataset, adults: int, rates: dict[str, float]) -> list[str]:
    """The demand table: reference beds, rate, need at the first and last year, trend, source."""
    lines = []
    for s in data.services:
        need0 = rates[s.service] * adults / 1e5
        need_end = need0 * (1 + s.trend) ** (data.settings.horizon - 1)
        ref = f"{s.national_beds:,.0f}" if s.national_beds else "-"
        lines.append(f"| {s.service} | {ref} | {rates[s.service]:.2f} | {need0:,.0f} | "
                     f"{s.trend:+.0%} | {need_end:,.0f} | {s.trend_source} |")
    return lines


def named_units(units: list[Unit]) -> list[str]:
    """Rows of the named-units table: every unit with a note."""
    lines = []
    for u in units:
        if u.note:
            wards = ", ".join(f"{v} {n}" for v, n in u.wards.items() if n) or "candidate"
            where = (f"{u.lat}, {u.lon} (by hand)" if isinstance(u.where, tuple)
                     else f"NHS Choices {u.where}")
            extra = f"; may reconfigure to {', '.join(u.extra)}" if u.extra else ""
            lines.append(f"| {u.site} | {u.name} | {wards}{extra} | {u.note} | {where} |")
    return lines


def estate_values(data: Dataset, existing: list[Unit]) -> dict[str, object]:
    """medium_beds, medium_units, medium_by_service, medium_is_share and the same for low."""
    values: dict[str, object] = {}
    for level, total in estate_totals(data, existing).items():
        values[f"{level}_beds"] = total["beds"]
        values[f"{level}_units"] = total["units"]
        values[f"{level}_by_service"] = ", ".join(f"{k} {v:,}" for k, v in total["by_service"].items())
        values[f"{level}_is_share"] = total["is_share"]
    return values


def community_values(data: Dataset) -> dict[str, object]:
    c = data.service["community"]
    return {"place_cost": c.place_cost_gbp, "substitution_rate": c.substitution_rate,
            "max_substitution_share": c.max_substitution_share,
            "community_from": data.settings.base_year + c.new_build_lead_years,
            "ramp_share": c.max_new_places_share, "setup_cost": c.setup_cost_per_place_gbp}


def values(data: Dataset, fp_rows: list[dict], units: list[Unit], rates: dict[str, float],
           files: dict[str, str]) -> dict[str, object]:
    """Every figure the template names."""
    cfg = data.settings
    existing = [u for u in units if u.age != "cand"]
    candidates = [u for u in units if u.age == "cand"]
    adults = sum(r["adults"] for r in fp_rows)
    svc = data.service
    lead = max(s.new_build_lead_years for s in data.services)
    return {
        **files, **estate_values(data, existing), **community_values(data),
        "n_surface": sum(1 for r in fp_rows if r["point"] != "ONS centroid"),
        "population": sum(r["population"] for r in fp_rows), "adults": adults,
        "hub_list": ", ".join(f"{h} {n}" for h, n in data.hubs),
        "occupancy": cfg.occupancy, "ward_share": cfg.ward_share, "bed_share": 1 - cfg.ward_share,
        "estate_t": cfg.estate_t_per_bed_year,
        "decommission": "; ".join(f"{v.service} £{data.decommission_per_bed(v):,.0f}"
                                  for v in data.services if v.level != "community"),
        "decommission_months": cfg.decommission_months, "first_removal_year": cfg.base_year + 1,
        "new_build_from": cfg.base_year + lead, "candidate_lead_years": cfg.candidate_lead_years,
        "in_hub_men": svc[MM].in_hub_share, "in_hub_women": svc[MF].in_hub_share,
        "pathway": "; ".join(f"{a} → {b} {s:.0%}" for a, b, s in data.pathway),
        "base_year": cfg.base_year, "first_year": cfg.years[0], "last_year": cfg.years[-1],
        "base_occupancy": cfg.base_occupancy_of_reference,
        "demand_rows": "\n".join(demand_rows(data, adults, rates)),
        "hub_balance": "\n".join(hub_balance(data, existing, fp_rows, rates)),
        "n_existing": len(existing), "n_candidates": len(candidates), "n_sites": len(units),
        "age_classes": "; ".join(f"{k}: {v.label}, carbon x{v.carbon}, running cost x{v.cost}"
                                 for k, v in data.ages.items()),
        "jitter_carbon": cfg.jitter_carbon, "jitter_cost": cfg.jitter_cost,
        "site_fixed_base": cfg.site_fixed_base_gbp, "site_fixed_per_ward": cfg.site_fixed_per_ward_gbp,
        "close_cost_medium": cfg.close_cost_medium_gbp, "close_cost_low": cfg.close_cost_low_gbp,
        "candidate_max_wards": cfg.candidate_max_wards,
        "candidate_open_cost": cfg.candidate_open_cost_gbp,
        "named_units": "\n".join(named_units(units)),
        "attribution": cfg.attribution,
    }


def write(folder: Path, data: Dataset, fp_rows: list[dict], units: list[Unit],
          rates: dict[str, float], files: dict[str, str]) -> None:
    """folder/ASSUMPTIONS.md; files names the reference files (geojson, population_file,
    hospitals_file)."""
    text = render("assumptions.md.template", **values(data, fp_rows, units, rates, files))
    (folder / "ASSUMPTIONS.md").write_text(text, encoding="utf-8")
