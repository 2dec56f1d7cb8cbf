"""The benchmark tooling: synthetic scenarios and the performance document writer."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from model.data import load_scenario
from model.run import solve_scenario

ROOT = Path(__file__).resolve().parents[2]


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_synthetic_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", zones=12, sites=10, years=3, services=4, seed=3)
    b = generate(tmp_path / "b", zones=12, sites=10, years=3, services=4, seed=3)
    c = generate(tmp_path / "c", zones=12, sites=10, years=3, services=4, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


@pytest.mark.parametrize(("zones", "sites", "years", "services"), [(8, 6, 3, 2), (15, 12, 4, 5)])
def test_synthetic_loads_and_solves(tmp_path, zones, sites, years, services):
    folder = generate(tmp_path / "s", zones=zones, sites=sites, years=years, services=services,
                      time_limit=30, mip_gap=0.01)
    data = load_scenario(folder)
    assert len(data.footprints) == zones
    assert len(data.sites) == sites
    assert data.config.horizon_years == years
    assert (data.services["level"] != "community").sum() == services
    result = solve_scenario(folder, runs_root=None, baseline=False)
    assert result.outcome.has_solution


def _script(name: str):
    """A module of scripts/ (benchmark tooling users never import, so outside the package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_module():
    return _script("bench")


def generate(*args, **kwargs):
    return _script("synthetic").generate(*args, **kwargs)


def test_bench_doc_writes_only_its_block(tmp_path):
    bench = _bench_module()
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n## Sweeps\n\nother text\n\n## Benchmarks (issue 7)\n\nmy notes\n\n"
                   "## Later\n\nmore\n")
    bench.write_doc(doc, "table one")
    text = doc.read_text()
    assert "other text" in text and "more" in text and "my notes" in text
    assert text.index("## Benchmarks (issue 7)") < text.index("table one") < text.index("my notes")
    bench.write_doc(doc, "table two")
    text = doc.read_text()
    assert "table one" not in text and text.count(bench.BEGIN) == 1 and "table two" in text
    assert "other text" in text and "my notes" in text and "## Later" in text


@pytest.mark.parametrize("argv, partial", [
    ([], None),
    (["--time-limit", "60", "--threads", "1"], None),  # other settings, every row: a full run
    (["--quick"], "--quick"),
    (["--orlib", "small"], "--orlib small"),
    (["--only", "england"], "--only england"),
    (["--only", "orlib,synthetic"], "--only orlib,synthetic"),
    (["--england-seeds", "1"], "--england-seeds, --no-alone or --no-spopt"),
    (["--no-alone"], "--england-seeds, --no-alone or --no-spopt"),
    (["--synthetic-first-plan", "highs"], "--synthetic-first-plan highs"),
])
def test_a_partial_bench_run_leaves_the_performance_documents_block(argv, partial, tmp_path):
    """A run measuring only some of make bench's rows would replace every part's rows in
    docs/performance.md with its own few: it writes there only when named with --doc, and
    never with --no-doc."""
    bench = _bench_module()
    parser = bench.build_parser()
    args = parser.parse_args(argv)
    assert bench.partial_run(args) == partial
    assert bench.doc_to_write(args) == (bench.DOC if partial is None else None)
    named = parser.parse_args([*argv, "--doc", str(tmp_path / "mine.md")])
    assert bench.doc_to_write(named) == tmp_path / "mine.md"
    assert bench.doc_to_write(parser.parse_args([*argv, "--no-doc"])) is None


def test_mip_start_keeps_the_optimum():
    """A do-nothing MIP start (HiGHS drops it when the rules forbid it) changes no optimum."""
    from model.config import SolverConfig
    from model.formulation import build_model, do_nothing_start
    from model.inputs import build_inputs
    from model.solve import solve

    data = build_inputs(load_scenario(ROOT / "data" / "scenarios" / "demo"))
    options = SolverConfig(time_limit=60, mip_gap=0.0, threads=1)
    plain = solve(build_model(data), options)
    m = build_model(data)
    start = do_nothing_start(m, data)
    assert len(start) > 0
    warm = solve(m, options, mip_start=start)
    assert warm.status == plain.status == "optimal"
    assert warm.objective == pytest.approx(plain.objective, rel=1e-9)


