"""Linking: a placement needs its site to operate (per arc), where the number of sites is limited."""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import IMPLIED, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def linked_sites(data: ModelInputs) -> set[str]:
    """Sites whose operation is limited in number (``policy.min/max_open_sites`` or per hub)."""
    policy = data.config.policy
    if policy.min_open_sites is not None or policy.max_open_sites is not None:
        return set(data.sites)
    hubs = set(policy.open_sites_per_hub)
    return {s for s in data.sites if data.hub_of_site[s] in hubs}


def add_linking(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Per-arc link of placements to the site's operate binary (a valid tightening).

    For arcs :math:`(f,s,v)\in ARCS` whose site is in a site-count scope, and years t:

    .. math::

        place_{f,s,v,t} \le M_{f,s,v,t}\, operate_{s,t}, \qquad
        M_{f,s,v,t} = \min\big(D_{f,v,t},\; b_v o_v W^{max}_s\big)

    Only where :math:`f`'s need for :math:`v` cannot exceed :math:`D_{f,v,t}` (no step-down
    route out of :math:`v`, so no delayed patients add to it; substitution only lowers it) and
    :math:`M < b_v o_v W^{max}_s` (otherwise `ward_capacity` and `site_maximum` imply the row).

    Every feasible solution satisfies these rows, so optimal objectives do not change; the LP
    relaxation gets the classical facility-location strength :math:`x_{ij} \le d_j y_i`.
    Without them, :math:`operate_{s,t}` only has to cover
    :math:`\sum_v wards_{s,v,t}/W^{max}_s`, and with few open sites allowed (a p-median) the LP
    spreads a sliver of every site over all demand: OR-Library pmed6 (200 vertices, p = 5) was
    still 7% from optimal after 120 s without them, and is solved in seconds with them.
    Where the number of operating sites is not limited, ward costs drive the model and these
    rows only slow the LP (England: +52,000 rows, root bound +0.005%, final gap 0.26% against
    0.15% at 240 s), so they are not added there.
    """
    sites = linked_sites(data)
    routes_out = {(f, v) for (f, v, _w) in data.stepdown_pairs}
    w_max = {s: int(w) for s, w in data.site["max_wards"].to_dict().items()}
    beds = {v: data.beds_per_ward_at_occupancy(v) for v in data.inpatient}
    arcs = [(f, s, v) for (f, s, v) in data.arcs if s in sites and (f, v) not in routes_out]
    m.LINKED_ARCS = pyo.Set(initialize=arcs, dimen=3, ordered=True)

    def place_link(_m, f, s, v, t):
        capacity = beds[v] * w_max[s]
        bound = min(data.d(f, v, t), capacity)
        if bound >= capacity:
            return pyo.Constraint.Skip
        return m.place[f, s, v, t] <= bound * m.operate[s, t]

    m.place_link = pyo.Constraint(m.LINKED_ARCS, m.T, rule=place_link)
    return [(m.place_link, IMPLIED)]
