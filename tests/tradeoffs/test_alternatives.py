"""Near-optimal alternatives (MGA) on a hand-checkable instance, on a real Dask LocalCluster.

One year (2020), no discounting, asset life 1 year (capital charged in full). Footprint F needs
20 med beds. Existing unit E has 1 ward (10 beds) and room for no more, at cost factor 0.5:
50k a ward + 50k for its 10 beds a year. The other 10 beds need a new ward at one of the
candidates A, B, C, D (1m to build; a ward and its 10 beds cost 100k x k_s each):

    A (k = 1.000): 1m + 100.0k + 100.0k = 1.200m   -> total with E 1.300m (the optimum)
    B (k = 1.005): 1m + 100.5k + 100.5k = 1.201m   -> 1.301m (+0.08%)
    C (k = 1.010): 1m + 101.0k + 101.0k = 1.202m   -> 1.302m (+0.15%)
    D (k = 1.500): 1m + 150.0k + 150.0k = 1.300m   -> 1.400m (+7.7%)

With 2% slack the budget is 1.326m: E, and one ward at A, B or C (two new wards cost 2m+).
Alternative 1 moves away from {A}: every unused candidate is pushed up, A down: B (cheaper than
C is not what decides it: both score the same distance, the first found wins; either is
right). Alternative 2 moves away from {A, B or C}: the remaining one scores 2 (unused in both
plans), the others 0, so it is the third candidate. Alternative 3 moves away from {A, B, C}:
each scores the same, so it repeats one of them and the search ends. (Method `distance`.)

Method `price` (the default) on the same case, on two workers (so two prices a round): the
budget is 1.326m, the first price lambda = 0.02 x 1.3m / 25 = 1,040 a unit of distance, and each
try minimises cost - lambda x D / |P|, D the distance score (the constant part left out: E,
always kept, adds the same to every plan):

- alt-01, from {A}: D = -E - A + B + C + D. At 1,040: E+A 1.300m + 2 x 1,040 = 1,302,080 (A and
  E both at their plan's value); E+B 1,301,000 + 0; E+C 1,302,000; E+D 1,400,000. So B (within
  the budget, distance 4 from A); at 4,160, the round's other price, B again (B and C score
  alike, B is cheaper). Kept: try 1 (as far, as cheap, found first); the next price 1,040.
- alt-02, from {A, B}: D/2 = (-2E + 0A + 0B + 2C + 2D)/2 = -E + C + D (A's and B's pushes
  cancel). At 1,040: E+A 1,300,000 + 1,040 = 1,301,040; E+B 1,302,040; E+C 1,302,000: A, a
  repeat of the optimum. At 4,160: E+A 1,304,160, E+B 1,305,160, E+C 1,302,000: C, within the
  budget. Kept: try 2; the next price 4,160.
- alt-03, from {A, B, C}: D/3 = -E + (A + B + C)/3 + D, so E+A scores -2/3 and E+D 0; E+D costs
  1,400,000 and E+A 1,300,000 + 2/3 lambda. At 4,160 and 16,640: A (1,302,773, 1,311,093), repeats;
  at 66,560 and 266,240: A (1,344,373) a repeat, and E+D (A: 1,477,493) over the budget; one try
  left, at 66,560 x 4^(1/3) = 105,657 (a third of the way from 66,560 to 266,240 on a log
  scale): A (1,370,438), a repeat. Five tries, none within the budget and new: a repeat, the
  search ends.
"""

from __future__ import annotations

import pandas as pd
import pytest

from model.sweep import dask_client
from model.tradeoffs.alternatives import first_round, keep_plan, next_prices, run_alternatives
from model.tradeoffs.plans import distance
from tests.factory import Tiny


def instance() -> Tiny:
    tiny = (Tiny().set(horizon_years=1)
            .site("E", wards={"med": 1}, max_wards=1, cost_factor=0.5))
    for name, k in (("A", 1.0), ("B", 1.005), ("C", 1.01), ("D", 1.5)):
        tiny.site(name, wards={"med": 0}, status="candidate", max_wards=1, cost_factor=k)
    return tiny.need("F", "med", 20).policy(allow_unmet=False)


