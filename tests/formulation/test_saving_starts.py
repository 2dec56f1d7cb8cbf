"""The saving breakdown's starts: the last lever's step is offered the recommended plan beside the
step before's plan, the cheaper first (model/saving.py)."""

from __future__ import annotations

import pytest
from pyomo.common.collections import ComponentMap

import model.saving as saving
from model.formulation import LEVERS
from model.saving import CROSSED_STEPS, KnownPlan, last_step_starts, step_start
from model.solve import CheapestOf
from tests.formulation.test_families import falling_demand


def _plan(objective: float) -> KnownPlan:
    return KnownPlan(ComponentMap(), objective)


def test_the_cheaper_plan_is_offered_first():
    previous, recommended = _plan(120.0), _plan(100.0)
    assert last_step_starts(previous, recommended) == [recommended.start, previous.start]
    previous, recommended = _plan(90.0), _plan(100.0)
    assert last_step_starts(previous, recommended) == [previous.start, recommended.start]
    # without a recommended plan (a caller that has none) the step before's plan alone, as before
    assert last_step_starts(previous, None) is previous.start


def test_what_each_step_starts_from():
    """A step starts from this run's own plans alone, except the removals and conversions steps
    (crossed with their relaxation's rounding) and a step given an earlier run's plan (the
    cheapest feasible, the earlier plan first so that it wins a tie)."""
    own, recommended, earlier = ComponentMap(), ComponentMap(), ComponentMap([(object(), 1)])
    assert step_start("new_builds", None, own) is own
    assert step_start("community", None, [recommended, own]) == [recommended, own]
    assert step_start("conversions", None, own) == CheapestOf([own], or_relaxation=True)
    assert step_start("removals", None, own) == CheapestOf([own], or_relaxation=True)
    assert step_start("new_builds", earlier, own) == CheapestOf([earlier, own])
    assert step_start("community", earlier, [recommended, own]) == CheapestOf([earlier, recommended, own])
    assert step_start("conversions", earlier, own) == CheapestOf([earlier, own], or_relaxation=True)
    assert CROSSED_STEPS == ("removals", "conversions") and set(CROSSED_STEPS) <= set(LEVERS)


def _named(start):
    """A start's values by variable name, read while its model is alive."""
    if isinstance(start, CheapestOf):
        return {"cheapest of": _named(start.candidates), "crossed": start.or_relaxation}
    if isinstance(start, list):
        return [_named(s) for s in start]
    return None if start is None else {var.name: value for var, value in start.items()}


def test_the_last_lever_step_is_offered_the_recommended_plan(tmp_path, monkeypatch):
    """falling_demand with B kept by a fixed decision (a lock, lifted in the breakdown's steps).
    Need falls from 40 to 20 beds, so one 2-ward unit is enough from 2021. Every step from
    `removals` on closes B, the dearer unit, in 2021; the recommended plan must keep B, so it
    closes A instead and pays B's cost factor of 1.2 on 2 wards x 100k and 20 beds x 10k:
    0.2 x 400k = 80k a year, 160k for 2021-2022. So at the last lever's step the step before's
    plan (B closed) is the cheaper and comes first, the recommended plan (A closed) second, and
    switching the rules and locks on saves -160k: a cost, never a saving."""
    from model.run import solve_scenario

    calls: list = []
    real_solve = saving.solve

    def recording_solve(m, options, **kwargs):
        calls.append(_named(kwargs.get("mip_start")))
        return real_solve(m, options, **kwargs)

    monkeypatch.setattr(saving, "solve", recording_solve)
    tiny = falling_demand().lock("keepB", "B", "keep")
    result = solve_scenario(tiny.write(tmp_path / "s"), runs_root=None, baseline=True, levers=True,
                            price=False)
    assert len(calls) == 1 + len(LEVERS)  # the do-nothing baseline, then one step a lever
    assert calls[0] is None and all(isinstance(c, dict) for c in calls[1:-1])
    conversions = calls[1 + LEVERS.index("conversions")]
    assert conversions["crossed"] and len(conversions["cheapest of"]) == 1  # the removals step's plan
    first, second = calls[-1]
    open_in_2021 = [[plan[f"operate[{site},2021]"] for site in "AB"] for plan in (first, second)]
    assert open_in_2021 == [[1, 0], [0, 1]]  # the step before's plan, then the recommended one
    rules = result.saving.set_index("lever").loc["rules"]
    assert rules["saving_gbp"] == pytest.approx(-160_000, abs=1.0)


def test_crossing_the_steps_changes_no_saving(tmp_path, monkeypatch):
    """`reconfigure(50k)` (tests/formulation/test_families.py): A's 2 med wards fill its maximum of
    2, and there are 10 beds of med and 10 of low need, so converting a med ward to low (10 beds x
    50k) is how low need gets a bed; nothing before the conversions step can give it one. That
    step starts from the removals step's plan (no conversion) crossed with the rounding of its
    own relaxation; with the crossing off (`CROSSED_STEPS` empty) every step ends at the same
    objective (each solved to optimality): a start changes how soon, never what is saved."""
    from model.run import solve_scenario
    from tests.formulation.test_families import reconfigure

    def breakdown_of(folder):
        result = solve_scenario(folder, runs_root=None, baseline=True, levers=True, price=False)
        return result.saving.set_index("lever")["objective_after_gbp"].to_dict(), result

    methods: list = []
    real_solve = saving.solve

    def recording_solve(m, options, **kwargs):
        outcome = real_solve(m, options, **kwargs)
        methods.append((outcome.first_plan or {}).get("method"))
        return outcome

    monkeypatch.setattr(saving, "solve", recording_solve)
    folder = reconfigure(50_000).write(tmp_path / "s")
    crossed, result = breakdown_of(folder)
    assert methods[1 + LEVERS.index("conversions")] == "crossover"  # the crossing ran there
    crossed_at = {lever for lever, method in zip(("do_nothing", *LEVERS), methods, strict=True) if method}
    assert "conversions" in crossed_at and crossed_at <= set(CROSSED_STEPS)
    converted = result.solution.wards.set_index(["service", "year"]).loc[("low", 2020), "converted_in"]
    assert converted == 1  # the recommended plan converts, as in test_conversion_chosen_over_new_build...
    saving_by_lever = result.saving.set_index("lever")["saving_gbp"]
    assert saving_by_lever["conversions"] > 0
    monkeypatch.setattr(saving, "CROSSED_STEPS", ())
    alone, _ = breakdown_of(folder)
    assert crossed == pytest.approx(alone, rel=1e-9)
