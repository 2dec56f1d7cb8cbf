"""Timing: lead times for new builds and conversions, no reopening, notice before closure."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import POLICY, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_timing(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Lead times, closure notice and the order of opening and closing.

    Lead times (variables fixed at zero, so presolve drops them):

    .. math::

        build_{s,v,t} = 0 \quad t < t_0 + \max(L^{new}_v, L^{site}_s)
        \text{ (or always, if new builds are not allowed)}

        convert\_in_{s,v,t} = 0 \quad t < t_0 + \max(L^{conv}_v, L^{site}_s)

        convert\_out_{s,u,t} = 0 \quad t < \min_{v \ne u} (t_0 + \max(L^{conv}_v, L^{site}_s))

        remove_{s,v,t} = 0 \quad t < t_0 + N^{ward} \quad\text{(ward removal notice)}

    Existing sites (:math:`O^0_s = 1` if the site has wards at the base year):

    .. math::

        operate_{s,t} \le operate_{s,t-1}, \quad operate_{s,t_0} \le O^0_s
        \quad\text{(no reopening)}

        operate_{s,t} \ge O^0_s \quad t < t_0 + N \quad\text{(closure notice, N years)}

    Candidate sites:

    .. math::

        operate_{s,t} = 0 \quad t < t_0 + L^{site}_s, \qquad
        operate_{s,t} \ge operate_{s,t-1}
        \quad\text{(once commissioned, kept over the horizon)}
    """
    policy = data.config.policy
    status = data.site["status"].to_dict()
    first = data.years[0]
    for (s, v) in data.site_services:
        no_build = not policy.allow_new_builds or (
            status[s] == "candidate" and not policy.allow_new_sites)
        for t in data.years:
            if no_build or t < data.earliest_build[(s, v)]:
                m.build[s, v, t].fix(0)
    services_at: dict[str, list[str]] = {}
    for s, v in data.convertible:
        services_at.setdefault(s, []).append(v)
    for (s, v) in data.convertible:
        first_out = min(data.earliest_conversion[(s, w)] for w in services_at[s] if w != v)
        for t in data.years:
            if t < data.earliest_conversion[(s, v)]:
                m.convert_in[s, v, t].fix(0)
            if t < first_out:
                m.convert_out[s, v, t].fix(0)
    for (s, v) in data.site_services:
        for t in data.years:
            if t < data.earliest_remove:
                m.remove[s, v, t].fix(0)

    existing = [s for s in data.sites if status[s] == "existing"]
    candidates = [s for s in data.sites if status[s] == "candidate"]

    def no_reopening(_m, s, t):
        previous = (1 if data.initially_open[s] else 0) if t == first else m.operate[s, t - 1]
        return m.operate[s, t] <= previous

    def closure_notice(_m, s, t):
        if not data.initially_open[s] or t >= data.earliest_close[s]:
            return pyo.Constraint.Skip
        return m.operate[s, t] >= 1

    def candidate_lead(_m, s, t):
        if t >= data.earliest_open[s] and (policy.allow_new_sites and policy.allow_new_builds):
            return pyo.Constraint.Skip
        return m.operate[s, t] == 0

    def commissioned_stays(_m, s, t):
        if t == first:
            return pyo.Constraint.Skip
        return m.operate[s, t] >= m.operate[s, t - 1]

    m.no_reopening = pyo.Constraint(existing, m.T, rule=no_reopening)
    m.closure_notice = pyo.Constraint(existing, m.T, rule=closure_notice)
    m.candidate_lead = pyo.Constraint(candidates, m.T, rule=candidate_lead)
    m.commissioned_stays = pyo.Constraint(candidates, m.T, rule=commissioned_stays)
    return [
        (m.no_reopening, POLICY),
        (m.closure_notice, POLICY),
        (m.candidate_lead, POLICY),
        (m.commissioned_stays, POLICY),
    ]
