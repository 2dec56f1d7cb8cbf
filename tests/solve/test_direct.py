"""The hand-over to HiGHS as matrices: every kind of row, bound and variable arrives as written."""

from __future__ import annotations

import io

import pyomo.environ as pyo
import pytest
from pyomo.common.collections import ComponentMap

from model.config import SolverConfig
from model.solve import CheapestOf, compile_model, first_feasible_start, solve

OPTIONS = SolverConfig(time_limit=30, mip_gap=0.0, threads=1)
WEIGHT = {1: 5, 2: 7, 3: 4, 4: 3, 5: 6, 6: 2}
PROFIT = {1: 9, 2: 11, 3: 6, 4: 5, 5: 8, 6: 3}


def knapsack() -> pyo.ConcreteModel:
    """Six items, room 16 less a fixed 1: 15. Best: items 1, 2, 4 (weights 5 + 7 + 3 = 15, profit
    9 + 11 + 5 = 25); the next best fillings of 15 (2, 5, 6: 22; 1, 3, 5: 23) and 14 (1, 2, 6:
    23) are worse, and any set with item 2 and 1 weighs at least 12, leaving 3 (item 4): 25."""
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(1, 6)
    m.x = pyo.Var(m.I, domain=pyo.Binary)
    m.unused = pyo.Var(bounds=(2, 5))  # in no row and no objective
    m.z = pyo.Var(bounds=(0, 3))
    m.z.fix(1)
    m.room = pyo.Constraint(expr=pyo.inequality(0, sum(WEIGHT[i] * m.x[i] for i in m.I) + m.z, 16))
    m.profit = pyo.Objective(expr=sum(PROFIT[i] * m.x[i] for i in m.I) + 100, sense=pyo.maximize)
    return m


def test_knapsack_solution_loaded():
    m = knapsack()
    m.unused.set_value(4.5)  # a value from "an earlier solve" must not survive
    outcome = solve(m, OPTIONS)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(125.0)  # 25 + the constant 100
    assert outcome.bound == pytest.approx(125.0) and outcome.gap_rel == pytest.approx(0.0)
    assert [round(m.x[i].value) for i in m.I] == [1, 1, 0, 1, 0, 0]
    assert m.unused.value == 2.0  # HiGHS's empty column: the bound nearest 0
    assert m.z.value == 1  # fixed: untouched


def test_rows_bounds_and_types():
    m = knapsack()
    m.y = pyo.Var(bounds=(None, 4))
    m.eq = pyo.Constraint(expr=m.y - m.x[1] == 0.5)
    m.ge = pyo.Constraint(expr=m.y + m.x[2] >= -3)
    lp = compile_model(m).lp
    # room is ranged (two rows), eq one row, ge one row; the fixed z moved into the bounds
    assert lp.num_row_ == 4 and lp.num_col_ == 7  # six x and y; z fixed, `unused` left out
    inf = float("inf")
    assert sorted(zip(lp.row_lower_, lp.row_upper_, strict=True)) == [
        (-inf, 15.0), (-3.0, inf), (-1.0, inf), (0.5, 0.5)]  # room - z: 0 - 1 .. 16 - 1
    assert list(lp.col_upper_)[-1] == 4 and list(lp.col_lower_)[-1] == -float("inf")
    assert lp.offset_ == 100


def test_infeasible_and_the_log():
    m = knapsack()
    m.x[1].fix(1)
    m.x[2].fix(1)
    m.too_much = pyo.Constraint(expr=sum(m.x[i] for i in m.I) >= 5)  # 5 items weigh at least 16
    log = io.StringIO()
    outcome = solve(m, OPTIONS, stream=log)
    assert outcome.status == "infeasible" and outcome.objective is None
    assert "infeasible" in log.getvalue().lower()


def test_constant_row_violated_is_infeasible():
    m = knapsack()
    for i in m.I:
        m.x[i].fix(1)  # weight 27 + 1 > 16: the room row has no free variable left
    assert solve(m, OPTIONS).status == "infeasible"


def test_mip_start_is_used_and_changes_nothing():
    m = knapsack()
    start = ComponentMap((m.x[i], v) for i, v in zip(m.I, [1, 0, 1, 0, 1, 0], strict=True))  # 23
    log = io.StringIO()
    outcome = solve(m, OPTIONS, stream=log, mip_start=start)
    assert "MIP start solution is feasible: objective value is 123" in log.getvalue()
    assert outcome.objective == pytest.approx(125.0)
    assert [round(m.x[i].value) for i in m.I] == [1, 1, 0, 1, 0, 0]
    assert outcome.start_used is True and outcome.start_choice is None  # one start, not a list


