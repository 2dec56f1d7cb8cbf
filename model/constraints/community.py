"""Community forensic places, which can replace part of an inpatient service's demand."""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import ModelInputs


def add_community(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    r"""Community places and the inpatient demand they substitute.

    For a community service :math:`c` that substitutes inpatient service :math:`u = sub(c)`
    at rate :math:`\rho_c` (inpatient beds avoided per place), up to share :math:`\sigma_c`:

    .. math::

        places_{f,c,t} = D_{f,c,t} + substitute_{f,c,t}

        \rho_c \, substitute_{f,c,t} \le \sigma_c \, D_{f,u,t}

    and :math:`\rho_c\, substitute_{f,c,t}` is taken off footprint f's need for u in the demand
    family. ``places`` is an expression (no variable): base need is always provided.
    """
    rate = {c: float(data.service.at[c, "substitution_rate"]) for c in data.community}
    share = {c: float(data.service.at[c, "max_substitution_share"]) for c in data.community}
    target = {(f, c): v for (f, c, v) in data.substitutions}

    def places(_m, f, c, t):
        extra = m.substitute[f, c, t] if (f, c) in target else 0.0
        return data.d(f, c, t) + extra

    m.COMMUNITY_PLACES = pyo.Set(
        initialize=[(f, c) for f in data.footprints for c in data.community
                    if (f, c) in target or any(data.d(f, c, t) > 0 for t in data.years)],
        dimen=2, ordered=True)
    m.places = pyo.Expression(m.COMMUNITY_PLACES, m.T, rule=places)

    def substitution_limit(_m, f, c, t):
        return rate[c] * m.substitute[f, c, t] <= share[c] * data.d(f, target[(f, c)], t)

    m.substitution_limit = pyo.Constraint(m.SUBST, m.T, rule=substitution_limit)

    # Beds of inpatient service v avoided in (f, t); used by add_demand.
    m._substituted = {}
    for (f, c), v in target.items():
        m._substituted.setdefault((f, v), []).append((c, rate[c]))
