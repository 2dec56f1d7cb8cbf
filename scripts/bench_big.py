"""Big geographies (issue 15, part 4): restricted arcs priced back in, against size.

    python scripts/bench_big.py [--quick] [--only same,big] [--doc docs/performance.md | --no-doc]

Every row is one synthetic scenario (``scripts/synthetic.py``, seed 0) solved by
``solve_scenario`` in its own Python process (peak memory is per row) with ``solver.arcs:
nearest:K``: build seconds (every round's Pyomo build and compile), solve seconds (HiGHS and the
pricing, everything in the solve stage but the builds), peak memory, the MIP's gap over the arcs
built and the proved gap over every arc (the LP relaxation priced to completion), the arcs built
and the pricing rounds. The "same answer" rows also solve the full model (``arcs: all``) with
the same limits, so that the two answers can be compared where the full model fits.

The table is written into docs/performance.md between ``<!-- bench-big:begin -->`` and
``<!-- bench-big:end -->`` in the section "## Big geographies (issue 15)".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import RESULT, _peak_mb, _phases, machine, run_worker, write_doc  # noqa: E402  (beside this script)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
HEADING = "## Big geographies (issue 15)"
BEGIN, END = "<!-- bench-big:begin -->", "<!-- bench-big:end -->"

# (kind, zones, sites, years, services, arcs, time limit s, relative gap)
SAME = [("same", 44, 100, 5, 4, "nearest:8", 300.0, 1e-3),
        ("same", 200, 300, 5, 4, "nearest:8", 600.0, 1e-2)]
BIG = [("big", 200, 300, 10, 8, "nearest:8", 600.0, 1e-2),
       ("big", 1000, 1000, 5, 4, "nearest:8", 1800.0, 1e-2)]
QUICK = [("same", 20, 30, 2, 2, "nearest:3", 60.0, 1e-3)]


def work(spec: dict) -> dict:
    """One solve_scenario on a generated synthetic scenario (in this worker process)."""
    from synthetic import generate

    from model.errors import BedplanError
    from model.run import solve_scenario

    z, s, y, v = spec["size"]
    # the solver's log beside the runs (git ignores runs/): where a row's time went
    log_path = ROOT / "runs" / "bench-big" / f"{z}x{s}x{y}x{v}-{spec['arcs'].replace(':', '')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    solver_log = str(log_path.relative_to(ROOT))
    with tempfile.TemporaryDirectory() as tmp, log_path.open("w", encoding="utf-8") as stream:
        folder = generate(Path(tmp) / "synthetic", z, s, y, v, seed=0)
        overrides = {"solver": {"time_limit": spec["time_limit"], "mip_gap": spec["mip_gap"],
                                "threads": spec["threads"], "arcs": spec["arcs"],
                                "first_plan": spec.get("first_plan", "highs"),
                                "hub_search": spec.get("hub_search", 0.0),
                                "hub_search_after": spec.get("hub_search_after", False)}}
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()
        try:
            result = solve_scenario(folder, runs_root=None, overrides=overrides, baseline=False,
                                    progress=lambda msg: marks.append((msg, time.perf_counter())),
                                    solver_stream=stream)
        except BedplanError as exc:
            return {"name": spec["name"], "arcs": spec["arcs"], "status": type(exc).__name__,
                    "total_seconds": time.perf_counter() - start, "peak_mb": _peak_mb(),
                    "phases": _phases(marks, start, time.perf_counter()), "load": os.getloadavg(),
                    "messages": [(round(t - start, 1), msg) for msg, t in marks],
                    "solver_log": solver_log}
    total = time.perf_counter() - start
    phases = _phases(marks, start, start + total)
    build = result.manifest["build_seconds"]
    arc = result.manifest.get("arc_pricing") or {}
    solve_stage = phases.get("solve", 0.0) + phases.get("other", 0.0)
    return {
        "name": spec["name"], "arcs": spec["arcs"], "status": result.outcome.status,
        "variables": result.size["variables"], "constraints": result.size["constraints"],
        "load_seconds": sum(phases.get(k, 0.0) for k in ("load", "distances", "checks")),
        "build_seconds": build,
        "solve_seconds": solve_stage - build if arc else result.outcome.seconds,
        "total_seconds": total, "peak_mb": _peak_mb(), "objective": result.outcome.objective,
        "gap_rel": result.outcome.gap_rel, "gap_all_arcs": arc.get("gap_rel_all_arcs"),
        "plan_priced": arc.get("plan_priced"), "lp_priced": arc.get("lp_priced"),
        "plan_gain_bound": arc.get("plan_gain_bound"),
        "lp_close": arc.get("lp_close"),
        "arcs_initial": arc.get("arcs_initial"), "arcs_final": arc.get("arcs_final"),
        "arcs_possible": arc.get("arcs_possible"), "rounds": len(arc.get("rounds", [])),
        "note": arc.get("note", ""), "load": os.getloadavg(),
        "fixed_lp_seconds": [r["fixed_lp_seconds"] for r in arc.get("rounds", [])
                             if r.get("fixed_lp_seconds") is not None],
        # a restricted row's last MIP starts from the MIP before it: the heuristic's plan is the first MIP's
        "first_plan": _first_plan(result.outcome.first_plan or arc.get("first_plan")),
        "start_used": result.outcome.start_used,
        "messages": [(round(t - start, 1), msg) for msg, t in marks],
        "solver_log": solver_log,
    }


def _first_plan(account: dict | None) -> str:
    """The first-plan heuristic's result in a few words, for the table."""
    if not account:
        return ""
    if account.get("objective") is None:
        return f"{account['method']}: none in {account['seconds']:.0f} s"
    return f"{account['method']}: {account['objective']:,.0f} in {account['seconds']:.0f} s"


