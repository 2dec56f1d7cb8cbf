"""Aggregate capacity: national and in-hub ward capacity cover need (redundant, valid rows)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import ModelInputs


def add_aggregate(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    r"""Capacity per inpatient service and year, nationally and in each hub (sums of rows
    already in the model).

    `national_capacity`, per service v with need and year t:

    .. math::

        \sum_{s:(s,v)\in SV} b_v o_v\, wards_{s,v,t} + \sum_{f:(f,v)\in NEED} unmet_{f,v,t}
            \ge \sum_{f:(f,v)\in NEED} need_{f,v,t}

    (`demand_balance` summed over footprints plus `ward_capacity` summed over sites), and
    `hub_capacity`, per hub h, service v with :math:`\eta_v > 0` and year t in which the in-hub
    share applies:

    .. math::

        \sum_{s:\,hub(s)=h,\,(s,v)\in SV} b_v o_v\, wards_{s,v,t}
            \ge \eta_v \sum_{f:\,hub(f)=h,\,(f,v)\in NEED} need_{f,v,t}

    (`in_hub_share` summed over the hub's footprints, whose in-hub placements fit the hub's wards).

    Both remove no solution of the model (nor of its LP relaxation) and change no optimal
    objective. What they add are rows in which every ward of a service appears with the same
    coefficient: HiGHS's mixed-integer rounding separator turns them into "wards of v in year t
    >= ceil(need / beds per ward at occupancy)"-type cuts that it cannot find from the per-site
    rows. On England they closed two thirds of the root gap left after HiGHS's own cuts and cut
    the time to a 0.1% gap by a third to a half (docs/performance.md).
    """
    sites_of: dict[str, list[str]] = {}
    for s, v in data.site_services:
        sites_of.setdefault(v, []).append(s)
    needing: dict[str, list[str]] = {}
    for f, v in data.need_pairs:
        needing.setdefault(v, []).append(f)
    m.AGG_SERVICES = pyo.Set(initialize=[v for v in data.inpatient if v in needing], ordered=True)
    beds_of = {v: data.beds_per_ward_at_occupancy(v) for v in data.inpatient}

    def national_capacity(_m, v, t):
        capacity = sum(beds_of[v] * m.wards[s, v, t] for s in sites_of.get(v, []))
        unmet = sum(m.unmet[f, v, t] for f in needing[v])
        return capacity + unmet >= sum(m.need[f, v, t] for f in needing[v])

    m.national_capacity = pyo.Constraint(m.AGG_SERVICES, m.T, rule=national_capacity)

    eta = data.service["in_hub_share"].to_dict()
    start = data.config.policy.in_hub_from_year or data.years[0]
    hub_sites: dict[tuple[str, str], list[str]] = {}
    for s, v in data.site_services:
        hub_sites.setdefault((data.hub_of_site[s], v), []).append(s)
    hub_needs: dict[tuple[str, str], list[str]] = {}
    for f, v in data.need_pairs:
        if eta[v] > 0:
            hub_needs.setdefault((data.hub_of_footprint[f], v), []).append(f)
    m.HUB_SERVICES = pyo.Set(initialize=sorted(hub_needs), dimen=2, ordered=True)

    def hub_capacity(_m, h, v, t):
        if t < start or not hub_sites.get((h, v)):
            return pyo.Constraint.Skip  # no wards in the hub: in_hub_share alone says it all
        capacity = sum(beds_of[v] * m.wards[s, v, t] for s in hub_sites.get((h, v), []))
        return capacity >= eta[v] * sum(m.need[f, v, t] for f in hub_needs[(h, v)])

    m.hub_capacity = pyo.Constraint(m.HUB_SERVICES, m.T, rule=hub_capacity)
    # Rows implied by others: an elastic (infeasibility) diagnosis should relax only the originals.
    m._implied = (*getattr(m, "_implied", ()), "national_capacity", "hub_capacity")
