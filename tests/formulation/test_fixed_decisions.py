"""Fixed decisions (fixed_decisions.csv): each kind of lock forces the decision it names on a
tiny scenario whose free optimum decides otherwise; conflicts are named before solving; a lock
that makes the scenario infeasible is named by the diagnosis."""

from __future__ import annotations

import pytest

from model.data import load_scenario
from model.errors import InfeasibleError, ScenarioError
from model.inputs import build_inputs
from tests.factory import Tiny
from tests.formulation.test_families import falling_demand, gap_in_hub, operating, solve, wards


# falling_demand: need falls from 40 to 20 beds; the free optimum closes B (dearer) in 2021 and
# keeps A at 2 wards (see tests/formulation/test_families.py for the arithmetic).
def test_free_optimum_closes_b(tmp_path):
    result = solve(falling_demand(), tmp_path)
    assert operating(result, "B") == [1, 0, 0]


def test_keep_holds_the_unit_as_it_is(tmp_path):
    result = solve(falling_demand().lock("keepB", "B", "keep"), tmp_path)
    assert operating(result, "B") == [1, 1, 1]
    assert wards(result, "B") == [2, 2, 2]


def test_keep_open_keeps_the_unit_operating(tmp_path):
    result = solve(falling_demand().lock("openB", "B", "keep_open", year=2021, to_year=2021), tmp_path)
    # B must operate in 2021. Then closing A in 2021 is cheapest: 2021-22 cost B alone 2 x 980k
    # (500k fixed + 1.2 x (2 x 100k wards + 20 x 10k beds)) = 1,960k, against A and B in 2021
    # (900k + 980k) and A alone in 2022 (900k) = 2,780k; A cannot reopen
    assert operating(result, "B") == [1, 1, 1]
    assert operating(result, "A") == [1, 0, 0]


def test_close_by_closes_the_other_unit(tmp_path):
    # closing A by 2021 leaves B (20 beds, min 2 wards) for the 20 beds of need
    result = solve(falling_demand().lock("closeA", "A", "close_by", year=2021), tmp_path)
    assert operating(result, "A") == [1, 0, 0]
    assert operating(result, "B") == [1, 1, 1]


def test_wards_exact_builds_the_ward_asked_for(tmp_path):
    result = solve(falling_demand().lock("fourA", "A", "wards_exact", service="med", wards=4,
                                         year=2022), tmp_path)
    # free optimum: A at [2, 2, 2]. The two wards (2 x 1M capital, the same whenever built with
    # no discounting) are built in 2020, which lets B close at once (saving 980k a year for the
    # 2 x 100k ward cost of running them early)
    assert wards(result, "A") == [4, 4, 4]
    assert operating(result, "B") == [0, 0, 0]


def test_wards_min_and_max_bound_the_wards(tmp_path):
    result = solve(falling_demand().lock("minA", "A", "wards_min", service="med", wards=3, year=2021)
                   .lock("maxA", "A", "wards_max", service="med", wards=3), tmp_path)
    assert wards(result, "A") == [2, 3, 3]


# gap_in_hub (lead 0): the free optimum opens candidate C in 2020 with 1 ward for the 10-bed gap
def test_open_in_commissions_in_exactly_that_year(tmp_path):
    assert operating(solve(gap_in_hub(lead_years=0), tmp_path, "free"), "C") == [1, 1, 1]
    result = solve(gap_in_hub(lead_years=0).lock("openC", "C", "open_in", year=2021), tmp_path)
    assert operating(result, "C") == [0, 1, 1]


def test_wards_max_zero_keeps_the_candidate_shut(tmp_path):
    result = solve(gap_in_hub(lead_years=0).lock("noC", "C", "wards_max", service="med", wards=0),
                   tmp_path)
    assert operating(result, "C") == [0, 0, 0]
    assert result.solution.unmet["unmet_beds"].sum() == pytest.approx(30)  # 10 beds x 3 years


def test_service_close_by_removes_that_service_only(tmp_path):
    tiny = (Tiny().site("A", wards={"med": 2, "low": 1})
            .need("F", "med", 20).need("F", "low", 10)
            .lock("noLow", "A", "close_by", service="low", year=2022))
    result = solve(tiny, tmp_path)
    assert wards(result, "A", "low") == [1, 1, 0]
    assert wards(result, "A", "med") == [2, 2, 2]


def _problems(tiny: Tiny, tmp_path) -> str:
    with pytest.raises(ScenarioError) as caught:
        build_inputs(load_scenario(tiny.write(tmp_path / "bad")))
    return "\n".join(str(p) for p in caught.value.problems)


