"""Decision variables of the MIP (names as in docs/formulation.md)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import ModelInputs


def add_variables(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    """Create the index sets and decision variables.

    ``wards[s,v,t]``  integer wards of inpatient service v operating at site s in year t
    ``build[s,v,t]``  integer wards of v completed by new build at s, in service from year t
    ``convert[s,v,w,t]``  integer wards converted at s from v to w, in service as w from year t
    ``remove[s,v,t]``  integer wards of v closed at s in year t
    ``operate[s,t]``  1 if site s operates in year t
    ``place[f,s,v,t]``  beds of footprint f's need for v placed at site s in year t (continuous)
    ``unmet[f,v,t]``  beds of f's need for v not placed in the estate (out-of-area spot purchase)
    ``stepdown[f,v,w,t]``  patients a year of f stepping down from v to w into a place in reach
    ``delayed[f,v,w,t]``  patients a year of f whose step-down from v to w is delayed
    ``substitute[f,c,t]``  community places of c in f beyond base need, replacing inpatient beds
    """
    years = data.years
    m.T = pyo.Set(initialize=years, ordered=True)
    m.SV = pyo.Set(initialize=data.site_services, dimen=2, ordered=True)
    m.S = pyo.Set(initialize=data.sites, ordered=True)
    m.CONV = pyo.Set(initialize=data.conversions, dimen=3, ordered=True)
    m.ARCS = pyo.Set(initialize=data.arcs, dimen=3, ordered=True)
    m.NEED = pyo.Set(initialize=data.need_pairs, dimen=2, ordered=True)
    m.STEP = pyo.Set(initialize=data.stepdown_pairs, dimen=3, ordered=True)
    m.SUBST = pyo.Set(initialize=[(f, c) for (f, c, _v) in data.substitutions], dimen=2, ordered=True)

    max_wards = data.site["max_wards"].to_dict()

    def ward_bounds(_m, s, _v, _t):
        return (0, int(max_wards[s]))

    m.wards = pyo.Var(m.SV, m.T, domain=pyo.NonNegativeIntegers, bounds=ward_bounds)
    m.build = pyo.Var(m.SV, m.T, domain=pyo.NonNegativeIntegers, bounds=ward_bounds)
    m.remove = pyo.Var(m.SV, m.T, domain=pyo.NonNegativeIntegers, bounds=ward_bounds)
    m.convert = pyo.Var(m.CONV, m.T, domain=pyo.NonNegativeIntegers,
                        bounds=lambda _m, s, _v, _w, _t: (0, int(max_wards[s])))
    m.operate = pyo.Var(m.S, m.T, domain=pyo.Binary)
    m.place = pyo.Var(m.ARCS, m.T, domain=pyo.NonNegativeReals)
    m.unmet = pyo.Var(m.NEED, m.T, domain=pyo.NonNegativeReals)
    m.stepdown = pyo.Var(m.STEP, m.T, domain=pyo.NonNegativeReals)
    m.delayed = pyo.Var(m.STEP, m.T, domain=pyo.NonNegativeReals)
    m.substitute = pyo.Var(m.SUBST, m.T, domain=pyo.NonNegativeReals)

    # Sparse lookups the constraint modules share: arcs by (f, v) and by (s, v).
    m._arcs_by_need = {}
    m._arcs_by_site = {}
    for (f, s, v) in data.arcs:
        m._arcs_by_need.setdefault((f, v), []).append(s)
        m._arcs_by_site.setdefault((s, v), []).append(f)