def _f(value, fmt: str = "{:,.0f}") -> str:
    return "" if value is None else fmt.format(value)


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def render(info: dict, rows: list[dict], args: argparse.Namespace, started: float) -> str:
    from importlib import metadata

    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))} by "
        f"`scripts/bench_big.py` on {info['nproc']} cores ({info['cpu']}), {info['ram_gb']:.0f} GB; "
        f"load average at the start {info['load'][0]:.2f}, {info['load'][1]:.2f}, {info['load'][2]:.2f}; "
        f"HiGHS {metadata.version('highspy')}, Pyomo {metadata.version('pyomo')}; "
        f"{args.threads} solver threads, first plan `{args.first_plan}`, "
        f"hub search {args.hub_search:g} before{' and after' if args.hub_search_after else ''} the MIP, "
        f"niceness {os.nice(0)} (the load "
        "column says what else ran).",
        "",
        "*Build s*: every round's Pyomo build and compilation; *solve s*: HiGHS (LP relaxations, "
        "MIPs, LPs with the integers fixed) and pricing; *gap (arcs built)*: the MIP's proven gap "
        "over the arcs in the final model; *gap (every arc)*: the incumbent against the LP "
        "relaxation over every arc (priced to completion), a bound valid for the full model; "
        "*priced*: no left-out arc lowers the plan's LP with its integers fixed (if not, the most "
        "the arcs priced in could gain it, a Lagrangian bound); *load*: the "
        "1-minute load average when the row finished; *first plan*: `solver.first_plan`'s plan "
        "(objective and seconds) handed to HiGHS as its start.",
        "",
        "| scenario | arcs | status | variables | constraints | load s | build s | solve s | total s | "
        "peak MB | objective GBP | gap (arcs built) | gap (every arc) | priced | arcs built / possible "
        "| rounds | load | first plan |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | {r.get('arcs', '')} | error: {r['error']} |||||||||||||||")
            continue
        built = (f"{_f(r.get('arcs_initial'))} → {_f(r.get('arcs_final'))} / {_f(r.get('arcs_possible'))}"
                 if r.get("arcs_initial") is not None else "")
        priced = "" if r.get("plan_priced") is None else ("yes" if r["plan_priced"] else "no")
        if r.get("plan_priced") is False and r.get("plan_gain_bound") is not None:
            priced += f": at most {r['plan_gain_bound'] / max(abs(r['objective']), 1e-9):.3%} to gain"
        lines.append(
            f"| {r['name']} | {r['arcs']} | {r['status']} | {_f(r.get('variables'))} | "
            f"{_f(r.get('constraints'))} | {_f(r.get('load_seconds'), '{:.1f}')} | "
            f"{_f(r.get('build_seconds'), '{:.1f}')} | {_f(r.get('solve_seconds'), '{:.1f}')} | "
            f"{_f(r.get('total_seconds'), '{:.1f}')} | {_f(r.get('peak_mb'))} | {_f(r.get('objective'))} | "
            f"{_pct(r.get('gap_rel'))} | {_pct(r.get('gap_all_arcs'))} | {priced} | {built} | "
            f"{_f(r.get('rounds'))} | {_f((r.get('load') or [None])[0], '{:.2f}')} | "
            f"{r.get('first_plan', '')} |")
    lines.append("")
    for r in rows:
        if r.get("messages"):
            stages = "; ".join(f"{t:.0f} s {msg}" for t, msg in r["messages"][:16])
            more = f" (+{len(r['messages']) - 16} more)" if len(r["messages"]) > 16 else ""
            log = f" Solver log: `{r['solver_log']}`." if r.get("solver_log") else ""
            lines.append(f"- {r['name']}, {r['arcs']}, stages: {stages}{more}.{log}")
    pairs = {}
    for r in rows:
        if r.get("objective") is not None:
            pairs.setdefault(r["name"], {})[r["arcs"]] = r
    lines.append("")
    for name, by in pairs.items():
        full = by.get("all")
        for arcs, r in by.items():
            if arcs == "all" or full is None:
                continue
            diff = (r["objective"] - full["objective"]) / abs(full["objective"])
            margin = (r.get("gap_rel") or 0.0) + (full.get("gap_rel") or 0.0)
            verdict = "the same answer within the two gaps" if abs(diff) <= margin else "different answers"
            lines.append(f"- {name}: {arcs} {r['objective']:,.0f} against all arcs {full['objective']:,.0f} "
                         f"({100 * diff:+.3f}%; gaps {_pct(r.get('gap_rel'))} and "
                         f"{_pct(full.get('gap_rel'))}): {verdict}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="one small row (a smoke test)")
    parser.add_argument("--only", default="same,big", help="same (against the full model), big")
    parser.add_argument("--sizes", default=None, help="only these sizes, e.g. 44x100x5x4,200x300x5x4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--first-plan", default="rolling_horizon",
                        help="solver.first_plan for every row (rolling_horizon: the only one that "
                             "found a plan at 200 x 300 x 10 x 8)")
    parser.add_argument("--hub-search", type=float, default=0.0,
                        help="solver.hub_search for every row (share of the limit for improving the "
                             "first plan hub by hub)")
    parser.add_argument("--hub-search-after", action="store_true",
                        help="solver.hub_search_after for every row (each MIP's plan searched hub by "
                             "hub in the time its fixed LP will not need)")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    if args.worker:
        print(RESULT + json.dumps(work(json.loads(args.worker))), flush=True)
        return 0
    started, info = time.time(), machine()
    only = set(args.only.split(","))
    plan = QUICK if args.quick else [r for r in BIG + SAME if r[0] in only]  # the targets first
    if args.sizes:
        plan = [r for r in plan if "x".join(str(n) for n in r[1:5]) in args.sizes.split(",")]
    rows = []
    for kind, z, s, y, v, arcs, limit, gap in plan:
        name = f"synthetic {z} zones x {s} sites x {y} years x {v} services"
        for which in ([arcs, "all"] if kind == "same" else [arcs]):
            spec = {"name": name, "size": [z, s, y, v], "arcs": which, "time_limit": limit,
                    "mip_gap": gap, "threads": args.threads, "first_plan": args.first_plan,
                    "hub_search": args.hub_search, "hub_search_after": args.hub_search_after}
            row = run_worker(spec, timeout=3 * limit + 900, script=__file__, keys=("name", "arcs"))
            rows.append(row)
            print(f"{name} {which}: {row}", flush=True)
            if not args.no_doc:  # after every row: a long series stopped half-way keeps what it measured
                write_doc(args.doc, render(info, rows, args, started), HEADING, BEGIN, END)
    print(render(info, rows, args, started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
