"""The whole run: load, build, solve, evaluate the do-nothing baseline, write the run folder."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from model.arc_pricing import ArcReport, hubs_of, solve_priced
from model.data import ScenarioData, load_scenario, revalidate
from model.diagnosis import elastic_diagnosis, render_diagnosis, summary_line
from model.earlier_plan import (
    PLAN_START,
    plan_record,
    read_earlier_plan,
    resolve_start,
    start_for,
    step_starts,
    steps_account,
    write_plan,
)
from model.errors import InfeasibleError, NoSolutionError, OutputError, Problem, ScenarioError
from model.formulation import formulate, integer_start, model_size, presolve_checks
from model.gc_pause import older_objects_frozen
from model.gis import write_gis_outputs
from model.inputs import ModelInputs, build_inputs
from model.outputs import (
    MANIFEST,
    RunFolder,
    check_writable,
    new_run_id,
    run_folder,
    write_csv,
    write_json,
)
from model.pricing import price_decisions
from model.results import Solution, decisions, extract, kpis
from model.run_files import descriptions as run_file_descriptions
from model.run_files import expected_files
from model.run_files import tables as run_tables
from model.saving import KnownPlan, baseline_and_steps, breakdown
from model.solve import SolveOutcome, solve, solver_version
from model.summary import render_summary
from model.vocabulary import SolveStatus
from model.workbook import write_run_workbook

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one `bedplan solve` produced."""

    scenario: ScenarioData
    inputs: ModelInputs
    outcome: SolveOutcome
    manifest: dict[str, Any]
    run_dir: Path | None
    solution: Solution | None = None
    baseline: Solution | None = None
    baseline_outcome: SolveOutcome | None = None
    decisions: pd.DataFrame | None = None
    kpis: pd.DataFrame | None = None
    size: dict[str, int] = field(default_factory=dict)
    diagnosis: str | None = None
    diagnosis_summary: str | None = None
    saving: pd.DataFrame | None = None
    prices: pd.DataFrame | None = None  # the price of each fixed decision


def versions() -> dict[str, str]:
    return dict(_installed_versions())


