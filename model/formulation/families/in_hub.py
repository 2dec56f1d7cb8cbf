"""The in-hub rule: a minimum share of each footprint's need placed in its own hub.

Everything about the rule is here: its rows (`in_hub_share`), the implied hub capacity rows
that strengthen it (`hub_capacity`), and the pre-solve check that proves it cannot be met.
The rule applies from ``ModelInputs.in_hub_from`` (``policy.in_hub_from_year``, default the
base year): today's estate may not meet it before new capacity can be built.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.checks import Finding, max_wards_possible, min_need
from model.formulation.roles import IMPLIED_RULE, RULE, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def _share(data: ModelInputs) -> dict[str, float]:
    return {v: float(data.service.at[v, "in_hub_share"]) for v in data.inpatient}


def add_hub_capacity(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Hub capacity per hub h, service v with :math:`\eta_v > 0` and year t the rule applies
    (`in_hub_share` summed over the hub's footprints, whose in-hub placements fit the hub's
    wards):

    .. math::

        \sum_{s:\,hub(s)=h,\,(s,v)\in SV} b_v o_v\, wards_{s,v,t}
            \ge \eta_v \sum_{f:\,hub(f)=h,\,(f,v)\in NEED} need_{f,v,t}

    Valid (implied) rows: like `national_capacity` they give HiGHS ward-rounding cuts; lifted
    with the rule in the do-nothing baseline.
    """
    eta = _share(data)
    beds_of = {v: data.beds_per_ward_at_occupancy(v) for v in data.inpatient}
    hub_sites: dict[tuple[str, str], list[str]] = {}
    for s, v in data.site_services:
        hub_sites.setdefault((data.hub_of_site[s], v), []).append(s)
    hub_needs: dict[tuple[str, str], list[str]] = {}
    for f, v in data.need_pairs:
        if eta[v] > 0:
            hub_needs.setdefault((data.hub_of_footprint[f], v), []).append(f)
    m.HUB_SERVICES = pyo.Set(initialize=sorted(hub_needs), dimen=2, ordered=True)

    def hub_capacity(_m, h, v, t):
        if t < data.in_hub_from or not hub_sites.get((h, v)):
            return pyo.Constraint.Skip  # no wards in the hub: in_hub_share alone says it all
        capacity = sum(beds_of[v] * m.wards[s, v, t] for s in hub_sites.get((h, v), []))
        return capacity >= eta[v] * sum(terms.need[f, v, t] for f in hub_needs[(h, v)])

    m.hub_capacity = pyo.Constraint(m.HUB_SERVICES, m.T, rule=hub_capacity)
    return [(m.hub_capacity, IMPLIED_RULE)]


def add_in_hub_share(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""For each footprint f, inpatient service v with in-hub share :math:`\eta_v > 0`, and year
    t from ``policy.in_hub_from_year`` on:

    .. math::

        \sum_{s \in hub(f)} place_{f,s,v,t} \ge
            \eta_v \Big(\sum_{s} place_{f,s,v,t} + unmet_{f,v,t}\Big)

    A planning rule: lifted in the do-nothing baseline, whose estate may break it.
    """
    share = _share(data)
    m.IN_HUB = pyo.Set(initialize=[(f, v) for (f, v) in data.need_pairs if share[v] > 0],
                       dimen=2, ordered=True)

    def in_hub_share(_m, f, v, t):
        if t < data.in_hub_from:
            return pyo.Constraint.Skip
        sites = terms.arcs_by_need.get((f, v), [])
        hub = data.hub_of_footprint[f]
        inside = sum(m.place[f, s, v, t] for s in sites if data.hub_of_site[s] == hub)
        total = sum(m.place[f, s, v, t] for s in sites) + m.unmet[f, v, t]
        return inside >= share[v] * total

    m.in_hub_share = pyo.Constraint(m.IN_HUB, m.T, rule=in_hub_share)
    return [(m.in_hub_share, RULE)]


def check_in_hub_capacity(data: ModelInputs) -> list[Finding]:
    """Hub, service and year where the rule needs more in-hub beds than any decision can give
    by then (existing wards, new ones only after their lead times)."""
    findings = []
    for v, share in _share(data).items():
        if share <= 0:
            continue
        beds_per_ward = data.beds_per_ward_at_occupancy(v)
        for h in data.hubs:
            footprints = [f for f in data.footprints if data.hub_of_footprint[f] == h]
            sites = [s for (s, vv) in data.site_services if vv == v and data.hub_of_site[s] == h]
            for t in data.years:
                if t < data.in_hub_from:
                    continue
                required = share * sum(min_need(data, f, v, t) for f in footprints)
                capacity = beds_per_ward * sum(max_wards_possible(data, s, v, t) for s in sites)
                if required > capacity + 1e-6:
                    findings.append(Finding(
                        "in_hub_share", h, v, t,
                        f"hub {h} must place at least {share:.0%} of its {v} need in the hub "
                        f"({required:.1f} beds in {t}) but can have at most {capacity:.1f} {v} "
                        f"beds there by then (existing wards, and new ones only after their lead "
                        f"times). Lower in_hub_share for {v}, set policy.in_hub_from_year later "
                        f"than {t}, shorten lead times or add candidate sites in {h}."))
    return findings
