"""Ward balance over years: wards change only by build, conversion and removal."""

from __future__ import annotations

import math

import pyomo.environ as pyo

from model.formulation.roles import POLICY, STRUCTURAL, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_ward_balance(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""Stock-and-flow of wards per site and service, and bed spaces kept by conversions.

    .. math::

        wards_{s,v,t} = wards_{s,v,t-1} + build_{s,v,t} + convert\_in_{s,v,t}
            - convert\_out_{s,v,t} - remove_{s,v,t}

    with :math:`wards_{s,v,t_0-1} = W^0_{s,v}`, the wards in ``site_services.csv``
    (conversion terms only where the site may convert: two or more services and
    ``policy.allow_conversions``).

    A conversion rebuilds wards inside the same building, so it cannot create bed spaces
    (``conversion_spaces``): the beds of the wards converted into services fit in the beds of
    the wards converted out of them at the same site and year,

    .. math::

        \sum_v b_v\, convert\_in_{s,v,t} \le \sum_u b_u\, convert\_out_{s,u,t}

    (two 11-bed wards make one 15-bed ward, not two), and a conversion is not a way to remove
    wards (``conversion_wards``): for each ward it creates it converts at most
    :math:`\lceil b^{max}_s / b^{min}_s \rceil` wards (the largest and smallest ward of the
    services the site may convert between) out of their old service,

    .. math::

        \sum_u convert\_out_{s,u,t} \le
            \lceil b^{max}_s / b^{min}_s \rceil \sum_v convert\_in_{s,v,t}

    Spaces a conversion leaves unused are decommissioned and charged as such in the objective.
    """
    first = data.years[0]
    convertible = set(data.convertible)
    beds = {v: float(data.service.at[v, "beds_per_ward"]) for v in data.inpatient}

    def ward_balance(_m, s, v, t):
        previous = data.existing_wards[(s, v)] if t == first else m.wards[s, v, t - 1]
        change = m.build[s, v, t] - m.remove[s, v, t]
        if (s, v) in convertible:
            change = change + m.convert_in[s, v, t] - m.convert_out[s, v, t]
        return m.wards[s, v, t] == previous + change

    m.ward_balance = pyo.Constraint(m.SV, m.T, rule=ward_balance)

    services_at: dict[str, list[str]] = {}
    for s, v in data.convertible:
        services_at.setdefault(s, []).append(v)
    m.CONV_SITES = pyo.Set(initialize=list(services_at), ordered=True)

    def conversion_spaces(_m, s, t):
        made = sum(beds[v] * m.convert_in[s, v, t] for v in services_at[s])
        freed = sum(beds[u] * m.convert_out[s, u, t] for u in services_at[s])
        return made <= freed

    def conversion_wards(_m, s, t):
        sizes = [beds[v] for v in services_at[s]]
        ratio = math.ceil(max(sizes) / max(min(sizes), 1.0))
        made = sum(m.convert_in[s, v, t] for v in services_at[s])
        return sum(m.convert_out[s, u, t] for u in services_at[s]) <= ratio * made

    m.conversion_spaces = pyo.Constraint(m.CONV_SITES, m.T, rule=conversion_spaces)
    m.conversion_wards = pyo.Constraint(m.CONV_SITES, m.T, rule=conversion_wards)
    return [(m.ward_balance, STRUCTURAL), (m.conversion_spaces, STRUCTURAL), (m.conversion_wards, POLICY)]
