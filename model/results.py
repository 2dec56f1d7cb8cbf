"""Turn a solved model into tables: wards, decisions, allocation, KPIs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyomo.environ as pyo

from model.inputs import ModelInputs
from model.objective import CARBON_TERMS, COST_TERMS

EPS = 1e-6
ACTIONS = ("keep", "expand", "reconfigure", "reduce", "decommission", "commission")


def _val(component) -> float:
    value = pyo.value(component, exception=False)
    return 0.0 if value is None else float(value)


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
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        return sum(self.objective_terms.values())


def extract(m: pyo.ConcreteModel, data: ModelInputs) -> Solution:
    conv_in: dict[tuple[str, str, int], float] = {}
    conv_out: dict[tuple[str, str, int], float] = {}
    for (s, u, v) in data.conversions:
        for t in data.years:
            amount = round(_val(m.convert[s, u, v, t]))
            conv_out[(s, u, t)] = conv_out.get((s, u, t), 0) + amount
            conv_in[(s, v, t)] = conv_in.get((s, v, t), 0) + amount
    occupied: dict[tuple[str, str, int], float] = {}
    alloc_rows = []
    for (f, s, v) in data.arcs:
        for t in data.years:
            beds = _val(m.place[f, s, v, t])
            if beds > EPS:
                occupied[(s, v, t)] = occupied.get((s, v, t), 0.0) + beds
                alloc_rows.append((f, s, v, t, beds, float(data.km.at[f, s])))
    ward_rows = []
    for (s, v) in data.site_services:
        bpw = int(data.service.at[v, "beds_per_ward"])
        for t in data.years:
            wards = round(_val(m.wards[s, v, t]))
            ward_rows.append({
                "site": s, "service": v, "year": t, "wards": wards, "beds": wards * bpw,
                "built": round(_val(m.build[s, v, t])),
                "converted_in": conv_in.get((s, v, t), 0),
                "converted_out": conv_out.get((s, v, t), 0),
                "removed": round(_val(m.remove[s, v, t])),
                "occupied_beds": occupied.get((s, v, t), 0.0),
                "operating": round(_val(m.operate[s, t])),
            })
    wards_df = pd.DataFrame(ward_rows)
    capacity = wards_df["beds"].where(wards_df["beds"] > 0)
    wards_df["utilisation"] = (wards_df["occupied_beds"] / capacity).fillna(0.0)
    allocation = pd.DataFrame(alloc_rows, columns=["footprint", "site", "service", "year", "beds", "km"])
    unmet = pd.DataFrame(
        [(f, v, t, _val(m.unmet[f, v, t]), _val(m.need[f, v, t]), data.d(f, v, t))
         for (f, v) in data.need_pairs for t in data.years],
        columns=["footprint", "service", "year", "unmet_beds", "need_beds", "demand_beds"])
    delayed = pd.DataFrame(
        [(f, v, w, t, _val(m.delayed[f, v, w, t]), _val(m.stepdown[f, v, w, t]))
         for (f, v, w) in data.stepdown_pairs for t in data.years],
        columns=["footprint", "from_service", "to_service", "year", "delayed_patients",
                 "stepdown_patients"])
    subst = {(f, c, t): _val(m.substitute[f, c, t]) for (f, c) in m.SUBST for t in data.years}
    community = pd.DataFrame(
        [(f, c, t, _val(m.places[f, c, t]), subst.get((f, c, t), 0.0))
         for (f, c) in m.COMMUNITY_PLACES for t in data.years],
        columns=["footprint", "service", "year", "places", "substitute_places"])
    year_rows = []
    for t in data.years:
        row = {"year": t, "discount_factor": data.discount[t], "carbon_price": data.carbon_price[t]}
        for k in COST_TERMS:
            row[f"cost_{k}_gbp"] = _val(m.cost[k, t])
        for k in CARBON_TERMS:
            row[f"carbon_{k}_t"] = _val(m.carbon[k, t])
        row["patient_km"] = _val(m.patient_km[t])
        row["delayed_patients"] = _val(m.delayed_total[t])
        year_rows.append(row)
    terms = {k: _val(m.objective_terms[k]) for k in m.objective_terms}
    return Solution(wards=wards_df, allocation=allocation, unmet=unmet, delayed=delayed,
                    community=community, years=pd.DataFrame(year_rows), objective_terms=terms)


def classify(before: dict[str, int], after: dict[str, int], built: int, converted: int,
             was_open: bool, is_open: bool) -> str:
    """The action at a site in one year, from its wards per service before and after."""
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


def decisions(solution: Solution, data: ModelInputs) -> pd.DataFrame:
    """One row per site and year: the action and wards/beds per service before and after."""
    wards = solution.wards
    services = sorted({v for (_s, v) in data.site_services}, key=data.inpatient.index)
    rows = []
    for s in data.sites:
        site_rows = wards[wards["site"] == s]
        if site_rows.empty:
            continue
        before = {v: data.existing_wards.get((s, v), 0) for v in services}
        was_open = data.initially_open[s]
        if not was_open and site_rows["operating"].sum() == 0:
            continue  # a candidate never used, or a closed unit: nothing to decide
        for t in data.years:
            year_rows = site_rows[site_rows["year"] == t].set_index("service")
            after = {v: int(year_rows.at[v, "wards"]) if v in year_rows.index else 0 for v in services}
            is_open = bool(year_rows["operating"].max())
            action = classify(before, after, int(year_rows["built"].sum()),
                              int(year_rows["converted_in"].sum()), was_open, is_open)
            row = {"site": s, "name": data.site.at[s, "name"], "hub": data.hub_of_site[s],
                   "footprint": data.footprint_of_site[s], "year": t, "action": action}
            for v in services:
                bpw = int(data.service.at[v, "beds_per_ward"])
                row[f"wards_before_{v}"] = before[v]
                row[f"wards_after_{v}"] = after[v]
                row[f"beds_before_{v}"] = before[v] * bpw
                row[f"beds_after_{v}"] = after[v] * bpw
            rows.append(row)
            before, was_open = after, is_open
    return pd.DataFrame(rows)


def kpis(solution: Solution, data: ModelInputs, case: str) -> pd.DataFrame:
    """KPIs for England, each hub and each footprint, for each year and for all years.

    Site-based costs (wards, fixed, capital, closure) and their carbon are counted in the hub
    where the site is; for footprints they are shared out in proportion to the beds each
    footprint uses at the site in that year. Patient-based terms (beds, unmet, community,
    travel) belong to the patients' home footprint and hub.
    """
    cfg = data.config
    bed_t = {v: 365.0 * float(data.service.at[v, "carbon_kg_per_bed_day"]) / 1000.0
             for v in data.services}
    visit_t = 2.0 * cfg.travel.visits_per_patient_year * cfg.travel.car_kg_per_km / 1000.0
    c_bed = data.service["cost_per_occupied_bed_gbp"].to_dict()
    cost_factor = data.site["cost_factor"].to_dict()
    carbon_factor = data.site["carbon_factor"].to_dict()

    alloc = solution.allocation.copy()
    alloc["hub"] = alloc["footprint"].map(data.hub_of_footprint)
    alloc["cost_gbp"] = [cost_factor[s] * c_bed[v] * b for s, v, b in
                         zip(alloc["site"], alloc["service"], alloc["beds"], strict=True)]
    alloc["carbon_t"] = [bed_t[v] * carbon_factor[s] * b + visit_t * k * b for s, v, b, k in
                         zip(alloc["site"], alloc["service"], alloc["beds"], alloc["km"], strict=True)]
    alloc["patient_km"] = alloc["beds"] * alloc["km"]
    alloc["in_hub_beds"] = [b if data.hub_of_site[s] == h else 0.0 for s, h, b in
                            zip(alloc["site"], alloc["hub"], alloc["beds"], strict=True)]

    site_costs = _site_costs(solution, data)
    # share each site-service-year's fixed cost out to the footprints using it
    used = alloc.groupby(["site", "service", "year"])["beds"].transform("sum")
    alloc = alloc.merge(site_costs, on=["site", "service", "year"], how="left").fillna(
        {"site_cost_gbp": 0.0, "site_carbon_t": 0.0})
    alloc["cost_gbp"] += alloc["site_cost_gbp"] * alloc["beds"] / used.values
    alloc["carbon_t"] += alloc["site_carbon_t"] * alloc["beds"] / used.values

    unmet = solution.unmet.copy()
    unmet["hub"] = unmet["footprint"].map(data.hub_of_footprint)
    unmet["cost_gbp"] = [data.unmet_cost_per_bed(v) * b for v, b in
                         zip(unmet["service"], unmet["unmet_beds"], strict=True)]
    unmet["carbon_t"] = [(bed_t[v] + visit_t * cfg.policy.unmet_km) * b for v, b in
                         zip(unmet["service"], unmet["unmet_beds"], strict=True)]
    unmet["patient_km"] = unmet["unmet_beds"] * cfg.policy.unmet_km
    comm = solution.community.copy()
    comm["hub"] = comm["footprint"].map(data.hub_of_footprint)
    comm["cost_gbp"] = [c_bed[c] * p for c, p in zip(comm["service"], comm["places"], strict=True)]
    comm["carbon_t"] = [bed_t[c] * p for c, p in zip(comm["service"], comm["places"], strict=True)]
    delayed = solution.delayed.copy()
    delayed["hub"] = delayed["footprint"].map(data.hub_of_footprint)

    keys = ["footprint", "hub", "year"]
    parts = [
        alloc.groupby(keys)[["cost_gbp", "carbon_t", "patient_km", "beds", "in_hub_beds"]].sum()
        .rename(columns={"beds": "placed_beds"}),
        unmet.groupby(keys)[["cost_gbp", "carbon_t", "patient_km", "unmet_beds", "need_beds",
                             "demand_beds"]].sum(),
        comm.groupby(keys)[["cost_gbp", "carbon_t", "places"]].sum()
        .rename(columns={"places": "community_places"}),
        delayed.groupby(keys)[["delayed_patients"]].sum(),
    ]
    by_fp = pd.concat(parts, axis=1).T.groupby(level=0).sum().T.fillna(0.0)
    # site costs not used by any footprint (empty wards) are counted at the hub only
    unused = site_costs.merge(
        alloc[["site", "service", "year"]].drop_duplicates(), how="left", indicator=True,
        on=["site", "service", "year"])
    unused = unused[unused["_merge"] == "left_only"]
    unused_hub = unused.assign(hub=unused["site"].map(data.hub_of_site)).groupby(["hub", "year"])[
        ["site_cost_gbp", "site_carbon_t"]].sum()

    rows = []
    fp_table = by_fp.reset_index()
    for scope, group_keys in (("footprint", ["footprint"]), ("hub", ["hub"]), ("england", [])):
        for year_label, frame in [("all", fp_table)] + [(t, fp_table[fp_table["year"] == t])
                                                          for t in data.years]:
            grouped = frame.groupby(group_keys) if group_keys else [("England", frame)]
            for key, sub in grouped:
                key = key[0] if isinstance(key, tuple) else key
                totals = sub[["cost_gbp", "carbon_t", "patient_km", "placed_beds", "in_hub_beds",
                              "unmet_beds", "need_beds", "demand_beds", "community_places",
                              "delayed_patients"]].sum()
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


def _kpi_row(case: str, scope: str, key: str, year: object, totals: pd.Series, n_years: int) -> dict:
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


def _site_costs(solution: Solution, data: ModelInputs) -> pd.DataFrame:
    """Per site, service and year: ward, site-fixed, capital and closure costs (GBP, undiscounted)
    and embodied carbon, as in the objective; the site's own terms are split by wards."""
    svc = data.service
    site = data.site
    wards = solution.wards.copy()
    life = float(data.config.asset_life_years)
    wards["bpw"] = wards["service"].map(svc["beds_per_ward"]).astype(float)
    wards["ward_cost"] = [site.at[s, "cost_factor"] * svc.at[v, "cost_per_ward_gbp"] * w
                          for s, v, w in zip(wards["site"], wards["service"], wards["wards"], strict=True)]
    wards["capital_spent"] = [
        b * (svc.at[v, "capital_new_bed_gbp"] * built + svc.at[v, "capital_convert_bed_gbp"] * conv)
        for v, b, built, conv in zip(wards["service"], wards["bpw"], wards["built"],
                                     wards["converted_in"], strict=True)]
    wards["embodied_added"] = [
        b * (svc.at[v, "embodied_t_per_new_bed"] * built + svc.at[v, "embodied_t_per_converted_bed"] * conv)
        for v, b, built, conv in zip(wards["service"], wards["bpw"], wards["built"],
                                     wards["converted_in"], strict=True)]
    wards = wards.sort_values(["site", "service", "year"])
    wards["capital_cost"] = _in_life_sum(wards, "capital_spent", data) * data.annuity_factor
    wards["embodied_t"] = _in_life_sum(wards, "embodied_added", data) / life
    # site-level terms split evenly across the site's services with wards that year
    site_terms = []
    for s in data.sites:
        status = site.at[s, "status"]
        prev = 1 if data.initially_open[s] else 0
        for t in data.years:
            rows = solution.wards[(solution.wards["site"] == s) & (solution.wards["year"] == t)]
            op = int(rows["operating"].max()) if not rows.empty else 0
            cost = site.at[s, "fixed_cost_gbp"] * op
            if status == "existing" and prev > op:
                cost += site.at[s, "close_cost_gbp"]
            opening = site.at[s, "open_cost_gbp"] if status == "candidate" and op > prev else 0.0
            site_terms.append((s, t, cost, opening))
            prev = op
    terms = pd.DataFrame(site_terms, columns=["site", "year", "site_cost", "opening"])
    terms = terms.sort_values(["site", "year"])
    terms["opening_annuity"] = _in_life_sum(terms, "opening", data, keys=("site",)) * data.annuity_factor
    wards = wards.merge(terms, on=["site", "year"], how="left")
    n_services = wards.groupby(["site", "year"])["service"].transform("count")
    share = 1.0 / n_services
    wards["site_cost_gbp"] = (wards["ward_cost"] + wards["capital_cost"]
                              + (wards["site_cost"] + wards["opening_annuity"]) * share)
    wards["site_carbon_t"] = wards["embodied_t"]
    return wards[["site", "service", "year", "site_cost_gbp", "site_carbon_t"]]


def _in_life_sum(frame: pd.DataFrame, column: str, data: ModelInputs,
                 keys: tuple[str, ...] = ("site", "service")) -> pd.Series:
    """Per row: the sum of `column` over the same keys' years still within the asset life."""
    life = data.config.asset_life_years
    out = pd.Series(0.0, index=frame.index)
    for _, group in frame.groupby(list(keys)):
        years = group["year"].to_numpy()
        values = group[column].to_numpy(dtype=float)
        for idx, year in zip(group.index, years, strict=True):
            out[idx] = values[(years > year - life) & (years <= year)].sum()
    return out


def check_kpis_total(kpi: pd.DataFrame, solution: Solution) -> float:
    """Undiscounted England cost over all years from the KPIs minus the same from the model."""
    england = kpi[(kpi["scope"] == "england") & (kpi["year"] == "all")]["cost_gbp"].sum()
    model_total = solution.years[[c for c in solution.years.columns
                                  if c.startswith("cost_")]].sum().sum()
    return float(england - model_total)