@pytest.fixture(scope="module")
def alternatives(tmp_path_factory):
    root = tmp_path_factory.mktemp("alternatives")
    folder = instance().write(root / "mga")
    with dask_client(workers=1) as client:
        run = run_alternatives(folder, slack=0.02, count=3, runs_root=root / "runs", client=client,
                               method="distance")
        again = run_alternatives(folder, slack=0.02, count=3, runs_root=root / "runs", client=client,
                                 method="distance")
    return run, again


@pytest.fixture(scope="module")
def priced(tmp_path_factory):
    root = tmp_path_factory.mktemp("priced")
    folder = instance().write(root / "mga")
    with dask_client(workers=2) as client:
        run = run_alternatives(folder, slack=0.02, count=3, runs_root=root / "runs", client=client)
        again = run_alternatives(folder, slack=0.02, count=3, runs_root=root / "runs", client=client)
    return run, again


def test_the_price_search_by_hand(priced):
    run, _again = priced
    assert run.folder.name == "tiny-slack0.02"  # the default method's folder
    optimum, alt1, alt2, alt3 = run.records
    assert optimum["objective"] == pytest.approx(1.3e6)
    trail = [[(t["price"], t["verdict"]) for t in r["tries"]] for r in (alt1, alt2, alt3)]
    assert trail == [[(1040, "within budget"), (4160, "within budget")],
                     [(1040, "repeat"), (4160, "within budget")],
                     [(4160, "repeat"), (16640, "repeat"), (66560, "repeat"), (266240, "over budget"),
                      (pytest.approx(105657.4, abs=0.1), "repeat")]]
    built = [{s for s in "ABCD" if r["plan"][f"w|{s}|med|2020"]} for r in (optimum, alt1, alt2)]
    assert built == [{"A"}, {"B"}, {"C"}]
    kept = [(r["kept_try"], r["price"], r["objective"]) for r in (alt1, alt2)]
    assert kept == [("alt-01.try1", 1040, pytest.approx(1.301e6)),
                    ("alt-02.try2", 4160, pytest.approx(1.302e6))]
    assert [alt1["distance_to_nearest"], alt2["distance_to_nearest"]] == [4, 4]
    # no price was over the budget in either search, so each next first round steps by 4
    assert alt1["price_over"] is None and alt2["price_over"] is None
    assert alt3["status"] == "repeat" and alt3["same_as"] == "optimum" and "plan" not in alt3
    over = alt3["tries"][3]
    assert over["objective"] == pytest.approx(1.4e6) and over["objective"] > 1.02 * 1.3e6


def test_every_try_is_in_tries_csv_and_a_rerun_solves_none(priced):
    run, again = priced
    tries = pd.read_csv(run.folder / "tries.csv")
    assert len(tries) == 9 and tries["kept"].sum() == 2
    assert list(tries.loc[tries["kept"], "label"]) == ["alt-01.try1", "alt-02.try2"]
    for run_dir in tries["run_dir"]:
        assert (run.folder / run_dir / "manifest.json").exists()
    plans = pd.read_csv(run.folder / "alternatives.csv").set_index("plan")
    assert plans.loc[["optimum", "alt-01", "alt-02"], "within_slack"].all()
    assert list(plans["price_per_unit"].iloc[1:3]) == [1040, 4160]
    summary = (run.folder / "summary.md").read_text()
    assert "tries.csv" in summary and "gap of its priced objective" in summary
    assert again.solved == []
    assert [r["label"] for r in again.records] == ["optimum", "alt-01", "alt-02", "alt-03"]


def test_the_first_round_by_hand():
    # nothing known over the budget: the price, then steps of 4
    assert first_round(10.0, None, 2) == [10.0, 40.0] and first_round(10.0, None) == [10.0]
    # 40 was over the budget before: the price and sqrt(10 x 40) = 20; three wide below 80:
    # 10, 20, 40 (a factor 80/10 = 8 in three equal steps of 2)
    assert first_round(10.0, 40.0, 2) == [10.0, pytest.approx(20.0)]
    assert first_round(10.0, 80.0, 3) == [10.0, pytest.approx(20.0), pytest.approx(40.0)]
    assert first_round(10.0, 10.0, 2) == [10.0, 40.0]  # no room below it: as if nothing were known


