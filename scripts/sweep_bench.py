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

import yaml

ROOT = Path(__file__).resolve().parents[1]


def bench(base: Path, variants: int, time_limit: float, mip_gap: float, workers: int, out: Path,
          seed: int) -> dict:
    from model.sweep import run_sweep

    folder = out / f"w{workers}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    spec = {
        "name": f"bench-w{workers}",
        "base": os.path.relpath(base.resolve(), folder.resolve()),
        "design": "lhs", "variants": variants, "seed": seed,
        "solver": {"time_limit": time_limit, "mip_gap": mip_gap, "threads": 1},
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
    return {
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = [bench(args.base, args.variants, args.time_limit, args.mip_gap, w, args.out, args.seed + w)
            for w in args.workers]
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average": os.getloadavg()},
              "base": str(args.base), "time_limit": args.time_limit, "mip_gap": args.mip_gap, "runs": rows}
    (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"base {args.base.name}, {args.variants} variants, time limit {args.time_limit:g}s, "
          f"gap {args.mip_gap:g}, 1 solver thread a variant; {os.cpu_count()} cores, "
          f"load average now {os.getloadavg()[0]:.1f}")
    print("| workers | variants | wall (s) | variants/hour | median variant (s) | median solve (s) | "
          "median gap | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['variants']} | {r['wall_seconds']} | {r['variants_per_hour']} | "
              f"{r['median_variant_seconds']} | {r['median_solve_seconds']} | {r['median_gap']:.3%} | "
              f"{r['statuses']} |")


if __name__ == "__main__":
    main()
