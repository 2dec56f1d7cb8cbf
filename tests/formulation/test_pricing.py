"""The price of a fixed decision: the objective with it minus without it, equal to the hand
computed difference; within the solves' gaps it is said to be not distinguishable."""

from __future__ import annotations

import pytest

from model.data import load_scenario
from model.pricing import Released, price_table
from model.run import solve_scenario
from model.solve import SolveOutcome
from tests.formulation.test_families import falling_demand


# falling_demand (need 40, 20, 20 beds): A costs 500k fixed + 2 x 100k wards + 20 x 10k beds =
# 900k a year; B, with cost factor 1.2, 500k + 1.2 x 400k = 980k. Free: both in 2020 (1,880k),
# A alone after (2 x 900k): 3,680k. Keeping B: B serves 2021-22 instead of A (A closes, B cannot):
# 1,880k + 2 x 980k = 3,840k. The price of keeping B is 2 x 80k = 160k. Capping A at 2 wards
# costs nothing: no plan here gives A more.
def locked() -> object:
    return (falling_demand().lock("keepB", "B", "keep", note="local campaign")
            .lock("capA", "A", "wards_max", service="med", wards=2))


def test_price_equals_the_hand_computed_difference(tmp_path):
    result = solve_scenario(locked().write(tmp_path / "s"), runs_root=tmp_path / "runs", baseline=False)
    assert result.outcome.objective == pytest.approx(3_840_000, abs=0.01)
    prices = result.prices.set_index("decision")
    assert prices.at["keepB", "objective_released_gbp"] == pytest.approx(3_680_000, abs=0.01)
    assert prices.at["keepB", "price_gbp"] == pytest.approx(160_000, abs=0.01)
    assert bool(prices.at["keepB", "distinguishable"])
    assert prices.at["keepB", "verdict"] == "costs £160,000 over the horizon"
    assert prices.at["keepB", "note"] == "local campaign"
    # releasing keepB changes nothing but which unit serves: same beds placed, no unmet need
    assert prices.at["keepB", "unmet_beds_change"] == pytest.approx(0, abs=1e-6)
    assert prices.at["capA", "price_gbp"] == pytest.approx(0, abs=0.01)
    assert prices.at["capA", "verdict"] == "costs nothing: the plan makes this decision anyway"
    run_dir = result.run_dir
    assert (run_dir / "price.csv").exists()
    summary = (run_dir / "summary.md").read_text()
    assert "## What the fixed decisions cost" in summary and "| keepB |" in summary


def test_no_price_file_without_fixed_decisions(tmp_path):
    result = solve_scenario(falling_demand().write(tmp_path / "s"), runs_root=tmp_path / "runs",
                            baseline=False)
    assert result.prices is None
    assert not (result.run_dir / "price.csv").exists()


def _outcome(objective: float, gap: float) -> SolveOutcome:
    return SolveOutcome("feasible", "maxTimeLimit", objective, objective - gap, gap, gap / objective, 1.0,
                        "HiGHS", None)


def test_a_price_within_the_gaps_is_not_distinguishable(tmp_path):
    data = solve_scenario(locked().write(tmp_path / "s"), runs_root=None, baseline=False,
                          price=False).inputs
    totals = {"carbon_t": 0.0, "patient_km": 0.0, "unmet_beds": 0.0}
    # locked 1,000k within 30k; released 990k within 0: a price of 10k inside gaps of 30k
    table = price_table(data, _outcome(1_000_000, 30_000), totals,
                        [Released("keepB", _outcome(990_000, 0.0), totals)])
    row = table.iloc[0]
    assert row["price_gbp"] == pytest.approx(10_000)
    assert not row["distinguishable"]
    assert row["verdict"] == ("not distinguishable from zero (£10,000 is within the solves' proven gaps "
                              "of £30,000)")
    # 40k against the same gaps is a price
    table = price_table(data, _outcome(1_000_000, 30_000), totals,
                        [Released("keepB", _outcome(960_000, 0.0), totals)])
    assert table.iloc[0]["distinguishable"]


def test_prices_on_a_dask_cluster_equal_the_in_process_ones(tmp_path):
    folder = locked().write(tmp_path / "s")
    here = solve_scenario(folder, runs_root=None, baseline=False).prices
    there = solve_scenario(folder, runs_root=None, baseline=False, workers=2).prices
    assert there["price_gbp"].tolist() == pytest.approx(here["price_gbp"].tolist(), abs=0.01)


def test_a_loaded_scenario_edited_in_pandas_is_solved_and_revalidated(tmp_path):
    from model.errors import ScenarioError

    scenario = load_scenario(falling_demand().write(tmp_path / "s"))
    sites = scenario.tables["sites"]
    sites.loc[sites["site"] == "B", "cost_factor"] = 1.0  # B as cheap as A: 3,600k... both 900k
    result = solve_scenario(scenario, runs_root=None, baseline=False)
    # 2020: 1,800k; then one unit: 2 x 900k
    assert result.outcome.objective == pytest.approx(3_600_000, abs=0.01)
    sites.loc[sites["site"] == "B", "cost_factor"] = -1.0
    with pytest.raises(ScenarioError, match="cost_factor.*must be >= 0.1"):
        solve_scenario(scenario, runs_root=None, baseline=False)