def test_next_prices_and_the_plan_kept_by_hand():
    assert next_prices(10.0, None) == [40.0] and next_prices(None, 40.0) == [10.0]
    assert next_prices(10.0, 40.0) == [pytest.approx(20.0)]  # sqrt(10 x 40)
    # two workers: two prices a round; between 10 and 270, a third and two thirds of the way on
    # a log scale: 10 x 27^(1/3) = 30, 10 x 27^(2/3) = 90
    assert next_prices(10.0, None, 2) == [40.0, 160.0] and next_prices(None, 160.0, 2) == [40.0, 10.0]
    assert next_prices(10.0, 270.0, 2) == [pytest.approx(30.0), pytest.approx(90.0)]
    tries = [{"label": "a", "verdict": "within budget", "distance_to_nearest": 4, "objective": 2.0},
             {"label": "b", "verdict": "over budget", "distance_to_nearest": 9, "objective": 9.0},
             {"label": "c", "verdict": "within budget", "distance_to_nearest": 6, "objective": 3.0},
             {"label": "d", "verdict": "within budget", "distance_to_nearest": 6, "objective": 2.5},
             {"label": "e", "verdict": "repeat", "distance_to_nearest": 0, "objective": 1.0}]
    assert keep_plan(tries)["label"] == "d"  # farthest (6), then cheaper; never one over budget
    assert keep_plan(tries[1:2] + tries[4:]) is None


def test_each_alternative_is_within_the_slack_and_different(alternatives):
    run, _again = alternatives
    solved = [r for r in run.records if r["status"] == "optimal"]
    assert [r["label"] for r in solved] == ["optimum", "alt-01", "alt-02"]
    assert solved[0]["objective"] == pytest.approx(1.3e6)
    for r in solved[1:]:
        assert r["objective"] <= 1.02 * 1.3e6 + 1e-6
    for i, p in enumerate(solved):
        for q in solved[i + 1:]:
            assert distance(p["plan"], q["plan"]) > 0
    # the optimum builds at A; the two alternatives at B and C (in either order)
    built = [{s for s in "ABCD" if r["plan"][f"w|{s}|med|2020"]} for r in solved]
    assert built[0] == {"A"} and sorted(built[1] | built[2]) == ["B", "C"]
    # each differs from the optimum in two site decisions and two wards: distance 4
    assert [distance(solved[0]["plan"], r["plan"]) for r in solved[1:]] == [4, 4]
    repeat = run.records[-1]
    assert repeat["label"] == "alt-03" and repeat["status"] == "repeat"
    # each starts from the latest plan found: within the budget, and already away from the optimum
    assert [r["start_from"] for r in run.records[1:]] == ["optimum", "alt-01", "alt-02"]


def test_relax_and_fix_starts_an_alternative(tmp_path):
    """With `first_plan: relax_and_fix` the distance objective gets its own first plan (one
    year here, so the heuristic's one step is the whole alternative: B or C); the plans are
    those of the default run."""
    folder = instance().write(tmp_path / "mga")
    with dask_client(workers=1) as client:
        run = run_alternatives(folder, slack=0.02, count=1, runs_root=tmp_path / "runs", client=client,
                               overrides={"solver": {"first_plan": "relax_and_fix"}}, method="distance")
    optimum, alternative = run.records
    assert alternative["start_from"] == "relax-and-fix" and alternative["status"] == "optimal"
    assert alternative["objective"] <= 1.02 * optimum["objective"] + 1e-6
    built = {s for s in "ABCD" if alternative["plan"][f"w|{s}|med|2020"]}
    assert built in ({"B"}, {"C"})


