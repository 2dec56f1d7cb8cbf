"""Community forensic places, which can replace part of an inpatient service's demand."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import POLICY, STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_community(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Community places: base need, places commissioned beyond it, and the inpatient demand
    they substitute.

    For a community service :math:`c` that substitutes inpatient service :math:`u = sub(c)`
    at rate :math:`\rho_c` (inpatient beds avoided per place), up to share :math:`\sigma_c`:

    .. math::

        places_{f,c,t} = D_{f,c,t} + extra\_places_{f,c,t}

        substitute_{f,c,t} \le extra\_places_{f,c,t}
        \quad\text{(a diverted patient fills a commissioned place)}

        \rho_c \, substitute_{f,c,t} \le \sigma_c \, D_{f,u,t}

    Commissioned places are a service, not a switch: they start no earlier than the base year
    plus the service's lead time :math:`L^{new}_c`, persist once commissioned, grow by at most
    :math:`g_c` (``max_new_places_share``) of the substitution ceiling a year, and each new
    place costs :math:`K^{setup}_c` once (objective):

    .. math::

        extra\_places_{f,c,t} = 0 \quad t < t_0 + L^{new}_c

        extra\_places_{f,c,t-1} \le extra\_places_{f,c,t}
            \le extra\_places_{f,c,t-1} + g_c\, \bar P_{f,c}

        extra\_places_{f,c,t} \le \bar P_{f,c} = \sigma_c \max_\tau D_{f,u,\tau} / \rho_c

    (:math:`extra\_places_{f,c,t_0-1} = 0`): the substitution share also bounds how far the
    service may grow beyond base need in a footprint (``places_envelope``).
    :math:`\rho_c\, substitute_{f,c,t}` is taken off footprint f's need for u
    (``need``, a shared term). Places filled by diverted patients are full:
    only the base places and commissioned places left unfilled take step-downs (pathway family).
    """
    rate = {c: float(data.service.at[c, "substitution_rate"]) for c in data.community}
    share = {c: float(data.service.at[c, "max_substitution_share"]) for c in data.community}
    ramp = {c: float(data.service.at[c, "max_new_places_share"]) for c in data.community}
    target = terms.substitution_target
    first = data.years[0]

    def substitution_limit(_m, f, c, t):
        return rate[c] * m.substitute[f, c, t] <= share[c] * data.d(f, target[(f, c)], t)

    def filled_places(_m, f, c, t):
        return m.substitute[f, c, t] <= m.extra_places[f, c, t]

    def previous(f, c, t):
        return 0.0 if t == first else m.extra_places[f, c, t - 1]

    def places_persist(_m, f, c, t):
        return m.extra_places[f, c, t] >= previous(f, c, t)

    def ceiling(f, c):
        return share[c] * max(data.d(f, target[(f, c)], t) for t in data.years) / rate[c]

    def places_ramp(_m, f, c, t):
        if ramp[c] >= 1.0:
            return pyo.Constraint.Skip
        return m.extra_places[f, c, t] <= previous(f, c, t) + ramp[c] * ceiling(f, c)

    def places_envelope(_m, f, c, t):
        return m.extra_places[f, c, t] <= ceiling(f, c)

    m.substitution_limit = pyo.Constraint(m.SUBST, m.T, rule=substitution_limit)
    m.places_envelope = pyo.Constraint(m.SUBST, m.T, rule=places_envelope)
    m.filled_places = pyo.Constraint(m.SUBST, m.T, rule=filled_places)
    m.places_persist = pyo.Constraint(m.SUBST, m.T, rule=places_persist)
    m.places_ramp = pyo.Constraint(m.SUBST, m.T, rule=places_ramp)
    for (f, c) in m.SUBST:
        for t in data.years:
            if t < data.earliest_places[c]:
                m.extra_places[f, c, t].fix(0)
                m.substitute[f, c, t].fix(0)

    return [
        (m.substitution_limit, STRUCTURAL),
        (m.places_envelope, POLICY),
        (m.filled_places, STRUCTURAL),
        (m.places_persist, STRUCTURAL),
        (m.places_ramp, POLICY),
    ]
