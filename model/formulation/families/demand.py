"""Demand: every footprint's need for every inpatient service is placed or counted unmet."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_demand(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Need balance per footprint, inpatient service and year.

    .. math::

        \sum_{s:(f,s,v)\in ARCS} place_{f,s,v,t} + unmet_{f,v,t} = need_{f,v,t}

        need_{f,v,t} = D_{f,v,t}
            - \sum_{c: sub(c)=v} \rho_c\, substitute_{f,c,t}
            + \delta \sum_{w:(v,w)\in PATHWAY} delayed_{f,v,w,t}

    (``need`` is a shared term, ``model/formulation/terms.py``), where :math:`\delta`
    (``policy.delay_years``) is how long a delayed discharge keeps its bed: patients waiting
    for a step-down place still occupy a bed of the higher-security service.

    With ``policy.allow_unmet: false``, :math:`unmet_{f,v,t}` is fixed at 0 (every bed placed).
    """
    def demand_balance(_m, f, v, t):
        placed = sum(m.place[f, s, v, t] for s in terms.arcs_by_need.get((f, v), []))
        return placed + m.unmet[f, v, t] == terms.need[f, v, t]

    m.demand_balance = pyo.Constraint(m.NEED, m.T, rule=demand_balance)
    if not data.config.policy.allow_unmet:
        for idx in m.unmet:
            m.unmet[idx].fix(0)
    return [(m.demand_balance, STRUCTURAL)]
