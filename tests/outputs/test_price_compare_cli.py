"""`bedplan price` and `bedplan compare` as a planner runs them."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from tests.formulation.test_families import falling_demand

runner = CliRunner()


def test_price_keep_answers_what_keeping_a_unit_costs(tmp_path):
    # falling_demand: keeping B costs 2 x 80k = 160k (tests/formulation/test_pricing.py)
    folder = falling_demand().write(tmp_path / "s")
    result = runner.invoke(app, ["price", str(folder), "--keep", "B", "--runs-dir", str(tmp_path / "runs"),
                                 "--time-limit", "30"])
    assert result.exit_code == 0, result.output
    assert "160,000" in result.output
    run_dir = next((tmp_path / "runs" / "tiny").iterdir())
    prices = pd.read_csv(run_dir / "price.csv")
    assert prices["decision"].tolist() == ["keep B"]
    assert prices["price_gbp"].iloc[0] == pytest.approx(160_000, abs=0.01)


def test_price_starts_from_the_last_run_where_its_plan_allows(tmp_path):
    """falling_demand's plan keeps A and closes B in 2021. Pricing `keep A` from it: the plan
    keeps A, so it is the start, and keeping A costs nothing (A is kept anyway). Pricing `keep B`
    from the last run (that price run, whose plan still closes B): the lock forbids the plan, so
    the start is refused and the price is the cold one, 160k."""
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    solved = runner.invoke(app, ["solve", str(folder), "--runs-dir", str(runs), "--no-report",
                                 "--no-baseline"])
    assert solved.exit_code == 0, solved.output
    keep_a = runner.invoke(app, ["price", str(folder), "--keep", "A", "--runs-dir", str(runs),
                                 "--start-from", "last"])
    assert keep_a.exit_code == 0, keep_a.output
    assert "it is feasible here" in " ".join(keep_a.output.split())
    keep_b = runner.invoke(app, ["price", str(folder), "--keep", "B", "--runs-dir", str(runs),
                                 "--start-from", "last"])
    assert keep_b.exit_code == 0, keep_b.output
    assert "it is not feasible here, so the solve went on as without it" in " ".join(keep_b.output.split())
    runs_made = sorted((runs / "tiny").iterdir())
    assert len(runs_made) == 3
    prices = [pd.read_csv(run / "price.csv").iloc[0] for run in runs_made[1:]]
    assert [p["decision"] for p in prices] == ["keep A", "keep B"]
    assert prices[0]["price_gbp"] == pytest.approx(0, abs=0.01)
    assert prices[1]["price_gbp"] == pytest.approx(160_000, abs=0.01)


@pytest.mark.parametrize(("args", "message"), [
    (["--close-by", "B"], "--close-by: write SITE[:SERVICE]@YEAR"),
    (["--wards-min", "B:med"], "--wards-min: write SITE:SERVICE=N"),
    (["--open-in", "A@2021"], "A operates today: use keep_open"),
    ([], "give at least one decision to price"),
])
def test_price_flags_are_checked(tmp_path, args, message):
    folder = falling_demand().write(tmp_path / "s")
    result = runner.invoke(app, ["price", str(folder), *args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_compare_finds_the_known_difference(tmp_path):
    # A: the free plan closes B in 2021; B: B kept. Objective 3,680k against 3,840k: 160k apart,
    # beyond gaps of 0; B's decisions differ in 2021 (decommission vs keep)
    folder = falling_demand().write(tmp_path / "s")
    locked = falling_demand().lock("keepB", "B", "keep").write(tmp_path / "locked")
    runs = tmp_path / "runs"
    for scenario in (folder, locked):
        result = runner.invoke(app, ["solve", str(scenario), "--runs-dir", str(runs), "--no-breakdown"])
        assert result.exit_code == 0, result.output
    run_a, run_b = sorted((runs / "tiny").iterdir())
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(run_a), str(run_b), "--output", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compare.csv")
    objective = table[(table["kind"] == "objective") & (table["measure"] == "objective")].iloc[0]
    assert objective["difference"] == pytest.approx(160_000, abs=0.01)
    assert not objective["within_gaps"]
    changed = pd.read_csv(out / "compare_decisions.csv")
    assert set(changed["site"]) == {"A", "B"}  # B kept instead of closed, A closed instead of kept
    row = changed[(changed["site"] == "B") & (changed["year"] == 2021)].iloc[0]
    assert (row["action_a"], row["action_b"]) == ("decommission", "keep")
    text = (out / "compare.md").read_text()
    assert "**Objective: B - A = £160,000**" in text
    assert (out / "compare_map.png").stat().st_size > 1000


def test_compare_refuses_runs_of_different_shapes(tmp_path):
    runs = tmp_path / "runs"
    short = falling_demand().set(horizon_years=2)
    short.demand = [d for d in short.demand if d["year"] < 2022]
    for scenario in (falling_demand().write(tmp_path / "a"), short.write(tmp_path / "b")):
        result = runner.invoke(app, ["solve", str(scenario), "--runs-dir", str(runs), "--no-baseline"])
        assert result.exit_code == 0, result.output
    run_a, run_b = sorted((runs / "tiny").iterdir())
    result = runner.invoke(app, ["compare", str(run_a), str(run_b), "--output", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "years differ" in result.output and "--shared-only" in result.output
    result = runner.invoke(app, ["compare", str(run_a), str(run_b), "--output", str(tmp_path / "c"),
                                 "--shared-only"])
    assert result.exit_code == 0, result.output