@functools.cache  # package metadata is read from disk (8 ms a run); it does not change during a run
def _installed_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bedplan", "pyomo", "highspy", "pandas", "numpy", "networkx", "geopandas", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@older_objects_frozen()  # full collections re-examine every imported object otherwise
def solve_scenario(
    scenario: str | Path | ScenarioData,
    runs_root: str | Path | None = Path("runs"),
    overrides: dict[str, Any] | None = None,
    baseline: bool = True,
    levers: bool = True,
    price: bool = True,
    price_only: list[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    solver_stream: Any = None,
    prepare: Callable[[Any], Any] | None = None,
    start_from: str | Path | None = None,
) -> RunResult:
    """Solve a scenario and (unless `runs_root` is None) write its run folder.

    Parameters
    ----------
    scenario
        A scenario folder, or a scenario already loaded with ``model.data.load_scenario`` whose
        tables (``scenario.tables[name]``, pandas DataFrames) may have been edited in memory:
        they are validated again, as a folder's would be.
    runs_root
        Where the run folder ``<runs_root>/<scenario name>/<run id>/`` is written; None writes
        nothing (the result is returned only).
    overrides
        Changes to ``scenario.yaml`` as a nested mapping, e.g.
        ``{"solver": {"time_limit": 120}, "policy": {"allow_new_sites": False}}``; a
        ``"changes"`` list (scenario changes to the tables, as in ``scenario.yaml``) is applied
        after the scenario's own.
    baseline
        Also solve the do-nothing baseline (the saving against doing nothing).
    levers
        With `baseline`, also the saving breakdown by lever (one re-solve per lever).
    price
        Price each fixed decision (``fixed_decisions.csv``): one re-solve per lock, released.
    price_only
        Price only these decisions (by name); None: all of them.
    workers, scheduler
        Run the pricing re-solves on a local Dask cluster of `workers` processes, or on the
        Dask scheduler at address `scheduler`; one worker re-solves in this process.
    progress
        Called with a short message at each stage.
    solver_stream
        A file-like object that receives the solver's log as it runs.
    prepare
        ``prepare(formulation)``, if given, changes the model before it is solved (another
        objective, extra rows: the trade-off commands) and returns a MIP start for it (a
        ComponentMap) or None.
    start_from
        An earlier run's plan to start from (``model.earlier_plan``): a run folder, its
        ``plan_start.json``, or ``"last"`` (the newest complete run of this scenario under
        `runs_root`). Not with `prepare` or restricted arcs.

    Raises ScenarioError (invalid input, nothing written), InfeasibleError (the run folder holds
    the manifest, diagnosis.md and the solver log) or NoSolutionError (manifest and solver log).
    """
    if start_from is not None and prepare is not None:
        raise ValueError("start_from and prepare each give the solve its start: give one")
    say = progress or (lambda _msg: None)
    say("loading scenario")
    if isinstance(scenario, ScenarioData):
        scenario = revalidate(scenario, overrides)
    else:
        scenario = load_scenario(scenario, overrides)
    for message in scenario.config.solver.ignored():
        log.warning(message)
    say("computing distances")
    inputs = build_inputs(scenario)
    earlier = (read_earlier_plan(resolve_start(start_from, runs_root, scenario.config.name))
               if start_from is not None else None)
    if runs_root is not None:
        check_writable(Path(runs_root) / scenario.config.name)
    say("checking capacity against the rules")
    findings = presolve_checks(inputs)
    m, formulation, size, build_seconds, start_values, earlier_steps = None, None, {}, 0.0, None, None
    restricted, arc_report, start_account = scenario.config.solver.arcs != "all", None, None
    if restricted and (prepare is not None or earlier is not None):
        raise ScenarioError([Problem(str(scenario.input_files.get("scenario.yaml", "scenario.yaml")),
                                     None, "solver.arcs", scenario.config.solver.arcs,
                                     "restricted arcs (nearest:K) are for bedplan solve without "
                                     "--start-from; use `all` for a start, the frontier and alternatives")])
    if not findings and not restricted:
        say("building model")
        start = time.perf_counter()
        formulation = formulate(inputs)
        m = formulation.model
        build_seconds = time.perf_counter() - start
        if prepare is not None:
            start_values = prepare(formulation)
        if earlier is not None:
            start_values, start_account = start_for(m, earlier)
            earlier_steps = step_starts(m, earlier)
        size = model_size(m)
    run_id = new_run_id()
    with _optional_run_folder(runs_root, scenario.config.name, run_id) as folder:
        out = folder.path
        if findings:
            outcome = SolveOutcome(SolveStatus.INFEASIBLE, "presolve_check", None, None, None, None, 0.0,
                                   solver_version(), None)
            result = RunResult(scenario, inputs, outcome,
                               _manifest(scenario, inputs, size, build_seconds, run_id, outcome), None)
            _write_diagnosis(result, out, [], findings)
        else:
            say(f"solving ({size['variables']:,} variables, {size['integer_variables']:,} integer, "
                f"{size['constraints']:,} constraints)" if size
                else f"solving on {scenario.config.solver.arcs} arcs")
            log_file = out / "solver.log" if out is not None else None
            if restricted:  # built and solved round by round, pricing the arcs left out
                formulation, outcome, arc_report = solve_priced(inputs, scenario.config.solver, log_file,
                                                                solver_stream, say)
                m, size = formulation.model, model_size(formulation.model)
                build_seconds = arc_report.build_seconds
            else:
                outcome = solve(m, scenario.config.solver, log_file=log_file, stream=solver_stream,
                                mip_start=start_values, hubs=hubs_of(inputs), progress=say)
                if start_account is not None:
                    outcome.earlier_plan = {**start_account, "feasible": outcome.start_choice == 0,
                                            "checked": not outcome.starts_unchecked,
                                            "crossed": (outcome.first_plan or {}).get("improved")}
            if outcome.status == SolveStatus.INFEASIBLE:
                result = RunResult(scenario, inputs, outcome,
                                   _manifest(scenario, inputs, size, build_seconds, run_id, outcome),
                                   None, size=size)
                say("infeasible: diagnosing by elastic relaxation")
                _write_diagnosis(result, out, elastic_diagnosis(formulation, scenario.config.solver), [])
            else:
                pricing = PricingRequest(price, price_only, workers, scheduler)
                result = _finish(scenario, formulation.data, formulation, size, build_seconds, run_id,
                                 outcome, (baseline, baseline and levers), say, out, solver_stream, pricing,
                                 arc_report, earlier_steps)
    result.run_dir = folder.final
    _raise_for_status(result)
    return result


@contextmanager
def _optional_run_folder(runs_root: str | Path | None, scenario: str, run_id: str) -> Iterator[RunFolder]:
    if runs_root is None:
        yield RunFolder(None)
        return
    with run_folder(Path(runs_root), scenario, run_id) as folder:
        yield folder


def _write_diagnosis(result: RunResult, out: Path | None, violations: list, findings: list) -> None:
    result.diagnosis = render_diagnosis(violations, findings)
    result.diagnosis_summary = summary_line(violations, findings)
    result.manifest["diagnosis"] = result.diagnosis_summary
    if out is not None:
        (out / "diagnosis.md").write_text(result.diagnosis, encoding="utf-8")
        write_json(result.manifest, out / MANIFEST)


def _raise_for_status(result: RunResult) -> None:
    status = result.outcome.status
    where = f"\nrun folder: {result.run_dir}" if result.run_dir else ""
    if status == SolveStatus.INFEASIBLE:
        raise InfeasibleError(f"no configuration meets every rule. {result.diagnosis_summary}"
                              + (f"{where} (see diagnosis.md)" if where else ""))
    if status in (SolveStatus.NO_SOLUTION, SolveStatus.ERROR):
        starts = f"; {result.outcome.unchecked_note}" if result.outcome.unchecked_note else ""
        raise NoSolutionError(
            f"no feasible solution within the limits (time limit "
            f"{result.scenario.config.solver.time_limit:g}s; termination: {result.outcome.termination}"
            f"{starts}). Raise --time-limit or relax the scenario.{where}")


@dataclass(frozen=True)
class PricingRequest:
    """Which fixed decisions to price, and where the re-solves run."""

    enabled: bool = True
    only: list[str] | None = None
    workers: int = 1
    scheduler: str | None = None


def _finish(scenario, inputs, formulation, size, build_seconds, run_id, outcome, baseline, say, out,
            stream, pricing: PricingRequest = PricingRequest(), arc_report: ArcReport | None = None,
            earlier_steps: dict | None = None):
    m = formulation.model
    with_baseline, with_levers = baseline
    manifest = _manifest(scenario, inputs, size, build_seconds, run_id, outcome)
    if arc_report is not None:
        manifest["arc_pricing"] = {**arc_report.as_dict(), "statements": arc_report.statements()}
        if not arc_report.plan_priced or (arc_report.gap_rel_all_arcs or 0.0) > (outcome.gap_rel or 0.0):
            manifest["warnings"].append(" ".join(arc_report.statements()[1:3]))
    result = RunResult(scenario=scenario, inputs=inputs, outcome=outcome, manifest=manifest,
                       run_dir=None, size=size)
    if not outcome.has_solution:
        if out is not None:
            write_json(manifest, out / MANIFEST)
        return result
    say("extracting results")
    result.solution = extract(m, inputs)
    # taken before the pricing's and the baseline's re-solves overwrite the model's values: the
    # recommended plan, a start for the breakdown's last step and (plan_start.json) for a later solve
    integers = integer_start(m) if out is not None or (with_baseline and with_levers) else None
    recommended = KnownPlan(integers, outcome.objective) if with_baseline and with_levers else None
    terms = result.solution.objective_terms
    manifest["objective_terms"] = terms
    manifest["unavoidable_gbp"] = unavoidable_cost(inputs)
    controllable = max(sum(terms.values()) - manifest["unavoidable_gbp"], 1e-9)
    manifest["gap_rel_controllable"] = (outcome.gap_abs or 0.0) / controllable
    kpi_frames = [kpis(result.solution, inputs, "optimised")]
    steps = []
    if pricing.enabled and inputs.locks:
        result.prices = price_decisions(formulation, outcome, result.solution, scenario.config.solver,
                                        pricing.only, pricing.workers, pricing.scheduler, say)
        prices = result.prices.astype(object)
        manifest["prices"] = prices.where(prices.notna(), None).to_dict(orient="records")
    if with_baseline:
        result.baseline, base_outcome, steps = baseline_and_steps(
            formulation, scenario.config.solver, levers=with_levers, stream=stream, say=say,
            recommended=recommended, earlier=earlier_steps)
        result.baseline_outcome = base_outcome
        manifest["baseline"] = {"status": base_outcome.status, "seconds": base_outcome.seconds,
                                "gap_abs_gbp": base_outcome.gap_abs,
                                "keeps": BASELINE_KEEPS, "drops": BASELINE_DROPS}
        if result.baseline is not None:
            manifest["baseline"]["objective_terms"] = result.baseline.objective_terms
            kpi_frames.append(kpis(result.baseline, inputs, "baseline"))
        if with_levers and steps:
            result.saving = breakdown(steps, outcome, terms, with_locks=bool(inputs.locks))
            manifest["saving_steps"] = [{"lever": s.lever, "status": s.outcome.status,
                                         "seconds": s.outcome.seconds,
                                         "gap_abs_gbp": s.outcome.gap_abs,
                                         "from_earlier_run": s.from_earlier} for s in steps]
            if outcome.earlier_plan is not None:  # the summary and the command line say it too
                outcome.earlier_plan = {**outcome.earlier_plan, "steps": steps_account(steps)}
                manifest["start_from"] = outcome.earlier_plan
    result.decisions = decisions(result.solution, inputs)
    result.kpis = pd.concat(kpi_frames, ignore_index=True)
    if out is not None:
        say("writing outputs")
        for name, frame in run_tables(result):
            write_csv(frame, out / name)
        summary = render_summary(inputs, outcome, result.decisions, result.kpis, terms,
                                 result.baseline.objective_terms if result.baseline else None,
                                 manifest, saving=result.saving, solution=result.solution,
                                 prices=result.prices)
        (out / "summary.md").write_text(summary, encoding="utf-8")
        write_gis_outputs(out, inputs, result)
        write_run_workbook(out, manifest, run_file_descriptions())
        step_plans = {step.lever: step.plan for step in steps}
        write_plan(plan_record(integers, scenario.config.name, run_id, outcome.objective, outcome.gap_rel,
                               step_plans), out / PLAN_START)
        missing = [name for name in expected_files(result) if not (out / name).exists()]
        if missing:  # published only when complete
            raise OutputError(f"not written: {', '.join(missing)} ("
                              + "; ".join(manifest.get("warnings", [])) + ")")
        manifest["files"] = sorted(p.name for p in out.iterdir()) + [MANIFEST]
        write_json(manifest, out / MANIFEST)  # last: its presence marks the run complete
    return result


BASELINE_KEEPS = ("today's units and wards (no ward built, converted or removed; no unit opened "
                  "or closed)", "no community place beyond base need",
                  "placements, unmet need and delayed discharges optimised",
                  "ward capacity, site minimum and maximum, pathway step-downs")
BASELINE_DROPS = ("in-hub share (and its hub capacity rows)", "open-site counts",
                  "limits on ward changes and displaced patients per hub and year")


def unavoidable_cost(data: ModelInputs) -> float:
    """Discounted cost no decision can avoid: every bed of need that community places cannot
    replace, at the cheapest occupied-bed cost of its service at any site that may host it.

    ``gap_rel_controllable`` divides the proven gap by the objective less this, so that the
    beds substitution can avoid count as controllable.
    """
    # columns read once as dicts: a pandas lookup per site-service took 23 ms on OR-Library pmed1
    factor = data.site["cost_factor"].astype(float).to_dict()
    bed_cost = data.service["cost_per_occupied_bed_gbp"].astype(float).to_dict()
    unmet = data.unmet_costs()
    cheapest: dict[str, float] = {}
    for s, v in data.site_services:
        cost = factor[s] * bed_cost[v]
        cheapest[v] = min(cheapest.get(v, cost), cost, unmet[v])
    avoidable = {}
    for f, c, v in data.substitutions:
        avoidable[(f, v)] = avoidable.get((f, v), 0.0) + float(
            data.service.at[c, "max_substitution_share"])
    total = 0.0
    for f, v in data.need_pairs:
        if v not in cheapest:
            continue
        keep = max(0.0, 1.0 - avoidable.get((f, v), 0.0))
        total += sum(data.discount[t] * cheapest[v] * keep * data.d(f, v, t) for t in data.years)
    return total


def _relative(path: Path) -> str:
    """A path relative to the working directory when it is below it (manifests travel)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _manifest(scenario: ScenarioData, inputs: ModelInputs, size: dict[str, int], build_seconds: float,
              run_id: str, outcome: SolveOutcome) -> dict[str, Any]:
    cfg = scenario.config
    return {
        "run_id": run_id,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "scenario": cfg.name,
        "scenario_folder": str(scenario.folder),
        "extends": [_relative(p) for p in scenario.layers[:-1]],
        "input_files": {name: _relative(path) for name, path in sorted(scenario.input_files.items())},
        "input_sha256": scenario.file_hashes(),
        "config": cfg.model_dump(mode="json"),
        "changes_applied": [{**c, "file": _relative(Path(c["file"]))} for c in scenario.changes],
        "versions": versions(),
        "solver": outcome.solver,
        "status": outcome.status,
        "termination": outcome.termination,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap_abs_gbp": outcome.gap_abs,
        "gap_rel": outcome.gap_rel,
        "build_seconds": build_seconds,
        "solve_seconds": outcome.seconds,
        "start_used": outcome.start_used,
        "starts_unchecked": outcome.starts_unchecked,
        "first_plan": outcome.first_plan,
        "start_from": outcome.earlier_plan,
        "model_size": size,
        "years": inputs.years,
        "warnings": ([f"solver stopped ({outcome.termination}) before proving optimality: the "
                      f"solution is within {outcome.gap_rel or 0:.3%} of the best bound"]
                     if outcome.status == SolveStatus.FEASIBLE else []) + cfg.solver.ignored(),
    }
