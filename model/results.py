"""Turn a solved model into tables: wards, decisions, allocation, KPIs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model.formulation.objective import (
    CARBON_TERMS,
    COST_TERMS,
    FOOTPRINT_CARBON_TERMS,
    FOOTPRINT_COST_TERMS,
    SITE_CARBON_TERMS,
    SITE_COST_TERMS,
)
from model.inputs import ModelInputs
from model.values import ModelValues
from model.vocabulary import SiteAction

EPS = 1e-6
ACTIONS = tuple(SiteAction)


@dataclass
class Solution:
    """The values of one solved model, as DataFrames."""

    wards: pd.DataFrame
    allocation: pd.DataFrame
    unmet: pd.DataFrame
    delayed: pd.DataFrame
    community: pd.DataFrame
    years: pd.DataFrame
    objective_terms: dict[str, float]
    site_terms: pd.DataFrame = field(default_factory=pd.DataFrame)
    footprint_terms: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        return sum(self.objective_terms.values())


def extract(m: pyo.ConcreteModel, data: ModelInputs) -> Solution:
    val = ModelValues()  # each named expression (cost terms within terms) evaluated once
    conv_in: dict[tuple[str, str, int], float] = {}
    conv_out: dict[tuple[str, str, int], float] = {}
    for (s, v) in data.convertible:
        for t in data.years:
            conv_in[(s, v, t)] = round(val(m.convert_in[s, v, t]))
            conv_out[(s, v, t)] = round(val(m.convert_out[s, v, t]))
    convertible = set(data.convertible)
    km = data.arc_km()
    occupied: dict[tuple[str, str, int], float] = {}
    alloc_rows = []
    for (f, s, v) in data.arcs:
        for t in data.years:
            beds = val(m.place[f, s, v, t])
            if beds > EPS:
                occupied[(s, v, t)] = occupied.get((s, v, t), 0.0) + beds
                alloc_rows.append((f, s, v, t, beds, km[f, s]))
    ward_rows = []
    for (s, v) in data.site_services:
        bpw = int(data.service.at[v, "beds_per_ward"])
        for t in data.years:
            wards = round(val(m.wards[s, v, t]))
            ward_rows.append({
                "site": s, "service": v, "year": t, "wards": wards, "beds": wards * bpw,
                "built": round(val(m.build[s, v, t])),
                "converted_in": conv_in.get((s, v, t), 0),
                "converted_out": conv_out.get((s, v, t), 0),
                "removed": round(val(m.remove[s, v, t])),
                # wards added this year (built or converted in) still standing at the end of
                # the horizon: only these earn residual value
                "standing_at_end": val(m.standing_new[s, v, t]) + (
                    val(m.standing_conv[s, v, t]) if (s, v) in convertible else 0.0),
                "occupied_beds": occupied.get((s, v, t), 0.0),
                "operating": round(val(m.operate[s, t])),
            })
    wards_df = pd.DataFrame(ward_rows)
    capacity = wards_df["beds"].where(wards_df["beds"] > 0)
    wards_df["utilisation"] = (wards_df["occupied_beds"] / capacity).fillna(0.0)
    allocation = pd.DataFrame(alloc_rows, columns=["footprint", "site", "service", "year", "beds", "km"])
    unmet = pd.DataFrame(
        [(f, v, t, val(m.unmet[f, v, t]), val(m.need[f, v, t]), data.d(f, v, t))
         for (f, v) in data.need_pairs for t in data.years],
        columns=["footprint", "service", "year", "unmet_beds", "need_beds", "demand_beds"])
    delayed = pd.DataFrame(
        [(f, v, w, t, val(m.delayed[f, v, w, t]), val(m.stepdown[f, v, w, t]))
         for (f, v, w) in data.stepdown_pairs for t in data.years],
        columns=["footprint", "from_service", "to_service", "year", "delayed_patients",
                 "stepdown_patients"])
    subst = {(f, c, t): val(m.substitute[f, c, t]) for (f, c) in m.SUBST for t in data.years}
    extra = {(f, c, t): val(m.extra_places[f, c, t]) for (f, c) in m.SUBST for t in data.years}
    community = pd.DataFrame(
        [(f, c, t, val(m.places[f, c, t]), data.d(f, c, t), extra.get((f, c, t), 0.0),
          subst.get((f, c, t), 0.0))
         for (f, c) in m.COMMUNITY_PLACES for t in data.years],
        columns=["footprint", "service", "year", "places", "base_places", "extra_places",
                 "substitute_places"])
    year_rows = []
    for t in data.years:
        row = {"year": t, "discount_factor": data.discount[t], "carbon_price": data.carbon_price[t]}
        for k in COST_TERMS:
            row[f"cost_{k}_gbp"] = val(m.cost[k, t])
        for k in CARBON_TERMS:
            row[f"carbon_{k}_t"] = val(m.carbon[k, t])
        row["patient_km"] = val(m.patient_km[t])
        row["delayed_patients"] = val(m.delayed_total[t])
        year_rows.append(row)
    site_terms = _terms_table(val, m.site_cost, m.site_carbon, "site", data.sites, data.years,
                              SITE_COST_TERMS, SITE_CARBON_TERMS)
    footprint_terms = _terms_table(val, m.footprint_cost, m.footprint_carbon, "footprint",
                                   data.footprints, data.years, FOOTPRINT_COST_TERMS,
                                   FOOTPRINT_CARBON_TERMS)
    terms = {k: val(m.objective_terms[k]) for k in m.objective_terms}
    return Solution(wards=wards_df, allocation=allocation, unmet=unmet, delayed=delayed,
                    community=community, years=pd.DataFrame(year_rows), objective_terms=terms,
                    site_terms=site_terms, footprint_terms=footprint_terms)


def _terms_table(val: ModelValues, cost, carbon, key: str, members: list[str], years: list[int],
                 cost_terms: tuple[str, ...], carbon_terms: tuple[str, ...]) -> pd.DataFrame:
    """Per member (site or footprint) and year: each cost and carbon term of the model's
    expressions `cost[k, member, t]` and `carbon[k, member, t]`, and their totals."""
    rows = []
    for x in members:
        for t in years:
            row: dict[str, object] = {key: x, "year": t}
            row.update({f"cost_{k}_gbp": val(cost[k, x, t]) for k in cost_terms})
            row.update({f"carbon_{k}_t": val(carbon[k, x, t]) for k in carbon_terms})
            rows.append(row)
    table = pd.DataFrame(rows)
    table["cost_gbp"] = table[[f"cost_{k}_gbp" for k in cost_terms]].sum(axis=1)
    table["carbon_t"] = table[[f"carbon_{k}_t" for k in carbon_terms]].sum(axis=1)
    return table


def classify(before: dict[str, int], after: dict[str, int], built: int, converted: int,
             was_open: bool, is_open: bool) -> str:
    """The action at a site over a period, from its wards per service before and after."""
    total_before, total_after = sum(before.values()), sum(after.values())
    if not was_open and is_open:
        return "commission"
    if was_open and not is_open:
        return "decommission"
    if converted > 0:
        return "reconfigure"
    if total_after > total_before or built > 0:
        return "expand"
    if total_after < total_before:
        return "reduce"
    if before != after:
        return "reconfigure"
    return "keep"


def year_action(built: int, converted: int, removed: int, was_open: bool, is_open: bool,
                wards_before: int = 0, wards_after: int = 0) -> str:
    """Every kind of change at a site in one year, joined by ' + ' (e.g. 'reconfigure + reduce'),
    or 'keep'. Each part is one of ACTIONS: a removal, or a conversion that leaves fewer wards,
    is a reduction; a build, or a conversion that leaves more wards, an expansion."""
    if not was_open and is_open:
        return "commission"
    if was_open and not is_open:
        return "decommission"
    parts = []
    if converted > 0:
        parts.append("reconfigure")
    if built > 0 or wards_after > wards_before:
        parts.append("expand")
    if removed > 0 or wards_after < wards_before:
        parts.append("reduce")
    return " + ".join(parts) if parts else "keep"


@dataclass
class _SiteYear:
    """A site's rows of the wards table in one year, summed over its services."""

    after: dict[str, int] = field(default_factory=dict)  # wards per service after the year
    open: bool = False
    built: int = 0
    conv_in: int = 0
    conv_out: int = 0
    removed: int = 0


