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

    Every table is summed once into footprint-year cells (`_FootprintYears`) and each scope's
    rows are sums of those cells: a few numpy sums however many footprints, where a pandas
    operation per table and per group costs about a millisecond (a third of a small OR-Library
    run went here).
    """
    cells = _FootprintYears(data)
    cells.add_allocation(solution.allocation, solution.site_terms)
    own = solution.footprint_terms
    cells.add(own, {"cost_gbp": own["cost_gbp"], "carbon_t": own["carbon_t"]} if len(own) else {})
    unmet = solution.unmet
    cells.add(unmet, {"patient_km": unmet["unmet_beds"].to_numpy(dtype=float) * data.config.policy.unmet_km,
                      "unmet_beds": unmet["unmet_beds"], "need_beds": unmet["need_beds"],
                      "demand_beds": unmet["demand_beds"]})
    cells.add(solution.community, {"community_places": solution.community["places"]})
    cells.add(solution.delayed, {"delayed_patients": solution.delayed["delayed_patients"]})
    years = [("all", None)] + [(t, k) for k, t in enumerate(cells.years)]
    rows = []
    for scope, groups in (("footprint", cells.footprint_groups), ("hub", cells.hub_groups),
                          ("england", cells.england_group)):
        for year_label, year in years:
            rows += [_kpi_row(case, scope, key, year_label, totals, len(data.years))
                     for key, totals in groups(year)]
    return pd.DataFrame(rows)


KPI_SUMS = ("cost_gbp", "carbon_t", "patient_km", "placed_beds", "in_hub_beds", "unmet_beds", "need_beds",
            "demand_beds", "community_places", "delayed_patients")


class _FootprintYears:
    """Each of KPI_SUMS summed per footprint and year; which footprint-years any table has a row
    for (the groups `kpis` reports); and, per hub and year, the site cost and carbon of the
    site-years no footprint uses."""

    def __init__(self, data: ModelInputs) -> None:
        self.data = data
        self.years = list(data.years)
        self.year_index = pd.Index(self.years)
        self.footprints = pd.Index(data.footprints)
        self.hubs = sorted(set(data.hub_of_footprint.values()) | set(data.hub_of_site.values()))
        self.hub_code = {h: k for k, h in enumerate(self.hubs)}
        self.hub_of_footprint = np.array([self.hub_code[data.hub_of_footprint[f]] for f in self.footprints],
                                         dtype=np.int64)
        self.sums = np.zeros((len(KPI_SUMS), len(self.footprints), len(self.years)))
        self.present = np.zeros((len(self.footprints), len(self.years)), dtype=bool)
        self.unused = np.zeros((2, len(self.hubs), len(self.years)))  # cost, carbon

    def _cells(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's footprint-year as one index into the flattened cells."""
        f = self.footprints.get_indexer(frame["footprint"])
        t = self.year_index.get_indexer(frame["year"])
        if (f < 0).any() or (t < 0).any():
            raise ValueError("a result row names a footprint or year the model does not have")
        return f * len(self.years) + t

    def add(self, frame: pd.DataFrame, columns: dict[str, object]) -> None:
        """Add each column's values (by KPI name) to the cells of the frame's footprint-years."""
        if frame.empty:
            return
        cell = self._cells(frame)
        self.present.flat[cell] = True
        for name, values in columns.items():
            self.sums[KPI_SUMS.index(name)] += np.bincount(
                cell, weights=np.asarray(values, dtype=float), minlength=self.present.size
            ).reshape(self.present.shape)

    def add_allocation(self, alloc: pd.DataFrame, site_terms: pd.DataFrame) -> None:
        """The placements' beds and km, and each site-year's own cost and carbon shared out to the
        footprints using the site that year in proportion to their beds there; a site-year
        nobody uses counts at its hub."""
        data, n_years = self.data, len(self.years)
        sites = pd.Index(data.sites)
        hub_of_site = np.array([self.hub_code[data.hub_of_site[x]] for x in sites], dtype=np.int64)
        own = np.zeros((2, len(sites) * n_years))  # each site-year's cost and carbon
        listed = np.zeros(0, dtype=np.int64)
        if not site_terms.empty:
            listed = (sites.get_indexer(site_terms["site"]) * n_years
                      + self.year_index.get_indexer(site_terms["year"]))
            own[0, listed] = site_terms["cost_gbp"].to_numpy(dtype=float)
            own[1, listed] = site_terms["carbon_t"].to_numpy(dtype=float)
        in_use = np.zeros(len(sites) * n_years, dtype=bool)
        if not alloc.empty:
            beds = alloc["beds"].to_numpy(dtype=float)
            site = sites.get_indexer(alloc["site"])
            site_year = site * n_years + self.year_index.get_indexer(alloc["year"])
            in_use[site_year] = True
            share = beds / np.bincount(site_year, weights=beds, minlength=in_use.size)[site_year]
            home_hub = self.hub_of_footprint[self.footprints.get_indexer(alloc["footprint"])]
            self.add(alloc, {"cost_gbp": own[0, site_year] * share, "carbon_t": own[1, site_year] * share,
                             "patient_km": beds * alloc["km"].to_numpy(dtype=float), "placed_beds": beds,
                             "in_hub_beds": np.where(hub_of_site[site] == home_hub, beds, 0.0)})
        nobody = listed[~in_use[listed]]
        hub_year = hub_of_site[nobody // n_years] * n_years + nobody % n_years
        for k in (0, 1):
            self.unused[k] += np.bincount(hub_year, weights=own[k, nobody],
                                          minlength=self.unused[k].size).reshape(self.unused[k].shape)

    def _selected(self, year: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sums per footprint, footprints with a row, unused site terms per hub) over every year
        (None) or the year of that index."""
        if year is None:
            return self.sums.sum(axis=2), self.present.any(axis=1), self.unused.sum(axis=2)
        return self.sums[:, :, year], self.present[:, year], self.unused[:, :, year]

    def _totals(self, sums: np.ndarray, members: np.ndarray) -> dict[str, float]:
        return dict(zip(KPI_SUMS, sums[:, members].sum(axis=1).tolist(), strict=True))

    def footprint_groups(self, year: int | None) -> list[tuple[str, dict[str, float]]]:
        sums, present, _unused = self._selected(year)
        members = sorted(np.flatnonzero(present), key=self.footprints.__getitem__)
        return [(self.footprints[k], dict(zip(KPI_SUMS, sums[:, k].tolist(), strict=True))) for k in members]

    def _hubs_with_rows(self, present: np.ndarray) -> list[int]:
        """The hubs with a footprint that has a row: the hubs reported."""
        return sorted({int(h) for h in self.hub_of_footprint[present]}, key=self.hubs.__getitem__)

    def hub_groups(self, year: int | None) -> list[tuple[str, dict[str, float]]]:
        sums, present, unused = self._selected(year)
        out = []
        for h in self._hubs_with_rows(present):
            totals = self._totals(sums, present & (self.hub_of_footprint == h))
            totals["cost_gbp"] += float(unused[0, h])
            totals["carbon_t"] += float(unused[1, h])
            out.append((self.hubs[h], totals))
        return out

    def england_group(self, year: int | None) -> list[tuple[str, dict[str, float]]]:
        sums, present, unused = self._selected(year)
        totals = self._totals(sums, present)
        totals["cost_gbp"] += float(unused[0].sum())  # every hub's, reported as a hub or not
        totals["carbon_t"] += float(unused[1].sum())
        return [("England", totals)]


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
