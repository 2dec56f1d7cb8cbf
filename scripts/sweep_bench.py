"""Sweep throughput on this machine: variants per hour with 1 and 2 local Dask workers.

    .venv/bin/python scripts/sweep_bench.py [--base data/scenarios/england] [--variants 4]
        [--time-limit 120] [--mip-gap 0.005] [--workers 1 2] [--out runs/sweep-bench]

Each worker count solves its own fresh Latin-hypercube sweep (carbon price and demand scaled
0.95..1.05, so no variant is reused) of `--variants` variants, one solver thread each; wall time
includes starting the cluster and writing the report. Prints a Markdown table, writes
`<out>/bench.json`, and (unless ``--no-doc``) writes the table with the machine, versions and load
into docs/performance.md between ``<!-- bench-sweep:begin -->`` and ``<!-- bench-sweep:end -->``.
``make bench`` runs it as target 1 of issue 15 asks: 40 England variants on 2 workers, 120 s and
0.2% each.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def bench(base: Path, variants: int, time_limit: float, mip_gap: float, workers: int, out: Path,
          seed: int, warm_start: bool = True, base_time_limit: float = 900.0, crossover: bool = True) -> dict:
    from model.sweep import run_sweep

    folder = out / f"w{workers}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    spec = {
        "name": f"bench-w{workers}",
        "base": os.path.relpath(base.resolve(), folder.resolve()),
        "design": "lhs", "variants": variants, "seed": seed,
        "solver": {"time_limit": time_limit, "mip_gap": mip_gap, "threads": 1},
        "warm_start": warm_start,
        "crossover": crossover,
        # the base plan every variant may start from: two threads while the workers wait for it,
        # and long enough to find a plan on a busy machine
        "base_solver": {"time_limit": base_time_limit, "mip_gap": 0.001, "threads": 2},
        "parameters": [
            {"name": "carbon_price", "key": "carbon_price_gbp_per_t", "low": 0, "high": 300},
            {"name": "demand", "table": "demand", "column": "beds", "op": "scale",
             "low": 0.95, "high": 1.05},
        ],
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    run = run_sweep(path, runs_root=folder / "runs", workers=workers)
    wall = time.perf_counter() - start
    results = run.results
    plan_file = run.folder / "base_plan.json"
    base_plan = json.loads(plan_file.read_text()) if plan_file.exists() else {}
    base_seconds = float(base_plan.get("wall_seconds") or 0.0)
    variant_wall = results["wall_seconds"].astype(float)
    # 1,000 variants: the base plan once, then the variants spread over the workers at the
    # mean wall time a variant took here (cluster start-up and the report are left out: minutes)
    hours_1000 = (base_seconds + 1000 * float(variant_wall.mean()) / workers) / 3600
    starts = results.get("start_from", pd.Series(dtype=str)).fillna("none")
    return {
        "warm_start": warm_start,
        "crossover": crossover and warm_start,
        # the base plan every variant may start from: two threads while the workers wait for it,
        # and long enough to find a plan on a busy machine
        "base_solver": {"time_limit": base_time_limit, "mip_gap": 0.001, "threads": 2},
        "base_plan_seconds": round(base_seconds, 1), "base_plan_status": base_plan.get("status"),
        "mean_variant_seconds": round(float(variant_wall.mean()), 1),
        "p90_variant_seconds": round(float(variant_wall.quantile(0.9)), 1),
        "max_gap": float(results["gap_rel"].max()),
        "started_from": {"base plan": int((starts == "base plan").sum()),
                         "a solved variant": int(starts.str.startswith("variant").sum()),
                         "nothing": int((starts == "none").sum())},
        "crossed_with": (results["crossover_with"].fillna("none").value_counts().to_dict()
                         if "crossover_with" in results else {}),
        "hours_for_1000": round(hours_1000, 2),
        "workers": workers, "variants": len(results), "wall_seconds": round(wall, 1),
        "variants_per_hour": round(len(results) / wall * 3600, 1),
        "statuses": results["status"].value_counts().to_dict(),
        "median_variant_seconds": round(float(results["wall_seconds"].median()), 1),
        "median_solve_seconds": round(float(results["solve_seconds"].median()), 1),
        "median_gap": float(results["gap_rel"].median()),
    }


HEADING = "## Issue 15, part 1: England and its sweep variants (warm starts)"
BEGIN, END = "<!-- bench-sweep:begin -->", "<!-- bench-sweep:end -->"


def render(report: dict) -> str:
    """The Markdown the run writes: what was run, on what, and one row a worker count."""
    m = report["machine"]
    load = ", ".join(f"{x:.2f}" for x in m["load_average"])
    lines = [
        f"Measured {report['finished_utc']} by `{report['command']}` on {m['cpus']} cores ({m['cpu']}), "
        f"{m['ram_gb']:.0f} GB; Python {m['python']}, HiGHS {m['highs']}, Pyomo {m['pyomo']}; load average "
        f"at the end {load}. Base {report['base']}, {report['variants']} LHS variants over carbon price "
        f"(0-300 GBP/t) and demand (x 0.95-1.05), {report['time_limit']:g} s and a {report['mip_gap']:.2%} "
        "gap each, 1 solver thread a variant; the base plan on 2 threads to 0.1%. *1,000 variants*: the "
        "base plan, then 1,000 variants at this run's mean wall seconds over the workers (an "
        "extrapolation, not a run).",
        "",
        "| workers | warm start | crossover | variants | wall (s) | base plan (s) | variants/hour "
        "| median variant (s) | mean variant (s) | p90 variant (s) | median solve (s) | median gap "
        "| max gap | started from | crossed with | statuses | 1,000 variants (h) |",
        "|---" * 17 + "|",
    ]
    yes = {True: "yes", False: "no"}
    for r in report["runs"]:
        lines.append(
            f"| {r['workers']} | {yes[r['warm_start']]} | {yes[r['crossover']]} | {r['variants']} | "
            f"{r['wall_seconds']} | {r['base_plan_seconds']} | {r['variants_per_hour']} | "
            f"{r['median_variant_seconds']} | {r['mean_variant_seconds']} | {r['p90_variant_seconds']} | "
            f"{r['median_solve_seconds']} | {r['median_gap']:.3%} | {r['max_gap']:.3%} | "
            f"{r['started_from']} | {r.get('crossed_with', {})} | {r['statuses']} | {r['hours_for_1000']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import highspy
    import pyomo

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench import machine, write_doc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=ROOT / "data" / "scenarios" / "england")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--mip-gap", type=float, default=0.005)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "sweep-bench")
    parser.add_argument("--cold", action="store_true", help="no MIP starts (warm_start: false)")
    parser.add_argument("--no-crossover", action="store_true",
                        help="starts not improved by the crossover (crossover: false)")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-doc", action="store_true", help="print the table only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = [bench(args.base, args.variants, args.time_limit, args.mip_gap, w, args.out, args.seed + w,
                  warm_start=not args.cold, crossover=not args.no_crossover)
            for w in args.workers]
    info = machine()
    report = {"machine": {"cpus": info["nproc"], "cpu": info["cpu"], "ram_gb": info["ram_gb"],
                          "python": info["python"], "highs": highspy.Highs().version(),
                          "pyomo": pyomo.__version__, "load_average": info["load"]},
              "command": "python scripts/sweep_bench.py " + " ".join(sys.argv[1:]),
              "finished_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "base": os.path.relpath(args.base.resolve(), ROOT), "variants": args.variants,
              "time_limit": args.time_limit, "mip_gap": args.mip_gap, "runs": rows}
    (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    body = render(report)
    print(body)
    if not args.no_doc:
        write_doc(args.doc, body, HEADING, BEGIN, END)
        print(f"written {args.doc} (section '{HEADING}')")


if __name__ == "__main__":
    main()