def decisions(solution: Solution, data: ModelInputs) -> pd.DataFrame:
    """One row per site and year: the action(s), the wards built, converted and removed, and
    wards/beds per service at the start of the plan's first year and after each year."""
    wards = solution.wards
    services = sorted({v for (_s, v) in data.site_services}, key=data.inpatient.index)
    hub_names = data.scenario.hubs.set_index("hub")["name"].to_dict()
    bpw = {v: int(data.service.at[v, "beds_per_ward"]) for v in services}
    # one pass over the table: each site-year's rows summed, not a filter per site and year
    cells: dict[tuple[str, int], _SiteYear] = defaultdict(_SiteYear)
    for s, v, t, w, operating, built, conv_in, conv_out, removed in zip(
            wards["site"], wards["service"], wards["year"], wards["wards"], wards["operating"],
            wards["built"], wards["converted_in"], wards["converted_out"], wards["removed"], strict=True):
        cell = cells[(s, int(t))]
        cell.after[v] = int(w)
        cell.open = cell.open or bool(operating)
        cell.built += int(built)
        cell.conv_in += int(conv_in)
        cell.conv_out += int(conv_out)
        cell.removed += int(removed)
    listed = {s for (s, _t) in cells}
    in_use = {s for (s, _t), cell in cells.items() if cell.open}
    rows = []
    for s in data.sites:
        if s not in listed:
            continue
        before = {v: data.existing_wards.get((s, v), 0) for v in services}
        was_open = data.initially_open[s]
        if not was_open and s not in in_use:
            continue  # a candidate never used, or a closed unit: nothing to decide
        for t in data.years:
            cell = cells.get((s, t), _SiteYear())
            after = {v: cell.after.get(v, 0) for v in services}
            is_open = cell.open
            built, conv_in, conv_out, removed = cell.built, cell.conv_in, cell.conv_out, cell.removed
            action = year_action(built, conv_out, removed, was_open, is_open,
                                 sum(before.values()), sum(after.values()))
            row = {"site": s, "name": data.site.at[s, "name"], "hub": data.hub_of_site[s],
                   "hub_name": hub_names.get(data.hub_of_site[s], data.hub_of_site[s]),
                   "footprint": data.footprint_of_site[s], "year": t, "action": action,
                   "wards_built": built, "wards_converted_out": conv_out,
                   "wards_converted_in": conv_in, "wards_removed": removed}
            for v in services:
                row[f"wards_before_{v}"] = before[v]
                row[f"wards_after_{v}"] = after[v]
                row[f"beds_before_{v}"] = before[v] * bpw[v]
                row[f"beds_after_{v}"] = after[v] * bpw[v]
            rows.append(row)
            before, was_open = after, is_open
    return pd.DataFrame(rows)