def test_agreement_table_matches_the_plans(alternatives):
    run, _again = alternatives
    table = pd.read_csv(run.folder / "agreement.csv").set_index("site")
    assert table.at["E", "verdict"] == "in every good plan"
    for site in "ABC":
        assert table.at[site, "verdict"] == "a matter of choice"
        assert (table.at[site, "min_wards"], table.at[site, "max_wards"]) == (0, 1)
    assert table.at["D", "verdict"] == "in no good plan"
    # the per-plan columns are the plans' final-year wards
    for r in run.records:
        if r["status"] == "optimal":
            for site in "ABCDE":
                assert table.at[site, r["label"]] == r["plan"][f"w|{site}|med|2020"]
    plans = pd.read_csv(run.folder / "alternatives.csv").set_index("plan")
    assert plans.loc[["optimum", "alt-01", "alt-02"], "within_slack"].all()
    assert plans.at["alt-03", "status"] == "repeat"
    for name in ("summary.md", "map.png"):
        assert (run.folder / name).exists()
    for run_dir in plans["run_dir"].dropna():
        assert (run.folder / run_dir / "manifest.json").exists()


def test_a_rerun_solves_nothing(alternatives):
    _run, again = alternatives
    assert again.solved == []
    assert again.reused == ["optimum", "alt-01", "alt-02", "alt-03"]


def test_bad_flags_exit_2_and_no_plan_exits_3(tmp_path):
    from typer.testing import CliRunner

    from model.cli import app

    folder = instance().write(tmp_path / "s")
    runs = ["--runs-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, ["alternatives", str(folder), "--slack", "0", *runs])
    assert result.exit_code == 2 and "--slack" in result.output
    result = CliRunner().invoke(app, ["alternatives", str(folder), "--count", "0", "--mip-gap", "-1",
                                      *runs])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["alternatives", str(folder), "--method", "spores", "--tries", "0",
                                      *runs])
    assert result.exit_code == 2 and "--method" in result.output and "--tries" in result.output
    # 20 beds of need, at most 10 beds anywhere (E's ward; no candidate) and no unmet need: no plan
    tiny = Tiny().set(horizon_years=1).site("E", wards={"med": 1}, max_wards=1)
    stuck = tiny.need("F", "med", 20).policy(allow_unmet=False).write(tmp_path / "stuck")
    result = CliRunner().invoke(app, ["alternatives", str(stuck), "--workers", "1", *runs])
    assert result.exit_code == 3, result.output


def test_each_search_starts_where_the_last_kept_its_plan_below_the_price_over(tmp_path, monkeypatch):
    """The hand-over between searches in `_solve_all` (the searches are stand-ins: on the tiny
    instance no search finds a price over its budget before the last). alt-01 starts at the
    first price, 0.02 x 1,000,000 / 25 = 800, keeps its plan at 800 and found 3,200 over the
    budget; alt-02 starts at 800 with 3,200 as the price over; it keeps a plan at 1,600 and
    finds none over, so alt-03 starts at 1,600 with alt-01's 3,200 still the price over."""
    from model.tradeoffs import alternatives
    from model.tradeoffs.store import write_record

    asked = []
    kept = {"alt-01": (800.0, 3200.0), "alt-02": (1600.0, None), "alt-03": (1600.0, None)}

    def fake_search(client, task, label, first_price, budget, plans, after, tries, run, emit, over=None):
        asked.append((label, first_price, over))
        price, price_over = kept[label]
        return {"label": label, "status": "optimal", "price": price, "price_over": price_over,
                "plan": {f"w|{label}|med|2020": 1}, "budget": budget, "after": after}

    monkeypatch.setattr(alternatives, "_price_search", fake_search)
    out = tmp_path / "alt"
    write_record(out, "optimum", {"label": "optimum", "digest": "d", "status": "optimal",
                                  "solved_objective": 1_000_000.0, "plan": {"w|opt|med|2020": 1}})
    run = alternatives.AlternativesRun(folder=out)
    alternatives._solve_all(None, {"out": str(out), "digest": "d"}, 0.02, 3, run, lambda *_: None, 2)
    assert asked == [("alt-01", 800.0, None), ("alt-02", 800.0, 3200.0), ("alt-03", 1600.0, 3200.0)]
    assert [r["label"] for r in run.records] == ["optimum", "alt-01", "alt-02", "alt-03"]