def test_a_scale_row_names_its_first_plan_heuristic():
    """Ours runs the scenario's first-plan heuristic and HiGHS alone does not: the row says so
    (England's ratio (a) below 1 is that heuristic's saving, not our layer's speed)."""
    import argparse
    import time

    bench = _bench_module()
    row = {"name": "England", "variables": 10, "integer_variables": 2, "constraints": 5,
           "build_seconds": 1.0, "solve_seconds": 90.0, "total_seconds": 100.0, "status": "optimal",
           "gap_rel": 0.001, "gap_rel_controllable": 0.002, "peak_mb": 900.0, "phases": {},
           "highs_seconds": 180.0, "first_plan": "lp_neighbourhood"}
    info = {"nproc": 2, "cpu": "cpu", "ram_gb": 24, "python": "3", "load": (1.0, 1.0, 1.0)}
    args = argparse.Namespace(time_limit=300, mip_gap=0.001, threads=2, quick=True,
                              synthetic_first_plan="rolling_horizon")
    rows = [row, {**row, "name": "plain", "first_plan": "highs"},
            {**row, "name": "unbounded", "status": "feasible", "gap_rel": 8.27195,
             "gap_rel_controllable": 1.0}]
    text = bench.render(info, [], {}, rows, args, time.time())
    assert "`rolling_horizon` on the synthetic rows" in text
    lines = [line for line in text.splitlines() if line.startswith(("| England", "| plain", "| unbounded"))]
    assert "| optimal (first plan: lp_neighbourhood) | 0.100% | 0.200% |" in lines[0]
    assert "| optimal | 0.100% | 0.200% |" in lines[1]
    # a bound at or below zero (gap 100% or more, the 200 x 300 x 10 x 8 row on every arc): no bound
    assert "| no bound (827.195%) | no bound (100.000%) |" in lines[2]


def test_englands_seeds_are_summarised_by_their_median():
    """Three seeds solving in 62, 39 and 64 s: the range 39-64 and the median 62 (the middle
    one), each seed's seconds and gap named; one seed alone gives no line (there is no spread)."""
    bench = _bench_module()
    rows = [{"seed": 0, "solve_seconds": 62.0, "gap_rel": 0.00097},
            {"seed": 1, "solve_seconds": 39.0, "gap_rel": 0.00095},
            {"seed": 2, "solve_seconds": 64.0, "gap_rel": 0.00099}]
    line = bench.seed_spread(rows)[0]
    assert "39.0 s to 64.0 s, median **62.0 s**" in line
    assert "seed 1: 39.0 s at 0.095%" in line
    assert bench.seed_spread(rows[:1]) == []


def test_the_sweep_bench_writes_its_table_in_its_own_block(tmp_path):
    """The sweep bench's block goes under issue 15's part 1 heading, once, replaced on a second
    run, and says the machine, the versions, the load and what each run's variants were crossed
    with; the other blocks and the text around them stay."""
    sweep_bench = _script("sweep_bench")
    bench = _bench_module()
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\n{sweep_bench.HEADING}\n\nmy notes\n\n## Benchmarks (issue 7)\n\n"
                   f"{bench.BEGIN}\nissue 7 table\n{bench.END}\n")
    run = {"workers": 2, "warm_start": True, "crossover": True, "variants": 40, "wall_seconds": 877.2,
           "base_plan_seconds": 60.4, "variants_per_hour": 164.2, "median_variant_seconds": 22.7,
           "mean_variant_seconds": 31.1, "p90_variant_seconds": 66.6, "median_solve_seconds": 16.9,
           "median_gap": 0.00185, "max_gap": 0.002, "started_from": {"base plan": 4},
           "crossed_with": {"plans": 32, "relaxation": 7, "none": 1}, "statuses": {"optimal": 40},
           "hours_for_1000": 4.33}
    report = {"machine": {"cpus": 2, "cpu": "a cpu", "ram_gb": 24.0, "python": "3.11", "highs": "1.16.0",
                          "pyomo": "6.10.1", "load_average": [2.0, 1.5, 1.0]},
              "command": "python scripts/sweep_bench.py --variants 40",
              "finished_utc": "2026-12-02 13:28 UTC",
              "base": "data/scenarios/england", "variants": 40, "time_limit": 120.0, "mip_gap": 0.002,
              "runs": [run]}
    for _ in range(2):
        bench.write_doc(doc, sweep_bench.render(report), sweep_bench.HEADING, sweep_bench.BEGIN,
                        sweep_bench.END)
    text = doc.read_text()
    assert text.count(sweep_bench.BEGIN) == 1 and "issue 7 table" in text and "my notes" in text
    assert text.index(sweep_bench.HEADING) < text.index(sweep_bench.BEGIN) < text.index("my notes")
    block = text.split(sweep_bench.BEGIN)[1].split(sweep_bench.END)[0]
    assert "a cpu" in block and "HiGHS 1.16.0" in block and "2.00, 1.50, 1.00" in block
    row = next(line for line in block.splitlines() if line.startswith("| 2 |"))
    assert "| 877.2 |" in row and "'relaxation': 7" in row and "| 0.200% |" in row
    assert row.endswith("| 4.33 |")


