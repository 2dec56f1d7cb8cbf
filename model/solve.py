"""Solving with HiGHS through Pyomo, with an honest account of what was proven."""

from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs as _PyomoHighs

from model.config import SolverConfig
from model.vocabulary import SOLVED, SolveStatus

log = logging.getLogger(__name__)


@dataclass
class SolveOutcome:
    """What the solver did; `status` is a ``SolveStatus``."""

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap_abs: float | None
    gap_rel: float | None
    seconds: float
    solver: str
    log_file: str | None

    @property
    def has_solution(self) -> bool:
        return self.status in SOLVED

    def as_dict(self) -> dict:
        return asdict(self)


def solver_version() -> str:
    version = SolverFactory("highs").version()
    return "HiGHS " + ".".join(str(p) for p in version) if version else f"highspy {highspy.__name__}"


class _HighsWithStart(_PyomoHighs):
    """Pyomo's HiGHS interface, handing HiGHS a (partial) MIP start just before it runs.

    Pyomo's interface has no warm start; HiGHS takes one through ``setSolution`` (sparse: the
    values given are fixed and HiGHS completes the rest with a small sub-MIP, at most
    ``mip_max_start_nodes`` nodes, and drops the start if it cannot).
    """

    mip_start = None  # ComponentMap {Pyomo VarData: value}

    def _solve(self):
        if self.mip_start:
            cols, vals = [], []
            for var, value in self.mip_start.items():
                col = self._pyomo_var_to_solver_var_map.get(id(var))
                if col is not None:
                    cols.append(col)
                    vals.append(float(value))
            self._solver_model.setSolution(len(cols), np.array(cols, dtype=np.int32),
                                           np.array(vals, dtype=np.double))
        return super()._solve()


def highs_options(options: SolverConfig) -> dict[str, object]:
    """The HiGHS options of a solve (the benchmark's HiGHS-alone runs use the same)."""
    return {**options.options, "time_limit": float(options.time_limit),
            "mip_rel_gap": float(options.mip_gap), "threads": int(options.threads)}


def solve(m: pyo.ConcreteModel, options: SolverConfig, log_file: Path | None = None,
          stream=None, mip_start=None) -> SolveOutcome:
    """Solve `m` with HiGHS; load the solution if there is one. Never raises for a bad status.

    `mip_start` (a ComponentMap {VarData: value}, usually integer variables only) is handed to HiGHS as a
    partial MIP start.
    """
    # HiGHS keeps one global thread scheduler per process and refuses a different `threads`
    # on a later solve (status "unknown"); reset it so every solve gets the threads it asks for.
    highspy.Highs.resetGlobalScheduler(True)
    opt = _HighsWithStart()
    opt.mip_start = mip_start
    tee = [stream] if stream is not None else [io.StringIO()]
    solver_options = highs_options(options)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        solver_options["log_file"] = str(log_file)
    start = time.perf_counter()
    results = opt.solve(
        m,
        tee=tee,
        time_limit=options.time_limit,
        rel_gap=options.mip_gap,
        threads=options.threads,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options=solver_options,
    )
    seconds = time.perf_counter() - start
    term = results.termination_condition
    sol = results.solution_status
    has_solution = sol in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        results.solution_loader.load_vars()
    objective = results.incumbent_objective if has_solution else None
    bound = results.objective_bound
    if bound is not None and (math.isinf(bound) or math.isnan(bound)):
        bound = None
    gap_abs = gap_rel = None
    if objective is not None and bound is not None:
        gap_abs = max(0.0, objective - bound)
        gap_rel = gap_abs / max(abs(objective), 1e-9)
    if term in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        status = SolveStatus.INFEASIBLE
    elif has_solution and term == TerminationCondition.convergenceCriteriaSatisfied:
        status = SolveStatus.OPTIMAL
    elif has_solution:
        status = SolveStatus.FEASIBLE
    elif term in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                  TerminationCondition.interrupted):
        status = SolveStatus.NO_SOLUTION
    else:
        status = SolveStatus.ERROR
    log.info("HiGHS: %s (%s) objective=%s bound=%s in %.2fs", status, term.name, objective, bound,
             seconds)
    return SolveOutcome(status=status, termination=term.name, objective=objective, bound=bound,
                        gap_abs=gap_abs, gap_rel=gap_rel, seconds=seconds, solver=solver_version(),
                        log_file=str(log_file) if log_file else None)