def test_first_feasible_candidate_start_is_used():
    # all six items weigh 5+7+4+3+6+2 = 27 > 15: infeasible; items 1, 3, 5 weigh 15: feasible
    # (profit 9 + 6 + 8 = 23); either way the optimum stays items 1, 2, 4 (25 + 100)
    m = knapsack()
    heavy = ComponentMap((m.x[i], 1) for i in m.I)
    light = ComponentMap((m.x[i], v) for i, v in zip(m.I, [1, 0, 1, 0, 1, 0], strict=True))
    log = io.StringIO()
    outcome = solve(m, OPTIONS, stream=log, mip_start=[heavy, light])
    assert outcome.start_choice == 1 and outcome.start_used is True
    assert "MIP start solution is feasible: objective value is 123" in log.getvalue()
    assert outcome.objective == pytest.approx(125.0)
    assert [round(m.x[i].value) for i in m.I] == [1, 1, 0, 1, 0, 0]

    m = knapsack()
    outcome = solve(m, OPTIONS, mip_start=[ComponentMap((m.x[i], 1) for i in m.I)])
    assert outcome.start_choice is None and outcome.start_used is False
    assert outcome.objective == pytest.approx(125.0)  # solved from nothing


def test_the_cheapest_feasible_candidate_when_asked():
    """Three candidates: all six items (weight 27 > 15: infeasible), items 2, 5, 6 (weights 7 + 6 +
    2 = 15, profit 11 + 8 + 3 = 22) and items 1, 3, 5 (5 + 4 + 6 = 15, profit 9 + 6 + 8 = 23). The
    first feasible is 2, 5, 6 (122 with the constant); the best of the feasible (a maximisation) is
    1, 3, 5 (123), and `CheapestOf` takes it. Either way the optimum stays 125."""
    m = knapsack()
    heavy = ComponentMap((m.x[i], 1) for i in m.I)
    fair = ComponentMap((m.x[i], v) for i, v in zip(m.I, [0, 1, 0, 0, 1, 1], strict=True))
    good = ComponentMap((m.x[i], v) for i, v in zip(m.I, [1, 0, 1, 0, 1, 0], strict=True))
    compiled = compile_model(m)
    assert first_feasible_start(compiled, [heavy, fair, good], OPTIONS).choice == 1
    assert first_feasible_start(compiled, [heavy, fair, good], OPTIONS, cheapest=True).choice == 2
    # a tie: the first
    assert first_feasible_start(compiled, [good, fair, good], OPTIONS, cheapest=True).choice == 0
    starved = OPTIONS.model_copy(update={"time_limit": 1e-6})
    assert first_feasible_start(compiled, [fair, good], starved, cheapest=True) == (None, None, 2)
    log = io.StringIO()
    outcome = solve(m, OPTIONS, stream=log, mip_start=CheapestOf([heavy, fair, good]))
    assert outcome.start_choice == 2 and outcome.start_used is True
    assert "MIP start solution is feasible: objective value is 123" in log.getvalue()
    assert outcome.objective == pytest.approx(125.0)
    assert [round(m.x[i].value) for i in m.I] == [1, 1, 0, 1, 0, 0]


def test_a_candidate_that_leaves_an_integer_free_is_completed_as_a_mip():
    # a candidate fixing every integer is checked as an LP (its values are the plan's); one that
    # leaves some free is completed as a MIP: x2 = x5 = 1 fix 7 + 6 = 13 of the room, 15 - 13 =
    # 2 left, where the LP would take 2/5 of item 1 (profit 9/5 a unit, the best ratio) but the
    # MIP only item 6 (weight 2, profit 3)
    m = knapsack()
    compiled = compile_model(m)
    whole = ComponentMap((m.x[i], v) for i, v in zip(m.I, [1, 0, 1, 0, 1, 0], strict=True))
    partial = ComponentMap([(m.x[2], 1), (m.x[5], 1)])
    columns = [compiled.column_of[id(m.x[i])] for i in m.I]
    choice, values, unchecked = first_feasible_start(compiled, [whole], OPTIONS)
    assert choice == 0 and list(values[columns]) == pytest.approx([1, 0, 1, 0, 1, 0]) and not unchecked
    choice, values, _unchecked = first_feasible_start(compiled, [partial], OPTIONS)
    assert choice == 0 and list(values[columns]) == pytest.approx([0, 1, 0, 0, 1, 1])