def test_the_restart_rows_solve_each_edit_cold_and_from_the_plan(tmp_path):
    """`make bench`'s England re-solves, run here on falling_demand: the row's worker writes the
    plan, the restart worker solves each edit cold and from that plan, and the table names each.
    Every tiny solve is optimal, so each edit's two objectives agree; the unedited scenario's cold
    figures are its own row's."""
    from tests.formulation.test_families import falling_demand

    bench = _bench_module()
    folder, plan = falling_demand().write(tmp_path / "s"), tmp_path / "plan.json"
    spec = {"kind": "scenario", "name": "tiny", "folder": str(folder), "time_limit": 30,
            "mip_gap": 1e-4, "threads": 1, "seed": 0, "plan_out": str(plan)}
    row = bench.work_scenario(spec)
    assert plan.is_file() and row["status"] == "optimal"
    restarts = bench.work_restart({**spec, "kind": "restart", "plan": str(plan)})
    assert [r["edit"] for r in restarts["rows"]] == [label for label, _edit in bench.RESTART_EDITS]
    same, *edited = restarts["rows"]
    assert "cold" not in same and same["warm"]["start"]["feasible"]
    assert same["warm"]["objective"] == pytest.approx(row["objective"], rel=1e-6)
    for r in edited:
        assert r["warm"]["objective"] == pytest.approx(r["cold"]["objective"], rel=1e-6)
    restarts.update(cold_seconds=row["solve_seconds"], cold_objective=row["objective"],
                    cold_gap=row["gap_rel"])
    table = bench.restart_table([restarts])
    lines = [line for line in table if line.startswith("| 0 |")]
    assert len(lines) == len(bench.RESTART_EDITS)
    assert lines[0].startswith(f"| 0 | the same scenario | {row['solve_seconds']:.1f} |")
    assert all(line.endswith("| feasible |") for line in lines)
    assert table[-2].startswith("From the plan, solve seconds over the seeds: the same scenario: median")


def test_the_command_rows_run_make_solve_then_from_the_last_run(tmp_path):
    """`make bench`'s whole-command rows, run here on falling_demand (without the report, for
    time): two `bedplan solve` processes, the second with `--start-from last`, whose every lever
    step started from the first run's plan of that step; the table gives both, and each run's
    seconds add up (the rest is the whole less the main solve and the steps)."""
    from tests.formulation.test_families import falling_demand

    bench = _bench_module()
    folder = falling_demand().write(tmp_path / "s")
    command = bench.work_command({"name": "tiny", "folder": str(folder), "args": ["--no-report"]})
    cold, warm = command["runs"]
    assert "error" not in cold and "error" not in warm, command
    assert [lever for lever, _s, _e in cold["steps"]] == ["do_nothing", "removals", "conversions",
                                                          "new_builds", "community"]
    assert [earlier for _l, _s, earlier in warm["steps"]] == [None, True, True, True, True]
    assert warm["objective"] == pytest.approx(cold["objective"], rel=1e-9)
    assert cold["wall_seconds"] > cold["solve_seconds"] + cold["steps_seconds"]
    table = bench.command_table(command)
    rows = [line for line in table if line.startswith("| cold |") or line.startswith("| from the last run")]
    assert len(rows) == 2
    rest = cold["wall_seconds"] - cold["solve_seconds"] - cold["steps_seconds"]
    assert rows[0].startswith(f"| cold | {cold['wall_seconds']:.1f} | {cold['solve_seconds']:.1f} | ")
    assert f"| {rest:.1f} |" in rows[0]
