"""Index sets and parameters of the MIP, derived once from a loaded scenario.

The constraint modules read only this object, so the mathematics in their docstrings maps onto
plain Python containers with the same names as ``docs/formulation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from model.arcs import choose_arcs
from model.data import ScenarioData
from model.distances import distance_matrix
from model.errors import ScenarioError
from model.locks import Bound, Lock, check_locks, lock_bounds, read_locks

DAYS_PER_YEAR = 365.0


@dataclass
class ModelInputs:
    """Everything the model builder needs, indexed as in docs/formulation.md."""

    scenario: ScenarioData
    years: list[int]
    base_year: int
    hubs: list[str]
    footprints: list[str]
    sites: list[str]
    services: list[str]
    inpatient: list[str]
    community: list[str]
    hub_of_footprint: dict[str, str]
    footprint_of_site: dict[str, str]
    hub_of_site: dict[str, str]
    service: pd.DataFrame  # services table indexed by service
    site: pd.DataFrame  # sites table indexed by site
    km: pd.DataFrame  # footprint x site
    demand: dict[tuple[str, str, int], float]
    site_services: list[tuple[str, str]]  # (s, v): site s may host inpatient service v
    existing_wards: dict[tuple[str, str], int]
    conversions: list[tuple[str, str, str]]  # (s, v_from, v_to)
    convertible: list[tuple[str, str]]  # (s, v) in SV at a site where conversions are allowed
    arcs: list[tuple[str, str, str]]  # (f, s, v): f's patients of v may be placed at s
    need_pairs: list[tuple[str, str]]  # (f, v) inpatient with positive demand in some year
    pathway: list[tuple[str, str]]  # step-down routes (v, v')
    pathway_share: dict[tuple[str, str], float]
    stepdown_pairs: list[tuple[str, str, str]]  # (f, v, v'): f has demand for v
    reach: dict[tuple[str, str], list[str]]  # (f, v') -> sites in step-down reach
    substitutions: list[tuple[str, str, str]]  # (f, c, v): community c replaces f's demand of v
    discount: dict[int, float]
    carbon_price: dict[int, float]
    residual_share: dict[int, float]  # share of capital spent in year t still unused at the end
    initially_open: dict[str, bool]
    earliest_build: dict[tuple[str, str], int]
    earliest_conversion: dict[tuple[str, str], int]
    earliest_open: dict[str, int]
    earliest_close: dict[str, int]
    earliest_remove: int  # first year a ward may be removed (ward removal notice)
    in_hub_from: int  # first year the in-hub rule applies
    earliest_places: dict[str, int]  # community c: first year places beyond base need may start
    locks: list[Lock] = field(default_factory=list)  # fixed decisions (fixed_decisions.csv)
    lock_bounds: list[Bound] = field(default_factory=list)  # what they ask, year by year
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def config(self):
        return self.scenario.config

    def d(self, f: str, v: str, t: int) -> float:
        return self.demand.get((f, v, t), 0.0)

    def full_cost_per_bed(self, v: str) -> float:
        """Cost of one occupied bed-year in a ward at target occupancy (ward cost spread on beds)."""
        row = self.service.loc[v]
        beds = row["beds_per_ward"] * row["target_occupancy"]
        ward_share = row["cost_per_ward_gbp"] / beds if beds > 0 else 0.0
        return float(row["cost_per_occupied_bed_gbp"] + ward_share)

    def unmet_cost_per_bed(self, v: str) -> float:
        return self.full_cost_per_bed(v) * (1.0 + float(self.service.at[v, "out_of_area_premium"]))

    def unmet_costs(self) -> dict[str, float]:
        """`unmet_cost_per_bed` of every inpatient service (the objective's unmet term and the
        unavoidable cost read the same figures; one pandas lookup a service, not one a term)."""
        return {v: self.unmet_cost_per_bed(v) for v in self.inpatient}

    def arc_km(self) -> dict[tuple[str, str], float]:
        """km_{f,s} of every (footprint, site) with an arc, read from ``km`` in one pass (the
        objective and the allocation table need it per arc: ``km.at`` per arc took seconds)."""
        return pair_km(self.km, dict.fromkeys((f, s) for (f, s, _v) in self.arcs))

    def beds_per_ward_at_occupancy(self, v: str) -> float:
        row = self.service.loc[v]
        return float(row["beds_per_ward"] * row["target_occupancy"])


def pair_km(km: pd.DataFrame, pairs) -> dict[tuple[str, str], float]:
    """``{(f, s): float(km.at[f, s])}`` for the (footprint, site) `pairs`, in one indexing step."""
    pairs = list(pairs)
    rows = km.index.get_indexer([f for f, _s in pairs])
    cols = km.columns.get_indexer([s for _f, s in pairs])
    if (rows < 0).any() or (cols < 0).any():
        missing = [p for p, r, c in zip(pairs, rows, cols, strict=True) if r < 0 or c < 0]
        raise KeyError(f"no distance for {missing[:5]}")
    values = km.to_numpy(dtype=float)[rows, cols]
    return dict(zip(pairs, values.tolist(), strict=True))


def residual_share(rate: float, life_years: int, spent_year: int, last_year: int) -> float:
    """Share of capital spent in `spent_year` whose value is still unused after `last_year`.

    Capital of 1 GBP buys ``life_years`` years of service; spread as equal payments at the
    start of each year of its life, with present value 1 at ``spent_year``, the payments after
    ``last_year`` are worth this share (straight line when the rate is 0). Spending minus this
    residual value is the present value of the payments within the horizon, so an asset that
    still stands at the end is charged only for the years the horizon uses, and one that is
    removed forfeits its residual value (its stranded capital is charged in full).
    """
    used = last_year - spent_year + 1
    if used >= life_years:
        return 0.0
    if rate == 0:
        return (life_years - used) / life_years
    weights = [(1.0 + rate) ** -k for k in range(life_years)]
    return sum(weights[used:]) / sum(weights)


def build_inputs(scenario: ScenarioData, km: pd.DataFrame | None = None) -> ModelInputs:
    cfg = scenario.config
    policy = cfg.policy
    years = cfg.years
    base = cfg.base_year
    services = scenario.services.set_index("service")
    sites = scenario.sites.set_index("site")
    footprints = scenario.footprints.set_index("footprint")
    # Plain lists: iterating a pandas index of strings converts every label on each pass.
    site_ids, footprint_ids = list(sites.index), list(footprints.index)
    inpatient = [v for v in services.index if services.at[v, "level"] != "community"]
    community = [v for v in services.index if services.at[v, "level"] == "community"]
    if km is None:
        km = distance_matrix(scenario)

    demand: dict[tuple[str, str, int], float] = {}
    for row in scenario.demand.itertuples(index=False):
        if row.beds > 0:
            demand[(row.footprint, row.service, int(row.year))] = float(row.beds)

    site_services = [(r.site, r.service) for r in scenario.site_services.itertuples(index=False)]
    existing = {(r.site, r.service): int(r.wards) for r in scenario.site_services.itertuples(index=False)}
    hosted: dict[str, list[str]] = {}
    for s, v in site_services:
        hosted.setdefault(s, []).append(v)
    conversions = []
    if policy.allow_conversions:
        conversions = [(s, a, b) for s, vs in hosted.items() for a in vs for b in vs if a != b]

    convertible = sorted({(s, a) for (s, a, _b) in conversions}, key=site_services.index)

    need_pairs = sorted({(f, v) for (f, v, _t) in demand if v in inpatient})
    max_km = policy.max_placement_km
    hub_of_fp = footprints["hub"].to_dict()
    fp_of_site = sites["footprint"].to_dict()
    hub_of_site = {s: hub_of_fp[f] for s, f in fp_of_site.items()}
    arcs = choose_arcs(need_pairs, site_ids, set(existing), km, max_km, cfg.solver.arcs,
                       hub_of_fp, hub_of_site)

    pathway = [(r.from_service, r.to_service) for r in scenario.pathway.itertuples(index=False)]
    pathway_share = {(r.from_service, r.to_service): float(r.share)
                     for r in scenario.pathway.itertuples(index=False)}
    stepdown_pairs = [(f, v, w) for (v, w) in pathway for (f, vv) in need_pairs if vv == v
                      and pathway_share[(v, w)] > 0]
    reach: dict[tuple[str, str], list[str]] = {}
    pairs_km = pair_km(km, ((f, s) for f in footprint_ids for s in site_ids))
    reach_km = policy.stepdown_reach_km
    for f in footprint_ids:
        hub = hub_of_fp[f]
        for v in inpatient:
            reach[(f, v)] = [s for s in site_ids if (s, v) in existing
                             and (hub_of_site[s] == hub or pairs_km[f, s] <= reach_km)]

    substitutions = []
    for c in community:
        target = services.at[c, "substitutes"]
        active = services.at[c, "substitution_rate"] > 0 and services.at[c, "max_substitution_share"] > 0
        if target and active:
            substitutions += [(f, c, target) for (f, v) in need_pairs if v == target]

    initially_open = {
        s: bool(sites.at[s, "status"] == "existing"
                and sum(existing.get((s, v), 0) for v in inpatient) > 0)
        for s in site_ids
    }
    own_lead = {(r.site, r.service): int(r.lead_years) for r in scenario.site_services.itertuples(index=False)
                if not pd.isna(r.lead_years)}
    earliest_build = {
        (s, v): base + own_lead.get((s, v), max(int(services.at[v, "new_build_lead_years"]),
                                                int(sites.at[s, "lead_years"])))
        for (s, v) in site_services
    }
    earliest_conversion = {
        (s, v): base + max(int(services.at[v, "conversion_lead_years"]), int(sites.at[s, "lead_years"]))
        for (s, v) in site_services
    }
    earliest_open = {s: base + int(sites.at[s, "lead_years"]) for s in site_ids}
    earliest_close = {s: base + policy.closure_notice_years for s in site_ids}
    earliest_places = {c: base + int(services.at[c, "new_build_lead_years"]) for c in community}

    inputs = ModelInputs(
        scenario=scenario,
        years=years,
        base_year=base,
        hubs=list(scenario.hubs["hub"]),
        footprints=footprint_ids,
        sites=site_ids,
        services=list(services.index),
        inpatient=inpatient,
        community=community,
        hub_of_footprint=hub_of_fp,
        footprint_of_site=fp_of_site,
        hub_of_site=hub_of_site,
        service=services,
        site=sites,
        km=km,
        demand=demand,
        site_services=site_services,
        existing_wards=existing,
        conversions=conversions,
        convertible=convertible,
        arcs=arcs,
        need_pairs=need_pairs,
        pathway=pathway,
        pathway_share=pathway_share,
        stepdown_pairs=stepdown_pairs,
        reach=reach,
        substitutions=substitutions,
        discount={t: (1.0 + cfg.discount_rate) ** -(t - base) for t in years},
        carbon_price={t: cfg.carbon_price(t) for t in years},
        residual_share={t: residual_share(cfg.discount_rate, cfg.asset_life_years, t, years[-1])
                        for t in years},
        initially_open=initially_open,
        earliest_build=earliest_build,
        earliest_conversion=earliest_conversion,
        earliest_open=earliest_open,
        earliest_close=earliest_close,
        earliest_remove=base + policy.ward_removal_notice_years,
        in_hub_from=policy.in_hub_from_year or years[0],
        earliest_places=earliest_places,
    )
    _add_locks(inputs)
    return inputs


def _add_locks(inputs: ModelInputs) -> None:
    """The fixed decisions and their bounds; every conflict they have is a ScenarioError."""
    frame = inputs.scenario.tables.get("fixed_decisions")
    if frame is None or frame.empty:
        return
    files = inputs.scenario.input_files
    file = str(files.get("fixed_decisions.csv", files.get("scenario.yaml", "fixed_decisions")))
    locks = read_locks(frame)
    problems = check_locks(inputs, locks, file)
    if problems:
        raise ScenarioError(problems)
    inputs.locks = locks
    inputs.lock_bounds = [b for lock in locks for b in lock_bounds(lock, inputs)]
