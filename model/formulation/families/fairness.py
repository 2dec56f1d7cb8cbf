"""Fairness between footprints: a cap on any footprint's mean distance from home, and a floor
on each footprint's in-hub share (both over its inpatient services together).

Both are planning rules, off unless ``policy.max_footprint_mean_km`` or
``policy.min_footprint_in_hub_share`` is set, and apply from ``ModelInputs.in_hub_from`` (the
year the in-hub rule starts: today's estate may not meet them before new capacity can be
built). The model has no rows of this family when both are off, so plans made without them
are unchanged.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import RULE, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_fairness(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""For each footprint f with inpatient need and year t from ``in_hub_from``, with
    :math:`N_{f,t} = \sum_{v:(f,v)\in NEED}\big(\sum_s place_{f,s,v,t} + unmet_{f,v,t}\big)`
    (its patients, placed or not):

    .. math::

        \sum_{(f,s,v)\in ARCS} km_{f,s}\, place_{f,s,v,t} + km^{unmet} \sum_v unmet_{f,v,t}
            \le \bar{K}\, N_{f,t}

        \sum_{v}\sum_{s:\,hub(s)=hub(f)} place_{f,s,v,t} \ge \underline{\eta}\, N_{f,t}

    (`footprint_mean_km_cap` with :math:`\bar K` = ``policy.max_footprint_mean_km``;
    `footprint_in_hub_floor` with :math:`\underline\eta` = ``policy.min_footprint_in_hub_share``).
    Multiplying out the mean keeps the rows linear. Planning rules: lifted in the do-nothing
    baseline, whose estate may break them.
    """
    policy = data.config.policy
    cap, floor = policy.max_footprint_mean_km, policy.min_footprint_in_hub_share
    services_of: dict[str, list[str]] = {}
    for f, v in data.need_pairs:
        services_of.setdefault(f, []).append(v)
    m.FAIR_FOOTPRINTS = pyo.Set(initialize=[f for f in data.footprints if f in services_of],
                                ordered=True)
    unmet_km = policy.unmet_km
    arc_km = data.arc_km() if cap is not None else {}  # one indexing step, not a km.at per arc

    def patients(f, t):
        return sum(sum(m.place[f, s, v, t] for s in terms.arcs_by_need.get((f, v), []))
                   + m.unmet[f, v, t] for v in services_of[f])

    def mean_km_cap(_m, f, t):
        if cap is None or t < data.in_hub_from:
            return pyo.Constraint.Skip
        km = (sum(arc_km[f, s] * m.place[f, s, v, t]
                  for v in services_of[f] for s in terms.arcs_by_need.get((f, v), []))
              + unmet_km * sum(m.unmet[f, v, t] for v in services_of[f]))
        return km <= cap * patients(f, t)

    def in_hub_floor(_m, f, t):
        if floor is None or t < data.in_hub_from:
            return pyo.Constraint.Skip
        hub = data.hub_of_footprint[f]
        inside = sum(m.place[f, s, v, t] for v in services_of[f]
                     for s in terms.arcs_by_need.get((f, v), []) if data.hub_of_site[s] == hub)
        return inside >= floor * patients(f, t)

    m.footprint_mean_km_cap = pyo.Constraint(m.FAIR_FOOTPRINTS, m.T, rule=mean_km_cap)
    m.footprint_in_hub_floor = pyo.Constraint(m.FAIR_FOOTPRINTS, m.T, rule=in_hub_floor)
    return [(m.footprint_mean_km_cap, RULE), (m.footprint_in_hub_floor, RULE)]
