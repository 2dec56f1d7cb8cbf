"""Ward balance over years: wards change only by build, conversion and removal."""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import ModelInputs


def add_ward_balance(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    r"""Stock-and-flow of wards per site and service.

    .. math::

        wards_{s,v,t} = wards_{s,v,t-1} + build_{s,v,t}
            + \sum_{u:(s,u,v)\in CONV} convert_{s,u,v,t}
            - \sum_{w:(s,v,w)\in CONV} convert_{s,v,w,t} - remove_{s,v,t}

    with :math:`wards_{s,v,t_0-1} = W^0_{s,v}`, the wards in ``site_services.csv``.
    Conversion moves a ward between services at the same site (reconfiguration).
    """
    conv_in: dict[tuple[str, str], list[str]] = {}
    conv_out: dict[tuple[str, str], list[str]] = {}
    for s, u, v in data.conversions:
        conv_out.setdefault((s, u), []).append(v)
        conv_in.setdefault((s, v), []).append(u)
    first = data.years[0]

    def ward_balance(_m, s, v, t):
        previous = data.existing_wards[(s, v)] if t == first else m.wards[s, v, t - 1]
        inflow = m.build[s, v, t] + sum(m.convert[s, u, v, t] for u in conv_in.get((s, v), []))
        outflow = m.remove[s, v, t] + sum(m.convert[s, v, w, t] for w in conv_out.get((s, v), []))
        return m.wards[s, v, t] == previous + inflow - outflow

    m.ward_balance = pyo.Constraint(m.SV, m.T, rule=ward_balance)