def kpis(solution: Solution, data: ModelInputs, case: str) -> pd.DataFrame:
    """KPIs for England, each hub and each footprint, for each year and for all years.

    Site-based costs and carbon (wards, fixed, capital cash less residual value, closure,
    decommissioning; estate and embodied carbon) are read from the model's own per-site terms
    (``site_cost``, ``site_carbon``) and counted in the hub where the site is; for footprints
    they are shared out in proportion to the beds each footprint uses at the site in that year
    (a site nobody uses counts at its hub only). Patient-based terms (beds, unmet, community,
    operational and travel carbon) are read from the model's per-footprint terms
    (``footprint_cost``, ``footprint_carbon``) and belong to the patients' home footprint.
    """
    cfg = data.config
    alloc = solution.allocation.copy()
    alloc["hub"] = alloc["footprint"].map(data.hub_of_footprint)
    alloc["patient_km"] = alloc["beds"] * alloc["km"]
    alloc["in_hub_beds"] = [b if data.hub_of_site[s] == h else 0.0 for s, h, b in
                            zip(alloc["site"], alloc["hub"], alloc["beds"], strict=True)]

    site_costs = solution.site_terms[["site", "year", "cost_gbp", "carbon_t"]].rename(
        columns={"cost_gbp": "site_cost_gbp", "carbon_t": "site_carbon_t"})
    # share each site-year's own cost out to the footprints using the site that year
    used = alloc.groupby(["site", "year"])["beds"].transform("sum")
    alloc = alloc.merge(site_costs, on=["site", "year"], how="left").fillna(
        {"site_cost_gbp": 0.0, "site_carbon_t": 0.0})
    alloc["cost_gbp"] = alloc["site_cost_gbp"] * alloc["beds"] / used.values
    alloc["carbon_t"] = alloc["site_carbon_t"] * alloc["beds"] / used.values

    # the patients' own terms, per home footprint, as the model computes them
    own = solution.footprint_terms[["footprint", "year", "cost_gbp", "carbon_t"]].copy()
    own["hub"] = own["footprint"].map(data.hub_of_footprint)
    unmet = solution.unmet.copy()
    unmet["hub"] = unmet["footprint"].map(data.hub_of_footprint)
    unmet["patient_km"] = unmet["unmet_beds"] * cfg.policy.unmet_km
    comm = solution.community.copy()
    comm["hub"] = comm["footprint"].map(data.hub_of_footprint)
    delayed = solution.delayed.copy()
    delayed["hub"] = delayed["footprint"].map(data.hub_of_footprint)

    keys = ["footprint", "hub", "year"]
    parts = [
        alloc.groupby(keys)[["cost_gbp", "carbon_t", "patient_km", "beds", "in_hub_beds"]].sum()
        .rename(columns={"beds": "placed_beds"}),
        own.groupby(keys)[["cost_gbp", "carbon_t"]].sum(),
        unmet.groupby(keys)[["patient_km", "unmet_beds", "need_beds", "demand_beds"]].sum(),
        comm.groupby(keys)[["places"]].sum().rename(columns={"places": "community_places"}),
        delayed.groupby(keys)[["delayed_patients"]].sum(),
    ]
    by_fp = pd.concat(parts, axis=1).T.groupby(level=0).sum().T.fillna(0.0)
    # site costs not used by any footprint (empty wards, closing sites) are counted at the hub only
    unused = site_costs.merge(alloc[["site", "year"]].drop_duplicates(), how="left",
                              indicator=True, on=["site", "year"])
    unused = unused[unused["_merge"] == "left_only"]
    unused_hub = unused.assign(hub=unused["site"].map(data.hub_of_site)).groupby(["hub", "year"])[
        ["site_cost_gbp", "site_carbon_t"]].sum()

    rows = []
    fp_table = by_fp.reset_index()
    for scope, group_keys in (("footprint", ["footprint"]), ("hub", ["hub"]), ("england", [])):
        for year_label, frame in [("all", fp_table)] + [(t, fp_table[fp_table["year"] == t])
                                                          for t in data.years]:
            for key, totals in _group_totals(frame, group_keys):
                if scope != "footprint":
                    extra = unused_hub
                    if scope == "hub":
                        extra = extra[extra.index.get_level_values("hub") == key]
                    if year_label != "all":
                        extra = extra[extra.index.get_level_values("year") == year_label]
                    totals["cost_gbp"] += extra["site_cost_gbp"].sum()
                    totals["carbon_t"] += extra["site_carbon_t"].sum()
                rows.append(_kpi_row(case, scope, key, year_label, totals, len(data.years)))
    return pd.DataFrame(rows)


