"""Site count: how many sites may operate, nationally and per hub (exactly p, at most N)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import RULE, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs

NATIONAL = "*"


def add_site_count(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Limits on the number of operating sites in each year (each optional).

    For the nation (:math:`Q = S`) and for each hub named in ``policy.open_sites_per_hub``
    (:math:`Q = \{s: hub(s) = h\}`):

    .. math::

        N^{min}_Q \le \sum_{s \in Q} operate_{s,t} \le N^{max}_Q

    ``policy.min_open_sites = policy.max_open_sites = p`` gives the p-median's "exactly p".
    """
    policy = data.config.policy
    scopes: dict[str, tuple[list[str], int | None, int | None]] = {}
    if policy.min_open_sites is not None or policy.max_open_sites is not None:
        scopes[NATIONAL] = (list(data.sites), policy.min_open_sites, policy.max_open_sites)
    for hub, limit in policy.open_sites_per_hub.items():
        sites = [s for s in data.sites if data.hub_of_site[s] == hub]
        scopes[hub] = (sites, limit.min, limit.max)
    m.SITE_COUNT_SCOPES = pyo.Set(initialize=sorted(scopes), ordered=True)

    def open_sites_minimum(_m, q, t):
        sites, low, _high = scopes[q]
        if low is None:
            return pyo.Constraint.Skip
        return sum(m.operate[s, t] for s in sites) >= low

    def open_sites_maximum(_m, q, t):
        sites, _low, high = scopes[q]
        if high is None:
            return pyo.Constraint.Skip
        return sum(m.operate[s, t] for s in sites) <= high

    m.open_sites_minimum = pyo.Constraint(m.SITE_COUNT_SCOPES, m.T, rule=open_sites_minimum)
    m.open_sites_maximum = pyo.Constraint(m.SITE_COUNT_SCOPES, m.T, rule=open_sites_maximum)
    return [(m.open_sites_minimum, RULE), (m.open_sites_maximum, RULE)]
