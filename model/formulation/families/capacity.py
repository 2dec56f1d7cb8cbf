"""Capacity: beds placed at a site fit its wards at target occupancy."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_capacity(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Ward capacity per site, inpatient service and year.

    .. math::

        \sum_{f:(f,s,v)\in ARCS} place_{f,s,v,t} \le b_v\, o_v\, wards_{s,v,t}

    with :math:`b_v` beds per ward and :math:`o_v` target occupancy.
    """

    beds = {v: data.beds_per_ward_at_occupancy(v) for v in data.inpatient}

    def ward_capacity(_m, s, v, t):
        users = terms.arcs_by_site.get((s, v), [])
        if not users:
            return pyo.Constraint.Skip
        placed = sum(m.place[f, s, v, t] for f in users)
        return placed <= beds[v] * m.wards[s, v, t]

    m.ward_capacity = pyo.Constraint(m.SV, m.T, rule=ward_capacity)
    return [(m.ward_capacity, STRUCTURAL)]
