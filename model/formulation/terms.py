"""Shared terms: lookups and expressions several constraint families (and the objective) use,
built once after the variables and passed to every family explicitly."""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from model.inputs import ModelInputs


@dataclass(frozen=True)
class SharedTerms:
    """Lookups over the index sets, and the expressions ``need``, ``places`` and
    ``in_treatment`` (docs/formulation.md)."""

    arcs_by_need: dict[tuple[str, str], list[str]]  # (f, v) -> sites s with (f, s, v) in ARCS
    arcs_by_site: dict[tuple[str, str], list[str]]  # (s, v) -> footprints f
    services_at: dict[str, list[str]]  # s -> inpatient services the site may host
    conversion_services_at: dict[str, list[str]]  # s -> services in CONV at s
    convertible: frozenset[tuple[str, str]]
    substituted: dict[tuple[str, str], list[tuple[str, float]]]  # (f, v) -> [(c, rate)]
    substitution_target: dict[tuple[str, str], str]  # (f, c) -> v
    community_places: frozenset[tuple[str, str]]  # (f, c) in COMMUNITY_PLACES
    need: pyo.Expression  # need[f, v, t]
    places: pyo.Expression  # places[f, c, t]

    def in_treatment(self, m: pyo.ConcreteModel, data: ModelInputs, f: str, v: str, t: int):
        """f's need for v less the beds community places avoid (no delayed discharges)."""
        return data.d(f, v, t) - sum(rate * m.substitute[f, c, t]
                                     for c, rate in self.substituted.get((f, v), []))


def build_terms(m: pyo.ConcreteModel, data: ModelInputs) -> SharedTerms:
    r"""The lookups and the shared expressions.

    .. math::

        need_{f,v,t} = D_{f,v,t} - \sum_{c: sub(c)=v} \rho_c\, substitute_{f,c,t}
            + \delta \sum_{w:(v,w)\in PATHWAY} delayed_{f,v,w,t}

        places_{f,c,t} = D_{f,c,t} + extra\_places_{f,c,t}

    where :math:`\delta` (``policy.delay_years``) is how long a delayed discharge keeps its bed.
    """
    arcs_by_need: dict[tuple[str, str], list[str]] = {}
    arcs_by_site: dict[tuple[str, str], list[str]] = {}
    for (f, s, v) in data.arcs:
        arcs_by_need.setdefault((f, v), []).append(s)
        arcs_by_site.setdefault((s, v), []).append(f)
    services_at: dict[str, list[str]] = {}
    for s, v in data.site_services:
        services_at.setdefault(s, []).append(v)
    conversion_services_at: dict[str, list[str]] = {}
    for s, v in data.convertible:
        conversion_services_at.setdefault(s, []).append(v)
    rate = {c: float(data.service.at[c, "substitution_rate"]) for c in data.community}
    target = {(f, c): v for (f, c, v) in data.substitutions}
    substituted: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for (f, c), v in target.items():
        substituted.setdefault((f, v), []).append((c, rate[c]))

    delay_years = data.config.policy.delay_years
    routes_from: dict[tuple[str, str], list[str]] = {}
    for (f, v, w) in data.stepdown_pairs:
        routes_from.setdefault((f, v), []).append(w)

    def need(_m, f, v, t):
        expr = data.d(f, v, t)
        for c, r in substituted.get((f, v), []):
            expr = expr - r * m.substitute[f, c, t]
        for w in routes_from.get((f, v), []):
            expr = expr + delay_years * m.delayed[f, v, w, t]
        return expr

    m.need = pyo.Expression(m.NEED, m.T, rule=need)

    community_places = [(f, c) for f in data.footprints for c in data.community
                        if (f, c) in target or any(data.d(f, c, t) > 0 for t in data.years)]
    m.COMMUNITY_PLACES = pyo.Set(initialize=community_places, dimen=2, ordered=True)

    def places(_m, f, c, t):
        extra = m.extra_places[f, c, t] if (f, c) in target else 0.0
        return data.d(f, c, t) + extra

    m.places = pyo.Expression(m.COMMUNITY_PLACES, m.T, rule=places)
    return SharedTerms(arcs_by_need=arcs_by_need, arcs_by_site=arcs_by_site,
                       services_at=services_at, conversion_services_at=conversion_services_at,
                       convertible=frozenset(data.convertible), substituted=substituted,
                       substitution_target=target, community_places=frozenset(community_places),
                       need=m.need, places=m.places)
