"""Running a sweep on Dask: the cluster, solving one variant on a worker, and the run itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.config import SCENARIO_FILE
from model.errors import InfeasibleError, NoSolutionError, ScenarioError
from model.sweep.designs import build_variants
from model.sweep.load import load_sweep
from model.sweep.report import write_report
from model.sweep.starts import CROSSOVER_PARENTS, StartPool
from model.sweep.store import (
    RETRIED,
    SOLVED,
    VARIANTS_DIR,
    Sweep,
    SweepRun,
    Variant,
    consolidate,
    read_base_plan,
    read_variant,
    sweep_lock,
    write_base_plan,
    write_plan,
    write_variant,
)

log = logging.getLogger(__name__)

# a variant none of whose starts was feasible, sent back to the queue (never written as a result)
WAITING = "waiting"
MAX_WAITS = 3  # times a variant waits for more plans before it goes ahead without a start

# one flattened base per worker process, kept for its life: every variant on the worker extends it
# rather than writing the whole base to disk again
_BASE_DIRS: dict[str, tempfile.TemporaryDirectory] = {}
_BASE_LOCK = threading.Lock()


def _base_dir(bundle: dict[str, Any]) -> Path:
    """The flattened base scenario on this worker's disk, written once per process."""
    with _BASE_LOCK:
        holder = _BASE_DIRS.get(bundle["digest"])
        if holder is None:
            holder = tempfile.TemporaryDirectory(prefix="bedplan-sweep-base-")
            root = Path(holder.name)
            for name, data in bundle["files"].items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
            (root / SCENARIO_FILE).write_text(yaml.safe_dump(bundle["config"], sort_keys=False),
                                              encoding="utf-8")
            _BASE_DIRS[bundle["digest"]] = holder
        return Path(holder.name)


def solve_base_plan(bundle: dict[str, Any], solver: dict[str, Any] | None = None) -> dict[str, Any]:
    """The base scenario solved once, with its own solver settings or `solver`: the plan (integer
    decisions as [component, index, value] rows) every variant starts from. Never raises: a base
    without a plan gives an empty start, and the variants then start from each other's plans."""
    from model.formulation.levers import named_start
    from model.run import solve_scenario

    started = time.perf_counter()
    held: dict[str, Any] = {}

    def keep(formulation):
        held["model"] = formulation.model
        return None

    plan: dict[str, Any] = {"digest": bundle["digest"], "start": [], "status": "error", "reason": ""}
    try:
        result = solve_scenario(_base_dir(bundle), runs_root=None, baseline=False, levers=False,
                                price=False, prepare=keep, overrides={"solver": solver} if solver else None)
        outcome = result.outcome
        plan.update(status=outcome.status, objective=outcome.objective, gap_rel=outcome.gap_rel,
                    solve_seconds=outcome.seconds, start=named_start(held["model"]))
    except (ScenarioError, InfeasibleError, NoSolutionError) as exc:
        plan.update(status=type(exc).__name__, reason=str(exc).splitlines()[0][:300])
    plan["wall_seconds"] = time.perf_counter() - started
    log.info("base plan: %s in %.1fs", plan["status"], plan["wall_seconds"])
    return plan


