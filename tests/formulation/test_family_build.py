"""Each constraint family builds on in-memory inputs (no file written or read), returns every
row it adds with its role, and adds the number of rows its maths says.

The instance (3 years, 2020-2022): hubs H (footprint F) and G (footprint FG); services med, low
and a community service that substitutes low; pathway med -> low (0.5) and low -> comm (1.0);
a learning disability service ld with no step-down route; sites A (F: med 2, low 0), L (F: low 1)
and candidate C (FG: med 0, ld 0); need F med 20, F low 10, FG med 5, FG ld 5; med has an in-hub
share of 0.8; at most 3 sites operate; at most 3 ward changes a hub. Fixed decisions: keep A as
it is, open C in 2021, at least 1 ld ward at C in 2022.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from model.formulation import FAMILIES
from model.formulation.roles import IMPLIED, IMPLIED_RULE, LOCK, POLICY, RULE, STRUCTURAL
from model.formulation.terms import build_terms
from model.formulation.variables import add_variables
from tests.factory import Tiny


def instance() -> Tiny:
    tiny = Tiny().service("comm", level="community", beds_per_ward=0, cost_per_ward_gbp=0,
                          substitutes="low", substitution_rate=1.0, max_substitution_share=0.5)
    tiny.pathway += [{"from_service": "med", "to_service": "low", "share": 0.5},
                     {"from_service": "low", "to_service": "comm", "share": 1.0}]
    return (tiny.site("A", wards={"med": 2, "low": 0}).site("L", wards={"low": 1})
            .site("C", footprint="FG", wards={"med": 0, "ld": 0}, status="candidate")
            .service("med", in_hub_share=0.8).service("ld", level="low")
            .policy(max_open_sites=3, max_ward_changes_per_hub_year=3)
            .need("F", "med", 20).need("F", "low", 10).need("FG", "med", 5)
            .need("FG", "ld", 5)
            .lock("keepA", "A", "keep").lock("openC", "C", "open_in", year=2021)
            .lock("ldC", "C", "wards_min", service="ld", wards=1, year=2022))


# rows per component, by hand (3 years each unless stated):
EXPECTED = {
    # SUBST = {(F, comm)}; places_ramp skipped (no ramp-up limit)
    "community": {"substitution_limit": (3, STRUCTURAL), "places_envelope": (3, POLICY),
                  "filled_places": (3, STRUCTURAL), "places_persist": (3, STRUCTURAL),
                  "places_ramp": (0, POLICY)},
    # NEED = (F, med), (F, low), (FG, med), (FG, ld)
    "demand": {"demand_balance": (12, STRUCTURAL)},
    # site-services some footprint may use: A-med, A-low, L-low, C-med, C-ld
    "capacity": {"ward_capacity": (15, STRUCTURAL)},
    # services with need: med, low, ld
    "aggregate": {"national_capacity": (9, IMPLIED)},
    # med in hub H (site A) and hub G (site C); in_hub_share for (F, med) and (FG, med)
    "in_hub": {"hub_capacity": (6, IMPLIED_RULE), "in_hub_share": (6, RULE)},
    # 3 sites; no minimum size anywhere
    "site": {"site_maximum": (9, STRUCTURAL), "site_minimum": (0, STRUCTURAL)},
    # one national scope with a maximum only
    "site_count": {"open_sites_minimum": (0, RULE), "open_sites_maximum": (3, RULE)},
    # every site is in the national scope; only (FG, C, ld) has no step-down route out of its
    # service (med and low both step down), and its bound min(5, 10 beds x 10 wards) = 5 < 100
    "linking": {"place_link": (3, IMPLIED)},
    # ward_balance per site-service (5); conversions at A (med, low) and C (med, ld)
    "ward_balance": {"ward_balance": (15, STRUCTURAL), "conversion_spaces": (6, STRUCTURAL),
                     "conversion_wards": (6, POLICY)},
    # existing A, L: no reopening 6, closure notice 0 (no notice); candidate C: no lead time,
    # stays commissioned in 2021 and 2022
    "timing": {"no_reopening": (6, POLICY), "closure_notice": (0, POLICY),
               "candidate_lead": (0, POLICY), "commissioned_stays": (2, POLICY)},
    # STEP: (F, med, low), (FG, med, low), (F, low, comm) - a route exists wherever the source
    # service has need; targets (F, low), (FG, low), (F, comm); admissions: inpatient targets
    "pathway": {"stepdown_need": (9, STRUCTURAL), "stepdown_capacity": (9, POLICY),
                "stepdown_admissions": (6, STRUCTURAL)},
    # ward changes limited in hubs with sites (H, G); no displaced-patient limit
    "stability": {"max_ward_changes": (6, RULE), "max_displaced": (0, RULE)},
    # standing_new for 5 site-services x 3 years (no lead time), standing_conv for the 4
    # convertible ones, standing_at_end per site-service
    "residual": {"standing_new_limit": (15, STRUCTURAL), "standing_conv_limit": (12, STRUCTURAL),
                 "standing_at_end": (5, STRUCTURAL)},
    # keepA: A's med and low wards x 3 years (6) and A operating x 3; openC: C closed in 2020,
    # open in 2021 and 2022 (3); ldC: one row, 2022
    "fixed_decisions": {"fixed_wards": (7, LOCK), "fixed_operate": (6, LOCK)},
    # both fairness rules off (policy.max_footprint_mean_km, min_footprint_in_hub_share unset)
    "fairness": {"footprint_mean_km_cap": (0, RULE), "footprint_in_hub_floor": (0, RULE)},
}


def _built():
    data = instance().inputs()
    m = pyo.ConcreteModel()
    add_variables(m, data)
    terms = build_terms(m, data)
    added = {}
    for name, add in FAMILIES:
        added.setdefault(name, []).extend(add(m, data, terms))
    return m, added


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_family_builds_in_memory_with_its_rows_and_roles(family):
    m, added = _built()
    got = {component.name: (len(component), role) for component, role in added[family]}
    assert got == EXPECTED[family]
    for component, _role in added[family]:
        assert m.find_component(component.name) is component


def test_fairness_rules_when_set():
    # F (med, low) and FG (med, ld) have need: one row per footprint and year for each rule
    tiny = instance().policy(max_footprint_mean_km=50.0, min_footprint_in_hub_share=0.5)
    data = tiny.inputs()
    m = pyo.ConcreteModel()
    add_variables(m, data)
    terms = build_terms(m, data)
    for _name, add in FAMILIES:
        rows = add(m, data, terms)
    assert {c.name: (len(c), role) for c, role in rows} == {
        "footprint_mean_km_cap": (6, RULE), "footprint_in_hub_floor": (6, RULE)}


def test_every_family_is_checked():
    assert {name for name, _add in FAMILIES} == set(EXPECTED)