@pytest.mark.parametrize(("tiny", "expected"), [
    (gap_in_hub(0).policy(allow_new_sites=False).lock("openC", "C", "open_in", year=2021),
     "decision 'openC' (open (commission) in C 2021): the scenario's policy forbids new sites"),
    (gap_in_hub(2).lock("openC", "C", "open_in", year=2021),
     "required from 2021 but C can open from 2022 at the earliest (lead times)"),
    (falling_demand().lock("keepB", "B", "keep").lock("closeB", "B", "close_by", year=2021),
     "decision 'closeB' (close by B 2021): contradicts decision 'keepB' (keep as it is B): "
     "B operating in 2021 must be >= 1 and <= 0"),
    (falling_demand().policy(closure_notice_years=2).lock("closeB", "B", "close_by", year=2021),
     "required closed in 2021 but B can close from 2022 at the earliest"),
    (falling_demand().lock("x", "B", "wards_min", wards=3),
     "wards_min needs a service and a number of wards"),
    (falling_demand().lock("x", "B", "keep", service="low"),
     "site B cannot host low (not in site_services.csv)"),
    (falling_demand().lock("x", "A", "open_in", year=2021), "A operates today: use keep_open"),
    (falling_demand().lock("x", "A", "wards_min", service="med", wards=11),
     "11 wards of med but site A holds at most 10 (sites.max_wards)"),
    (falling_demand().policy(allow_new_builds=False, allow_conversions=False)
     .lock("x", "A", "wards_min", service="med", wards=3),
     "needs new or converted wards, which the scenario's policy forbids"),
    (falling_demand().lock("x", "Nowhere", "keep"), "unknown site (not in sites.csv)"),
    (falling_demand().lock("x", "A", "close_by", year=2030), "outside the planning horizon 2020..2022"),
])
def test_conflicts_are_named_before_solving(tmp_path, tiny, expected):
    if "unknown site" in expected:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(tiny.write(tmp_path / "bad"))
        assert expected in "\n".join(str(p) for p in caught.value.problems)
        return
    text = _problems(tiny, tmp_path)
    assert expected in text
    assert "fixed_decisions.csv, row" in text


def test_every_conflict_is_listed_at_once(tmp_path):
    tiny = (falling_demand().lock("x", "B", "wards_min", wards=3)
            .lock("y", "A", "close_by", year=2030).lock("z", "A", "open_in", year=2021))
    text = _problems(tiny, tmp_path)
    assert "'x'" in text and "'y'" in text and "'z'" in text


def test_a_lock_that_makes_the_scenario_infeasible_is_named(tmp_path):
    # with no unmet need allowed, closing both units leaves 20 beds of need nowhere to go
    tiny = (falling_demand().policy(allow_unmet=False)
            .lock("closeA", "A", "close_by", year=2021).lock("closeB", "B", "close_by", year=2021))
    with pytest.raises(InfeasibleError, match="fixed decision.*'close[AB]'.*cannot be kept"):
        solve(tiny, tmp_path)


def test_the_diagnosis_file_names_the_lock(tmp_path):
    from model.run import solve_scenario

    tiny = (falling_demand().policy(allow_unmet=False)
            .lock("closeA", "A", "close_by", year=2021).lock("closeB", "B", "close_by", year=2021))
    with pytest.raises(InfeasibleError) as caught:
        solve_scenario(tiny.write(tmp_path / "s"), runs_root=tmp_path / "runs", baseline=False)
    run_dir = next((tmp_path / "runs" / "tiny").iterdir())
    text = (run_dir / "diagnosis.md").read_text()
    assert "## Fixed decisions that must give" in text
    assert "**closeA**" in text or "**closeB**" in text
    assert "diagnosis.md" in str(caught.value)


def test_locks_are_lifted_in_the_do_nothing_baseline(tmp_path):
    # the baseline keeps today's estate: C stays shut even though the plan must open it
    from model.run import solve_scenario

    tiny = gap_in_hub(lead_years=0).lock("openC", "C", "open_in", year=2021)
    result = solve_scenario(tiny.write(tmp_path / "s"), runs_root=None, baseline=True, levers=False)
    assert result.baseline is not None
    base = result.baseline.wards
    assert base[base["site"] == "C"]["operating"].max() == 0


def test_bedplan_validate_names_the_conflicting_locks(tmp_path):
    from typer.testing import CliRunner

    from model.cli import app

    tiny = falling_demand().lock("keepB", "B", "keep").lock("closeB", "B", "close_by", year=2021)
    result = CliRunner().invoke(app, ["validate", str(tiny.write(tmp_path / "s"))])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "decision 'closeB'" in text and "contradicts decision 'keepB'" in text
    assert "Traceback" not in result.output


def test_solve_scenario_documents_its_arguments():
    import inspect

    from model import solve_scenario

    parameters = set(inspect.signature(solve_scenario).parameters)
    # numpydoc: each name (or names joined by ", ") on its own line at the section's indent
    documented = {name for line in inspect.getdoc(solve_scenario).splitlines()
                  if line and not line.startswith(" ") for name in line.split(", ")}
    assert parameters <= documented