KPI_SUMS = ("cost_gbp", "carbon_t", "patient_km", "placed_beds", "in_hub_beds", "unmet_beds", "need_beds",
            "demand_beds", "community_places", "delayed_patients")


def _group_totals(frame: pd.DataFrame, keys: list[str]) -> list[tuple[str, dict[str, float]]]:
    """(group, its sum of each of KPI_SUMS) in group order, England as one group for no keys.

    The numbers are read out once and each group's rows summed with numpy, as pandas sums a
    group's frame (each column's values in row order, one contiguous reduction), rather than a
    pandas frame and Series per group (seconds per run for a hundred footprints)."""
    values = frame[list(KPI_SUMS)].to_numpy(dtype=float)
    if keys:
        groups = frame.groupby(keys, sort=True).indices
        members = [(k[0] if isinstance(k, tuple) else k, groups[k]) for k in sorted(groups)]
    else:
        members = [("England", np.arange(len(frame)))]
    out = []
    for key, idx in members:
        sums = np.ascontiguousarray(values[idx].T).sum(axis=1)
        out.append((key, dict(zip(KPI_SUMS, sums.tolist(), strict=True))))
    return out


def _kpi_row(case: str, scope: str, key: str, year: object, totals: dict[str, float], n_years: int) -> dict:
    need = totals["need_beds"]
    placed = totals["placed_beds"]
    return {
        "case": case,
        "scope": scope,
        "id": key,
        "year": year,
        "cost_gbp": totals["cost_gbp"],
        "carbon_t": totals["carbon_t"],
        "patient_km": totals["patient_km"],
        "mean_km": totals["patient_km"] / (placed + totals["unmet_beds"])
        if placed + totals["unmet_beds"] > 0 else 0.0,
        "demand_beds": totals["demand_beds"],
        "need_beds": need,
        "placed_beds": placed,
        "in_hub_share": totals["in_hub_beds"] / need if need > 0 else 1.0,
        "unmet_beds": totals["unmet_beds"],
        "community_places": totals["community_places"],
        "delayed_discharges": totals["delayed_patients"],
    }


def check_kpis_total(kpi: pd.DataFrame, solution: Solution) -> float:
    """Undiscounted England cost over all years from the KPIs minus the same from the model."""
    england = kpi[(kpi["scope"] == "england") & (kpi["year"] == "all")]["cost_gbp"].sum()
    model_total = solution.years[[c for c in solution.years.columns
                                  if c.startswith("cost_")]].sum().sum()
    return float(england - model_total)
