"""Residual value: only wards still standing at the end of the horizon keep their value."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_residual(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Which wards added within the horizon still stand at its end.

    Capital (and embodied carbon) is charged in the year it is spent; the objective credits back
    the residual value of what is still in use after the last year (see the objective). A ward
    added in year :math:`\tau` earns its residual value only while it stands at the end:

    .. math::

        standing\_new_{s,v,\tau} \le build_{s,v,\tau}, \qquad
        standing\_conv_{s,v,\tau} \le convert\_in_{s,v,\tau}

        \sum_\tau \big(standing\_new_{s,v,\tau} + standing\_conv_{s,v,\tau}\big)
            \le wards_{s,v,t_{end}}

    So a ward added and then removed (or converted away) within its asset life earns nothing
    back: its stranded capital is charged in full. When a site both adds and removes wards of a
    service, the wards removed are taken to be those with the least residual value (today's
    estate, whose capital is sunk, first): the optimum of this LP picks exactly those, since
    the residual value is the only thing that rewards ``standing``.
    """
    last = data.years[-1]
    convertible = set(data.convertible)

    def limit(standing, added):
        if added.fixed:  # no addition possible (lead time, policy): nothing to stand
            standing.fix(added.value or 0)
            return pyo.Constraint.Skip
        return standing <= added

    def standing_new_limit(_m, s, v, t):
        return limit(m.standing_new[s, v, t], m.build[s, v, t])

    def standing_conv_limit(_m, s, v, t):
        return limit(m.standing_conv[s, v, t], m.convert_in[s, v, t])

    def standing_at_end(_m, s, v):
        added = sum(m.standing_new[s, v, t] for t in data.years)
        if (s, v) in convertible:
            added = added + sum(m.standing_conv[s, v, t] for t in data.years)
        return added <= m.wards[s, v, last]

    m.standing_new_limit = pyo.Constraint(m.SV, m.T, rule=standing_new_limit)
    m.standing_conv_limit = pyo.Constraint(m.CONV, m.T, rule=standing_conv_limit)
    m.standing_at_end = pyo.Constraint(m.SV, rule=standing_at_end)
    return [
        (m.standing_new_limit, STRUCTURAL),
        (m.standing_conv_limit, STRUCTURAL),
        (m.standing_at_end, STRUCTURAL),
    ]
