"""Continuity of the pathway: step-down places in reach, and delayed discharges."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import POLICY, STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_pathway(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Step-down places in reach, with delayed discharges. (The in-hub rule, once part of
    this family, is in ``in_hub.py``.)

    Patients of f in treatment in v (need :math:`D_{f,v,t}` less the beds avoided by
    community substitution) are discharged at :math:`1/LOS_v` a year and step down to w in share
    :math:`\pi_{v,w}`. Each either finds a place in reach or is delayed:

    .. math::

        stepdown_{f,v,w,t} + delayed_{f,v,w,t} \ge
            \pi_{v,w} \Big(D_{f,v,t} - \sum_{c: sub(c)=v} \rho_c\, substitute_{f,c,t}\Big)
            / LOS_v

    A step-down place is a treatment place that turns over. For an inpatient w, f's arrivals
    fit both the turnover of f's beds of w at sites in reach (same hub, or within
    ``policy.stepdown_reach_km``) and the admissions of f's patients in treatment in w: beds
    held by f's own delayed discharges from w (the :math:`\delta\, delayed` in w's need) do
    not turn over, so a bottleneck downstream of w never makes room upstream of it:

    .. math::

        LOS_w \sum_{u:(f,u,w)\in STEP} stepdown_{f,u,w,t} \le
            \sum_{s \in reach(f,w)} place_{f,s,w,t}
        \quad\text{(stepdown\_capacity)}

        LOS_w \sum_{u} stepdown_{f,u,w,t} \le
            D_{f,w,t} - \sum_{c: sub(c)=w} \rho_c\, substitute_{f,c,t}
        \quad\text{(stepdown\_admissions)}

    For a community w, places filled by patients diverted from inpatient care are full; the
    base places and commissioned places left unfilled turn over:
    :math:`LOS_w \sum_u stepdown_{f,u,w,t} \le D_{f,w,t} + extra\_places_{f,w,t} -
    substitute_{f,w,t}`.
    Delayed patients keep their bed in v (see the demand family) and are penalised in the
    objective (``policy.delayed_discharge_penalty_gbp`` each).
    """
    los = data.service["mean_los_years"].to_dict()
    community_places = terms.community_places
    substitutes_of = set(terms.substitution_target)

    def stepdown_need(_m, f, v, w, t):
        return (m.stepdown[f, v, w, t] + m.delayed[f, v, w, t]
                >= data.pathway_share[(v, w)] * terms.in_treatment(m, data, f, v, t) / los[v])

    m.stepdown_need = pyo.Constraint(m.STEP, m.T, rule=stepdown_need)

    into: dict[tuple[str, str], list[str]] = {}
    for (f, v, w) in data.stepdown_pairs:
        into.setdefault((f, w), []).append(v)
    m.STEP_TARGET = pyo.Set(initialize=sorted(into), dimen=2, ordered=True)

    def arrivals(f, w, t):
        return los[w] * sum(m.stepdown[f, v, w, t] for v in into[(f, w)])

    def stepdown_capacity(_m, f, w, t):
        if w in data.community:
            places = terms.places[f, w, t] if (f, w) in community_places else 0.0
            if (f, w) in substitutes_of:
                places = places - m.substitute[f, w, t]
        else:
            in_reach = set(data.reach[(f, w)])
            places = sum(m.place[f, s, w, t] for s in terms.arcs_by_need.get((f, w), [])
                         if s in in_reach)
        return arrivals(f, w, t) <= places

    def stepdown_admissions(_m, f, w, t):
        if w in data.community:
            return pyo.Constraint.Skip
        return arrivals(f, w, t) <= terms.in_treatment(m, data, f, w, t)

    m.stepdown_capacity = pyo.Constraint(m.STEP_TARGET, m.T, rule=stepdown_capacity)
    m.stepdown_admissions = pyo.Constraint(m.STEP_TARGET, m.T, rule=stepdown_admissions)
    return [(m.stepdown_need, STRUCTURAL), (m.stepdown_capacity, POLICY), (m.stepdown_admissions, STRUCTURAL)]
