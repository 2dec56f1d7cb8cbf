"""Fixed decisions: the planner's locks (``fixed_decisions.csv``) as rows of the model.

What each lock asks, year by year, is worked out (and checked against lead times, notice and the
other locks) in ``model.locks``; here each of its bounds becomes one row indexed by the lock's
name, so one lock can be released alone (to price it) and a diagnosis can name it.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.roles import LOCK, Rows
from model.formulation.terms import SharedTerms
from model.inputs import ModelInputs


def add_fixed_decisions(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> Rows:
    r"""For each lock d and each (site, service, year) it bounds, with bounds
    :math:`\underline{W}_{d,s,v,t} \le \overline{W}_{d,s,v,t}` from ``model.locks.lock_bounds``:

    .. math::

        \underline{W}_{d,s,v,t} \le wards_{s,v,t} \le \overline{W}_{d,s,v,t}
        \quad\text{(fixed\_wards)}

        operate_{s,t} = O_{d,s,t} \in \{0, 1\} \quad\text{(fixed\_operate)}

    keep: wards at their base-year numbers (and the site as it is today); keep_open:
    :math:`operate = 1` (a service: :math:`wards \ge 1`); close_by Y: :math:`operate = 0`
    (a service: :math:`wards = 0`) for :math:`t \ge Y`; open_in Y: 0 in Y - 1 and 1 (a service:
    :math:`\ge 1` ward) from Y; wards_min / wards_max / wards_exact N: the bound N. Lifted in
    the do-nothing baseline.
    """
    wards = [b for b in data.lock_bounds if b.service is not None]
    operate = [b for b in data.lock_bounds if b.service is None]
    m.FIXED_WARDS = pyo.Set(initialize=[(b.decision, b.site, b.service, b.year) for b in wards],
                            dimen=4, ordered=True)
    m.FIXED_OPERATE = pyo.Set(initialize=[(b.decision, b.site, b.year) for b in operate],
                              dimen=3, ordered=True)
    ward_bounds = {(b.decision, b.site, b.service, b.year): (b.lo, b.hi) for b in wards}
    operate_value = {(b.decision, b.site, b.year): b.lo for b in operate}

    def fixed_wards(_m, d, s, v, t):
        lo, hi = ward_bounds[(d, s, v, t)]
        return (lo, m.wards[s, v, t], hi)

    def fixed_operate(_m, d, s, t):
        return m.operate[s, t] == operate_value[(d, s, t)]

    m.fixed_wards = pyo.Constraint(m.FIXED_WARDS, rule=fixed_wards)
    m.fixed_operate = pyo.Constraint(m.FIXED_OPERATE, rule=fixed_operate)
    return [(m.fixed_wards, LOCK), (m.fixed_operate, LOCK)]


def release(m: pyo.ConcreteModel, decision: str, active: bool = False) -> None:
    """Switch the rows of one lock off (or, with `active`, on again)."""
    for component in (m.fixed_wards, m.fixed_operate):
        for index in component:
            if index[0] == decision:
                component[index].activate() if active else component[index].deactivate()
