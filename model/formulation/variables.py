"""Decision variables of the MIP (names as in docs/formulation.md)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import ModelInputs


def add_variables(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    """Create the index sets and decision variables.

    ``wards[s,v,t]``  integer wards of inpatient service v operating at site s in year t
    ``build[s,v,t]``  integer wards of v completed by new build at s, in service from year t
    ``convert_in[s,v,t]``  integer wards converted at s into v, in service as v from year t
    ``convert_out[s,v,t]``  integer wards of v at s converted into other services in year t
    ``remove[s,v,t]``  integer wards of v closed (decommissioned) at s in year t
    ``standing_new[s,v,t]``, ``standing_conv[s,v,t]``  wards of v built / converted at s in year t
        that still stand at the end of the horizon (continuous; they earn the residual value)
    ``operate[s,t]``  1 if site s operates in year t
    ``place[f,s,v,t]``  beds of footprint f's need for v placed at site s in year t (continuous)
    ``unmet[f,v,t]``  beds of f's need for v not placed in the estate (out-of-area spot purchase)
    ``stepdown[f,v,w,t]``  patients a year of f stepping down from v to w into a place in reach
    ``delayed[f,v,w,t]``  patients a year of f whose step-down from v to w is delayed
    ``extra_places[f,c,t]``  community places of c commissioned in f beyond base need
    ``substitute[f,c,t]``  of those, places filled by patients diverted from inpatient care
    """
    years = data.years
    m.T = pyo.Set(initialize=years, ordered=True)
    m.SV = pyo.Set(initialize=data.site_services, dimen=2, ordered=True)
    m.S = pyo.Set(initialize=data.sites, ordered=True)
    m.CONV = pyo.Set(initialize=data.convertible, dimen=2, ordered=True)
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
    m.convert_in = pyo.Var(m.CONV, m.T, domain=pyo.NonNegativeIntegers, bounds=ward_bounds)
    m.convert_out = pyo.Var(m.CONV, m.T, domain=pyo.NonNegativeIntegers, bounds=ward_bounds)
    m.standing_new = pyo.Var(m.SV, m.T, domain=pyo.NonNegativeReals, bounds=ward_bounds)
    m.standing_conv = pyo.Var(m.CONV, m.T, domain=pyo.NonNegativeReals, bounds=ward_bounds)
    m.operate = pyo.Var(m.S, m.T, domain=pyo.Binary)
    m.place = pyo.Var(m.ARCS, m.T, domain=pyo.NonNegativeReals)
    m.unmet = pyo.Var(m.NEED, m.T, domain=pyo.NonNegativeReals)
    m.stepdown = pyo.Var(m.STEP, m.T, domain=pyo.NonNegativeReals)
    m.delayed = pyo.Var(m.STEP, m.T, domain=pyo.NonNegativeReals)
    m.extra_places = pyo.Var(m.SUBST, m.T, domain=pyo.NonNegativeReals)
    m.substitute = pyo.Var(m.SUBST, m.T, domain=pyo.NonNegativeReals)
