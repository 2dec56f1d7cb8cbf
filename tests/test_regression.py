"""Regression locks (as Temoa's test values): objective and model size of the test scenarios.

When a change moves one of these numbers on purpose, update it here with a comment saying which
change and why, so that every shift in the model's answers is deliberate and reviewed.
"""

from __future__ import annotations

import pytest

from model.run import solve_scenario
from tests.conftest import DEMO
from tests.test_families import falling_demand, stepdown

# 2026-11-23: first lock (issue 2).
# 2026-11-23 (issue 7): the aggregate family (redundant valid rows that strengthen HiGHS's
# cuts): + one `national_capacity` row per inpatient service and year, + one `hub_capacity` row
# per hub, service with an in-hub share and year it applies: demo 421 -> 439 (2 services x 5
# years + 2 hubs x 2 services x 2 years), falling_demand 33 -> 36 (1 x 3), stepdown 42 -> 48
# (2 x 3). Objectives unchanged.
LOCKS = {
    "demo": {"objective": 294_023_403.708, "baseline": 360_915_965.209,
             "size": {"variables": 650, "integer_variables": 200, "constraints": 439}},
    # hand check: 2020 A 900k + B 980k; 2021-22 A 900k each -> 3.68M
    "falling_demand": {"objective": 3_680_000.0,
                       "size": {"variables": 33, "integer_variables": 24, "constraints": 36}},
    # hand check: A 3 wards 300k + 22.5 beds 225k; L 200k; 5 delayed x 1k -> 730k a year x 3
    "stepdown": {"objective": 2_190_000.0,
                 "size": {"variables": 60, "integer_variables": 39, "constraints": 48}},
}


def test_demo_locked():
    result = solve_scenario(DEMO, runs_root=None, overrides={"solver": {"mip_gap": 0.0}})
    lock = LOCKS["demo"]
    assert result.outcome.objective == pytest.approx(lock["objective"], rel=1e-7)
    assert result.baseline.objective == pytest.approx(lock["baseline"], rel=1e-7)
    assert result.size == lock["size"]


@pytest.mark.parametrize(("name", "make"), [("falling_demand", falling_demand),
                                            ("stepdown", lambda: stepdown(False))])
def test_tiny_locked(tmp_path, name, make):
    result = solve_scenario(make().write(tmp_path / name), runs_root=None, baseline=False)
    assert result.outcome.objective == pytest.approx(LOCKS[name]["objective"], rel=1e-9)
    assert result.size == LOCKS[name]["size"]