def solve_variant(bundle: dict[str, Any], overrides: dict[str, Any], key: str,
                  baseline: bool = False, starts: list[list[Any]] | None = None,
                  start_labels: list[str] | None = None, wait: bool = False,
                  crossover: bool = False) -> dict[str, Any]:
    """Solve one variant; never raises for a bad variant: the status and reason say what happened.

    `starts` are candidate MIP starts (plans as [component, index, value] rows, nearest first);
    the first feasible one is used and the record says which (`start_from`). With `crossover`,
    that start is first improved by the MIP boxed between it and the `CROSSOVER_PARENTS`
    nearest plans offered, or when none differs from it, with the rounding of the variant's own
    LP relaxation (`model.solve.BetweenPlans`; `crossover_seconds`, `crossover_with` and
    `crossover_improved` in the record). With `wait`, a variant none of whose starts is feasible
    is not solved: its status is `waiting` (the runner offers it again once other variants have
    added their plans).
    Returns a record (JSON-able) with a `decisions` DataFrame and the variant's own `plan`.
    """
    from model.formulation.levers import named_start, start_map
    from model.run import solve_scenario
    from model.solve import BetweenPlans, StartsOrWait

    start = time.perf_counter()
    record: dict[str, Any] = {"variant": key, "status": "error", "reason": "",
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    decisions = plan = None
    with tempfile.TemporaryDirectory(prefix=f"bedplan-variant-{key}-") as tmp:
        folder = Path(tmp)
        content = {"extends": str(_base_dir(bundle)), **overrides}
        (folder / SCENARIO_FILE).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        held: dict[str, Any] = {}
        try:
            def prepare(formulation):
                held["model"] = formulation.model
                if not starts:
                    return None
                candidates = [start_map(formulation.model, plan) for plan in starts]
                offered = (BetweenPlans(candidates, candidates[:CROSSOVER_PARENTS], or_relaxation=True)
                           if crossover else candidates)
                held["wait"] = StartsOrWait(offered) if wait else None
                return held["wait"] or offered

            # a variant's fixed decisions are kept, not priced (one re-solve each)
            result = solve_scenario(folder, runs_root=None, baseline=baseline, levers=False, price=False,
                                    prepare=prepare)
            record.update(_solved_record(result))
            choice = result.outcome.start_choice
            record["start_from"] = (start_labels or [])[choice] if choice is not None else "none"
            record.update(_crossover_fields(result.outcome.first_plan))
            plan = named_start(held["model"])
            decisions = _decision_rows(result)
        except ScenarioError as exc:
            problems = [str(p).replace(str(folder), "<variant>").replace(
                str(_base_dir(bundle)), "<base>") for p in exc.problems]
            more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
            record.update(status="invalid", reason="; ".join(problems[:5]) + more)
        except InfeasibleError as exc:
            record.update(status="infeasible", reason=_clean(str(exc), folder))
        except NoSolutionError as exc:
            if held.get("wait") is not None and held["wait"].none_feasible:
                record.update(status=WAITING, reason=f"none of the {len(starts or [])} plans offered is "
                              "feasible for it", start_from="none", start_used=False)
            else:  # a feasible start is a solution: none of the offered starts was feasible
                record.update(status="no_solution", reason=_clean(str(exc), folder), start_from="none",
                              start_used=False if starts else None)
        except Exception as exc:  # a bug: recorded, and tried again on the next run
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            record.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                          traceback="".join(tb[-6:]))
    record["wall_seconds"] = time.perf_counter() - start
    record["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    log.info("variant %s: %s in %.1fs", key, record["status"], record["wall_seconds"])
    return {"record": record, "decisions": decisions, "plan": plan}


def _crossover_fields(first_plan: dict[str, Any] | None) -> dict[str, Any]:
    """What the crossover did for a variant: its seconds (None: it did not run, e.g. no start was
    feasible), what the start was crossed with (`plans`: nearest plans offered; `relaxation`:
    none differed from the start, so the rounding of its LP relaxation, whose seconds are in
    the crossover's) and whether it found a plan better than the start."""
    if not first_plan or first_plan.get("method") != "crossover":
        return {"crossover_seconds": None, "crossover_with": None, "crossover_improved": None}
    relaxed = any(step.get("stage") == "relaxation" for step in first_plan["steps"])
    return {"crossover_seconds": first_plan["seconds"],
            "crossover_with": "relaxation" if relaxed else "plans",
            "crossover_improved": first_plan["improved"]}


def _clean(text: str, folder: Path) -> str:
    return text.replace(str(folder), "<variant>")


def _solved_record(result: Any) -> dict[str, Any]:
    outcome = result.outcome
    manifest = result.manifest
    reason = "" if outcome.status == "optimal" else (
        f"time limit reached with a solution: gap {outcome.gap_rel or 0:.4%} not proven below "
        f"the target ({result.scenario.config.solver.mip_gap:g})")
    # start_used False then says nothing of the plans' feasibility
    reason = "; ".join(filter(None, [reason, outcome.unchecked_note]))
    out: dict[str, Any] = {
        "status": outcome.status,
        "reason": reason,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap_abs": outcome.gap_abs,
        "gap_rel": outcome.gap_rel,
        "gap_rel_controllable": manifest.get("gap_rel_controllable"),
        "solve_seconds": outcome.seconds,
        "build_seconds": manifest.get("build_seconds"),
        "start_used": outcome.start_used,
        "terms": dict(result.solution.objective_terms),
        "size": dict(result.size),
    }
    kpi = result.kpis
    england = kpi[(kpi["scope"] == "england") & (kpi["year"].astype(str) == "all")]
    for case, prefix in (("optimised", ""), ("baseline", "baseline_")):
        rows = england[england["case"] == case]
        if not rows.empty:
            row = rows.iloc[0]
            out[f"{prefix}kpis"] = {k: float(row[k]) for k in row.index
                                    if k not in ("case", "scope", "id", "year")}
    if result.baseline is not None:
        out["baseline_objective"] = result.baseline.objective
    return out


def _decision_rows(result: Any) -> pd.DataFrame:
    dec = result.decisions
    if dec is None or dec.empty:
        return pd.DataFrame(columns=["site", "hub", "year", "action", "wards", "beds", "wards_before"])
    after = [c for c in dec.columns if c.startswith("wards_after_")]
    before = [c for c in dec.columns if c.startswith("wards_before_")]
    beds = [c for c in dec.columns if c.startswith("beds_after_")]
    out = dec[["site", "hub", "year", "action"]].copy()
    out["wards"] = dec[after].sum(axis=1).astype(int)
    out["beds"] = dec[beds].sum(axis=1).astype(int)
    out["wards_before"] = dec[before].sum(axis=1).astype(int)
    out["year"] = out["year"].astype(int)
    return out.reset_index(drop=True)


Event = Callable[[str, dict[str, Any]], None]


def pending(sweep: Sweep, variants: list[Variant], runs_root: str | Path = "runs",
            retry_failed: bool = False) -> tuple[list[Variant], list[Variant]]:
    """(to solve, already done) for this sweep's variants, from the files in its folder."""
    folder = sweep.output_folder(runs_root) / VARIANTS_DIR
    todo, done = [], []
    retry = RETRIED + (("invalid", "infeasible", "no_solution") if retry_failed else ())
    for v in variants:
        record, problem = read_variant(folder, v)
        if problem:
            log.warning("variant %s (%s) will be solved again: %s", v.key, v.label, problem)
        if record is None or record.get("status") in retry:
            todo.append(v)
        else:
            done.append(v)
    return todo, done


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on the scheduler at `scheduler`, or on a new LocalCluster of `workers`
    processes (default: one per core) with one thread each and no dashboard."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    chatty = logging.getLogger("distributed")
    level = chatty.level
    chatty.setLevel(logging.WARNING)  # the scheduler runs in this process and logs every step
    try:
        with warnings.catch_warnings():
            # no dashboard; the scheduler's small HTTP server moves off a port in use, and says so
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
        with cluster, Client(cluster) as client:
            yield client
    finally:
        chatty.setLevel(level)


def describe_cluster(client: Any) -> tuple[str, int]:
    """('local Dask cluster at tcp://...: 2 workers, 2 threads', 2) or the same for an existing
    scheduler, from what the scheduler reports."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
    kind = "local Dask cluster" if type(getattr(client, "cluster", None)).__name__ == \
        "LocalCluster" else "Dask scheduler"
    address = info.get("address") or getattr(client.scheduler, "address", "?")
    return (f"{kind} at {address}: {len(workers)} worker(s), {threads} thread(s)", len(workers))


def run_sweep(sweep: Sweep | str | Path, runs_root: str | Path = "runs", workers: int | None = None,
              scheduler: str | None = None, client: Any = None, on_event: Event | None = None,
              retry_failed: bool = False, report: bool = True) -> SweepRun:
    """Run a sweep: solve every variant not already done, then consolidate and report.

    `client` (a ``distributed.Client``) is used as given; otherwise one is opened on `scheduler`
    or on a LocalCluster of `workers` processes. `on_event(kind, info)` is called with
    ("start", {total, todo, done}), ("variant", record) as each variant finishes, and
    ("waiting", record) when a variant goes back to the queue for want of a feasible start.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    started = time.perf_counter()
    emit = on_event or (lambda _kind, _info: None)
    out = sweep.output_folder(runs_root)
    with sweep_lock(out):
        return _run_sweep(sweep, out, runs_root, workers, scheduler, client, emit, retry_failed,
                          report, started)


def _run_sweep(sweep: Sweep, out: Path, runs_root: str | Path, workers: int | None,
               scheduler: str | None, client: Any, emit: Event, retry_failed: bool, report: bool,
               started: float) -> SweepRun:
    vdir = out / VARIANTS_DIR
    vdir.mkdir(parents=True, exist_ok=True)
    for stale in vdir.glob(".*.tmp"):  # left by a sweep killed while writing
        stale.unlink(missing_ok=True)
    variants = build_variants(sweep)
    write_plan(sweep, variants, out)
    todo, done = pending(sweep, variants, runs_root, retry_failed)
    run = SweepRun(folder=out, variants=variants, skipped=[v.key for v in done])
    log.info("sweep %s: %d variants, %d already done, %d to solve", sweep.name, len(variants),
             len(done), len(todo))
    emit("start", {"total": len(variants), "todo": len(todo), "done": len(done)})
    try:
        if todo:
            if client is not None:
                _execute(sweep, todo, client, vdir, run, emit)
            else:
                with dask_client(workers, scheduler) as own:
                    _execute(sweep, todo, own, vdir, run, emit)
    except KeyboardInterrupt:
        run.interrupted = True
        log.warning("sweep %s interrupted: %d variants finished in this run", sweep.name,
                    len(run.solved))
        raise
    finally:
        run.seconds = time.perf_counter() - started
        run.results = consolidate(sweep, variants, out)
        if report and not run.interrupted:
            write_report(sweep, out, run.results, run)
    return run


def _base_start(sweep: Sweep, client: Any, bundle: Any, out: Path, emit: Event) -> list | None:
    """The base plan's start: from an earlier run of this sweep on the same base, or solved now on
    the cluster (one task, the base scenario's own solver settings) and kept in the folder."""
    plan = read_base_plan(out, sweep.bundle.digest)
    if plan is None:
        solver = sweep.spec.base_solver.model_dump() if sweep.spec.base_solver else None
        plan = client.submit(solve_base_plan, bundle, solver, key=f"bedplan-base-{secrets.token_hex(3)}",
                             pure=False).result()
        write_base_plan(out, plan)
    emit("base_plan", {k: v for k, v in plan.items() if k != "start"})
    log.info("sweep %s: base plan %s (%d integer values) for the variants' MIP start", sweep.name,
             plan["status"], len(plan["start"]))
    return plan["start"] or None


def _execute(sweep: Sweep, todo: list[Variant], client: Any, vdir: Path, run: SweepRun,
             emit: Event) -> None:
    from distributed import as_completed

    run.cluster, run.workers = describe_cluster(client)
    log.info("sweep %s on %s", sweep.name, run.cluster)
    emit("cluster", {"cluster": run.cluster, "workers": run.workers})
    bundle = client.scatter(sweep.bundle.payload(), broadcast=True, hash=False)
    pool = None
    if sweep.spec.warm_start:
        pool = StartPool(run.variants, _base_start(sweep, client, bundle, vdir.parent, emit))
    queue = list(todo)
    by_future = {}
    in_flight = 2 * max(run.workers, 1)
    # Variants none of whose offered plans was feasible wait here for more plans (a demand-raising
    # variant needs one with at least its demand; a cold solve at one thread often finds no plan
    # within its limit). A variant waits only if plans were added since its last try, so it is
    # never offered the same plans twice running; when nothing else is running, the one farthest
    # from every plan goes ahead without a start. A waiting variant goes back to the end of the
    # queue when a plan comes, and waits at most MAX_WAITS times (each wait costs a build and
    # the plans' LP checks).
    parked: list[Variant] = []
    tried_at: dict[str, int] = {}  # the pool's plan count when each variant last waited
    waits: dict[str, int] = {}

    def submit_next() -> None:
        v = queue.pop(0)
        starts, labels = pool.candidates(v) if pool is not None else ([], [])
        wait = bool(starts) and waits.get(v.key, 0) < MAX_WAITS and tried_at.get(v.key, -1) < pool.added
        future = client.submit(solve_variant, bundle, v.overrides, v.key, sweep.spec.baseline, starts,
                               labels, wait, sweep.spec.crossover,
                               key=f"bedplan-variant-{v.key}-{secrets.token_hex(3)}", pure=False)
        by_future[future] = v
        pending_futures.add(future)

    def fill() -> None:
        while queue and len(by_future) < in_flight:
            submit_next()
        if not by_future and parked:
            # the waiting variant farthest from every plan goes first: the one the plans found cover
            # least, so its own plan adds the most (a heuristic: the distance weighs every
            # parameter alike, not only the one that keeps them waiting)
            farthest = max(parked, key=pool.nearest_distance)
            parked.remove(farthest)
            queue.append(farthest)
            submit_next()

    # a few more tasks than workers keep every worker busy; the rest wait for the plans of the
    # variants solved before them (their nearest solved neighbours are the better MIP starts)
    pending_futures = as_completed([])
    fill()
    try:
        for future in pending_futures:
            v = by_future.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a lost worker (KilledWorker) or a transport failure
                outcome = {"record": {"variant": v.key, "status": "error",
                                      "reason": f"{type(exc).__name__}: {exc}"}, "decisions": None}
            if outcome["record"]["status"] == WAITING:
                tried_at[v.key] = pool.added
                waits[v.key] = waits.get(v.key, 0) + 1
                parked.append(v)
                log.info("variant %s (%s) waits for more plans: %s", v.key, v.label,
                         outcome["record"]["reason"])
                emit("waiting", outcome["record"])
                fill()
                continue
            record = write_variant(vdir, v, outcome)
            if pool is not None and pool.add(v, outcome.get("plan")):
                queue.extend(parked)  # a new plan: the waiting variants try it, after the rest
                parked.clear()
            fill()
            run.solved.append(v.key)
            if record["status"] not in SOLVED:
                run.failed.append(v.key)
            log.info("variant %s (%s): %s %s", v.key, v.label, record["status"], record.get("reason", ""))
            emit("variant", record)
    finally:
        for future in by_future:
            future.cancel()
