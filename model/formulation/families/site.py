"""Site: wards fit the physical maximum; an operating site keeps a viable minimum."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_site(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Physical maximum and viable minimum, linked to the operate binary.

    .. math::

        \sum_{v:(s,v)\in SV} wards_{s,v,t} \le W^{max}_s\, operate_{s,t}

        \sum_{v:(s,v)\in SV} wards_{s,v,t} \ge W^{min}_s\, operate_{s,t}

    A site with no wards cannot operate (so pays no fixed cost), and a site that operates
    cannot run below the size at which it is viable.
    """
    services_at: dict[str, list[str]] = {}
    for s, v in data.site_services:
        services_at.setdefault(s, []).append(v)
    w_max = data.site["max_wards"].to_dict()
    w_min = data.site["min_wards"].to_dict()

    def total(s, t):
        return sum(m.wards[s, v, t] for v in services_at.get(s, []))

    def site_maximum(_m, s, t):
        return total(s, t) <= int(w_max[s]) * m.operate[s, t]

    def site_minimum(_m, s, t):
        if int(w_min[s]) == 0:
            return pyo.Constraint.Skip
        return total(s, t) >= int(w_min[s]) * m.operate[s, t]

    m.site_maximum = pyo.Constraint(m.S, m.T, rule=site_maximum)
    m.site_minimum = pyo.Constraint(m.S, m.T, rule=site_minimum)
    return [(m.site_maximum, STRUCTURAL), (m.site_minimum, STRUCTURAL)]
