"""Sweep throughput on this machine: variants per hour with 1 and 2 local Dask workers.

    .venv/bin/python scripts/sweep_bench.py [--base data/scenarios/england] [--variants 4]
        [--time-limit 120] [--mip-gap 0.005] [--workers 1 2] [--out runs/sweep-bench]

Each worker count solves its own fresh Latin-hypercube sweep (carbon price and demand scaled
0.95..1.05, so no variant is reused) of `--variants` variants, one solver thread each; wall time
includes starting the cluster and writing the report. Prints a Markdown table and writes
`<out>/bench.json`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
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


def main() -> None:
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = [bench(args.base, args.variants, args.time_limit, args.mip_gap, w, args.out, args.seed + w,
                  warm_start=not args.cold, crossover=not args.no_crossover)
            for w in args.workers]
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average": os.getloadavg()},
              "base": str(args.base), "time_limit": args.time_limit, "mip_gap": args.mip_gap, "runs": rows}
    (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"base {args.base.name}, {args.variants} variants, time limit {args.time_limit:g}s, "
          f"gap {args.mip_gap:g}, 1 solver thread a variant; {os.cpu_count()} cores, "
          f"load average now {os.getloadavg()[0]:.1f}")
    print("| workers | warm start | crossover | variants | wall (s) | base plan (s) | variants/hour "
          "| median variant (s) "
          "| mean variant (s) | p90 variant (s) | median solve (s) | median gap | max gap | started from "
          "| crossed with | statuses | 1,000 variants (h) |")
    print("|---" * 17 + "|")
    for r in rows:
        yes = {True: "yes", False: "no"}
        print(f"| {r['workers']} | {yes[r['warm_start']]} | {yes[r['crossover']]} | {r['variants']} | "
              f"{r['wall_seconds']} | {r['base_plan_seconds']} | {r['variants_per_hour']} | "
              f"{r['median_variant_seconds']} | {r['mean_variant_seconds']} | {r['p90_variant_seconds']} | "
              f"{r['median_solve_seconds']} | {r['median_gap']:.3%} | {r['max_gap']:.3%} | "
              f"{r['started_from']} | {r['crossed_with']} | {r['statuses']} | {r['hours_for_1000']} |")


if __name__ == "__main__":
    main()