def test_a_check_out_of_time_leaves_its_starts_unchecked_not_refused():
    """The checks get a tenth of the time limit on one clock: with a limit of 1e-6 s, HiGHS stops
    the first check at once (kTimeLimit), so both candidates are unchecked, neither feasible nor
    infeasible (the same candidates with time: the first is feasible)."""
    m = knapsack()
    compiled = compile_model(m)
    whole = ComponentMap((m.x[i], v) for i, v in zip(m.I, [1, 0, 1, 0, 1, 0], strict=True))
    starved = OPTIONS.model_copy(update={"time_limit": 1e-6})
    assert first_feasible_start(compiled, [whole, whole], starved) == (None, None, 2)
    assert first_feasible_start(compiled, [whole, whole], OPTIONS).choice == 0


def chain_with_a_start() -> tuple[pyo.ConcreteModel, ComponentMap]:
    """A MIP on which HiGHS 1.16, given a start, reports an objective no plan has: minimise
    10 x0 + x1 + x2 + x3 + 5 x4 + b (all >= 0, b binary) with x5 <= x1 <= x2 <= x3, x3 >= 10 and
    x0 - x4/2 + x5/2 = 2. The start x1 = x2 = x3 = x5 = 11, x4 = 7 (x0 = 2 + 3.5 - 5.5 = 0), b = 0
    costs 11 + 11 + 11 + 35 = 68. The optimum is 18: x3 = 10 and x4 = 0 (x4 costs 5 and raises x0
    by 1/2, another 5); then x1 = x2 = x5 = t gives x0 = 2 - t/2 and a cost of 10 (2 - t/2) + 2t +
    10 = 30 - 3t, least at t = 4, where x0 reaches 0: 18. HiGHS's presolve maps the start to its
    reduced model with an objective of -2, keeps it as the incumbent, stops at once "optimal" and
    hands back the start's own columns (found by shrinking the crossover's box at 44 x 100 x 5 x 4,
    where it reported 5,905,387,306 for columns costing 5,906,157,017)."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(6), domain=pyo.NonNegativeReals)
    m.b = pyo.Var(domain=pyo.Binary)
    m.cost = pyo.Objective(expr=10 * m.x[0] + m.x[1] + m.x[2] + m.x[3] + 5 * m.x[4] + m.b)
    m.below_x1 = pyo.Constraint(expr=m.x[5] - m.x[1] <= 0)
    m.at_least_10 = pyo.Constraint(expr=m.x[3] >= 10)
    m.below_x2 = pyo.Constraint(expr=m.x[1] - m.x[2] <= 0)
    m.below_x3 = pyo.Constraint(expr=m.x[2] - m.x[3] <= 0)
    m.balance = pyo.Constraint(expr=m.x[0] - 0.5 * m.x[4] + 0.5 * m.x[5] == 2)
    start = ComponentMap([(m.x[0], 0), (m.x[1], 11), (m.x[2], 11), (m.x[3], 11), (m.x[4], 7),
                          (m.x[5], 11), (m.b, 0)])
    return m, start


def test_the_objective_is_the_cost_of_the_plan_loaded():
    """Whatever HiGHS reports, the solve's objective is what the loaded plan costs, and a plan
    is called optimal only when its own cost is proven within the gap: here HiGHS says optimal at
    -2 and hands back the start (68), so the plan is feasible at 68 over the bound HiGHS proved.
    Without the start HiGHS finds the optimum, 18, and the two agree."""
    m, start = chain_with_a_start()
    outcome = solve(m, OPTIONS, mip_start=start)
    assert outcome.objective == pytest.approx(pyo.value(m.cost))
    if outcome.objective > 18.0 + 1e-6:  # HiGHS kept the start (1.16 does)
        assert outcome.status == "feasible" and outcome.bound <= 18.0 + 1e-6
        assert outcome.gap_rel == pytest.approx((outcome.objective - outcome.bound) / outcome.objective)
    m, _start = chain_with_a_start()
    outcome = solve(m, OPTIONS)
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(18.0)
    assert pyo.value(m.cost) == pytest.approx(18.0)
