"""Stability: limits on change per hub per year."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import RULE, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_stability(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Wards changed and patients displaced, per hub and year (each limit optional).

    .. math::

        \sum_{s \in h} \sum_v \big(build_{s,v,t} + remove_{s,v,t}
            + convert\_out_{s,v,t}\big) \le C^{max}

        \sum_{s \in h} \sum_v b_v o_v \big(remove_{s,v,t} + convert\_out_{s,v,t}\big)
            \le P^{max}

    A removed or converted ward is taken to be full at target occupancy: its patients must move.
    A conversion counts the wards converted (out of their old service).
    """
    policy = data.config.policy
    sites_in: dict[str, list[str]] = {h: [] for h in data.hubs}
    for s in data.sites:
        sites_in[data.hub_of_site[s]].append(s)
    services_at: dict[str, list[str]] = {}
    for s, v in data.site_services:
        services_at.setdefault(s, []).append(v)
    convertible = set(data.convertible)
    m.H = pyo.Set(initialize=data.hubs, ordered=True)
    beds = {v: data.beds_per_ward_at_occupancy(v) for v in data.inpatient}

    def converted(s, v, t):
        return m.convert_out[s, v, t] if (s, v) in convertible else 0

    def ward_changes(_m, h, t):
        return sum(m.build[s, v, t] + m.remove[s, v, t] + converted(s, v, t)
                   for s in sites_in[h] for v in services_at.get(s, []))

    def displaced(_m, h, t):
        return sum(beds[v] * (m.remove[s, v, t] + converted(s, v, t))
                   for s in sites_in[h] for v in services_at.get(s, []))

    m.ward_changes = pyo.Expression(m.H, m.T, rule=ward_changes)
    m.displaced_patients = pyo.Expression(m.H, m.T, rule=displaced)

    limit_changes = policy.max_ward_changes_per_hub_year
    limit_displaced = policy.max_displaced_patients_per_hub_year

    def max_ward_changes(_m, h, t):
        if limit_changes is None or not sites_in[h]:
            return pyo.Constraint.Skip
        return m.ward_changes[h, t] <= limit_changes

    def max_displaced(_m, h, t):
        if limit_displaced is None or not sites_in[h]:
            return pyo.Constraint.Skip
        return m.displaced_patients[h, t] <= limit_displaced

    m.max_ward_changes = pyo.Constraint(m.H, m.T, rule=max_ward_changes)
    m.max_displaced = pyo.Constraint(m.H, m.T, rule=max_displaced)
    return [(m.max_ward_changes, RULE), (m.max_displaced, RULE)]
