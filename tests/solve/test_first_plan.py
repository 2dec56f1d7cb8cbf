"""Relax-and-fix over the years (`solver.first_plan: relax_and_fix`): the plan it hands HiGHS is
feasible and worked by hand, a failed step leaves the solve as without it, and the optimum never
moves."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from pyomo.common.collections import ComponentMap

from model.config import SolverConfig
from model.first_plan import column_years, relax_and_fix
from model.solve import FirstPlanFirst, compile_model, solve
from model.vocabulary import SolveStatus

# presolve off: HiGHS's presolve solves models this small outright, and then never says whether
# the start it was given was feasible (`start_used` reads that from its log)
RELAX_AND_FIX = SolverConfig(time_limit=30, mip_gap=0.0, threads=1, first_plan="relax_and_fix",
                             options={"presolve": "off"})
HIGHS = SolverConfig(time_limit=30, mip_gap=0.0, threads=1, options={"presolve": "off"})


def build_early_or_late() -> pyo.ConcreteModel:
    """Build a unit in 2020 (cost 5) or 2021 (cost 8); 2021 needs one place, a unit gives 2.

    Optimum: build in 2020, cost 5. Relax-and-fix, 2020 step: build[2020] integer, build[2021]
    relaxed: building half a unit in 2021 (8 x 0.5 = 4) beats a whole one in 2020 (5), so
    build[2020] = 0; 2021 step: build[2021] = 1, cost 8. Its plan costs 8 (steps: 4, then 8)."""
    m = pyo.ConcreteModel()
    m.years = pyo.Set(initialize=[2020, 2021])
    m.build = pyo.Var(m.years, domain=pyo.Binary)
    m.places = pyo.Var(m.years, bounds=(0, None))
    m.capacity = pyo.Constraint(m.years, rule=lambda m, t: m.places[t] <= 2 * sum(
        m.build[s] for s in m.years if s <= t))
    m.need = pyo.Constraint(expr=m.places[2021] >= 1)
    m.cost = pyo.Objective(expr=5 * m.build[2020] + 8 * m.build[2021])
    return m


def build_then_stranded() -> pyo.ConcreteModel:
    """2 wards[2021] - build[2020] = 1: only build[2020] = 1, wards[2021] = 1 is integral.

    Relax-and-fix, 2020 step: with wards[2021] relaxed, build[2020] = 0 and wards[2021] = 0.5
    cost 0.5 against 5 + 1 = 6, so it fixes build[2020] = 0; the 2021 step then has no integral
    wards[2021] (0.5): no plan. The solve goes on without one and finds the optimum, 6."""
    m = pyo.ConcreteModel()
    m.years = pyo.Set(initialize=[2020, 2021])
    m.build = pyo.Var([2020], domain=pyo.Binary)
    m.wards = pyo.Var([2021], domain=pyo.NonNegativeIntegers, bounds=(0, 5))
    m.link = pyo.Constraint(expr=2 * m.wards[2021] - m.build[2020] == 1)
    m.cost = pyo.Objective(expr=5 * m.build[2020] + m.wards[2021])
    return m


def test_years_of_columns():
    m = pyo.ConcreteModel()
    m.a = pyo.Var(["x"], [2020, 2021])
    m.b = pyo.Var(["x", "y"])
    m.c = pyo.Var()
    m.d = pyo.Var([True])  # a bool is not a year
    columns = [m.a["x", 2021], m.b["y"], m.c, m.d[True], m.a["x", 2020]]
    assert column_years(columns).tolist() == [2021, -1, -1, -1, 2020]


def test_relax_and_fix_worked_by_hand():
    compiled = compile_model(build_early_or_late())
    values, plan = relax_and_fix(compiled.lp, column_years(compiled.columns), 30, 1)
    assert values is not None
    chosen = {compiled.columns[k].name: values[k] for k in range(len(values))}
    assert chosen["build[2020]"] == 0 and chosen["build[2021]"] == 1
    assert [s["year"] for s in plan.steps] == [2020, 2021]
    assert [s["objective"] for s in plan.steps] == pytest.approx([4.0, 8.0])
    assert plan.objective == pytest.approx(8.0)


def test_the_solve_improves_on_the_first_plan():
    m = build_early_or_late()
    outcome = solve(m, RELAX_AND_FIX)
    assert outcome.status == SolveStatus.OPTIMAL and outcome.objective == pytest.approx(5.0)
    assert outcome.first_plan["objective"] == pytest.approx(8.0)
    assert outcome.start_used is True  # HiGHS said the plan was feasible
    assert round(m.build[2020].value) == 1 and round(m.build[2021].value) == 0


def test_a_step_without_a_solution_leaves_no_plan():
    compiled = compile_model(build_then_stranded())
    values, plan = relax_and_fix(compiled.lp, column_years(compiled.columns), 30, 1)
    assert values is None and plan.objective is None
    assert plan.steps[0]["objective"] == pytest.approx(0.5)
    assert plan.steps[1]["status"] == "Infeasible"
    outcome = solve(build_then_stranded(), RELAX_AND_FIX)
    assert outcome.status == SolveStatus.OPTIMAL and outcome.objective == pytest.approx(6.0)
    assert outcome.start_used is False and outcome.first_plan["objective"] is None


def test_off_by_default_and_not_over_a_given_start():
    assert solve(build_early_or_late(), HIGHS).first_plan is None
    m = build_early_or_late()
    start = ComponentMap([(m.build[2020], 1), (m.build[2021], 0)])
    outcome = solve(m, RELAX_AND_FIX, mip_start=start)
    assert outcome.first_plan is None and outcome.start_used is True
    assert outcome.objective == pytest.approx(5.0)


def test_a_list_of_infeasible_candidates_falls_back_to_relax_and_fix():
    m = build_early_or_late()
    infeasible = ComponentMap([(m.build[2020], 0), (m.build[2021], 0)])  # no place in 2021
    outcome = solve(m, RELAX_AND_FIX, mip_start=[infeasible])
    assert outcome.start_choice is None and outcome.first_plan["objective"] == pytest.approx(8.0)
    assert outcome.objective == pytest.approx(5.0)


def test_the_demo_optimum_does_not_move():
    """The demo (its regression lock, 317,780,043.779, solved to its 0.01% gap) from the
    relax-and-fix plan: the same optimum within the gap, and the plan is no better than it."""
    from model.run import solve_scenario

    result = solve_scenario("data/scenarios/demo", runs_root=None, baseline=False, levers=False,
                            price=False, overrides={"solver": {"first_plan": "relax_and_fix"}})
    outcome = result.outcome
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(317_780_043.779, rel=1e-4)
    assert outcome.first_plan["objective"] >= outcome.bound - 1e-6
    assert len(outcome.first_plan["steps"]) == 5  # 2017-2021
    assert result.manifest["first_plan"] == outcome.first_plan and result.manifest["start_used"]


def test_first_plan_first_runs_the_heuristic_before_a_start():
    m = build_early_or_late()
    given = ComponentMap([(m.build[2020], 1), (m.build[2021], 0)])  # the optimum itself
    outcome = solve(m, RELAX_AND_FIX, mip_start=FirstPlanFirst(given))
    assert outcome.first_plan["objective"] == pytest.approx(8.0)  # ran, and its plan was offered
    assert outcome.objective == pytest.approx(5.0)
    # the heuristic finds nothing: the given start is the fallback, and HiGHS takes it
    m = build_then_stranded()
    given = ComponentMap([(m.build[2020], 1), (m.wards[2021], 1)])
    outcome = solve(m, RELAX_AND_FIX, mip_start=FirstPlanFirst(given))
    assert outcome.first_plan["objective"] is None and outcome.start_used is True
    assert outcome.objective == pytest.approx(6.0)
