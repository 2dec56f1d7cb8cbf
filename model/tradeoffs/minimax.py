r"""The worst footprint's mean distance from home as a trade-off objective (``worst_km``).

For footprint f, pooled over every year of the plan as ``fairness.csv`` pools it (a bed-year a
patient, unmet need at ``policy.unmet_km``):

.. math::

    K_f = \sum_t \Big(\sum_{(f,s,v)\in ARCS} km_{f,s}\, place_{f,s,v,t}
          + km^{unmet} \sum_v unmet_{f,v,t}\Big), \qquad
    N_f = \sum_t \sum_v \Big(\sum_s place_{f,s,v,t} + unmet_{f,v,t}\Big)

and :math:`W = \max_f K_f / N_f`. :math:`N_f` is a variable (community places substitute
inpatient need, delayed discharges add to it), so :math:`W` is a ratio of variables:

- *bounded* (:math:`W \le e`) it is linear and exact: ``tradeoff_worst_km[f]``
  :math:`K_f \le e\, N_f` for every f (the fairness cap's rows, pooled over the years);
- *minimised*, it is a generalised fractional program, solved exactly by the Dinkelbach-type
  iteration of Crouzeix, Ferland and Schaible (1985): with
  :math:`F(\lambda) = \min_x \max_f (K_f - \lambda N_f)/c_f`, a linear minimax MIP
  (``tradeoff_z``, rows ``tradeoff_minimax[f]`` :math:`z \ge (K_f - \lambda N_f)/c_f`,
  objective ``tradeoff_ratio``
  :math:`\min z`), :math:`\lambda_{k+1} = W(x_k)` until :math:`\lambda` stops falling.
  Each row is divided by :math:`c_f`, f's patients in the previous iteration's plan (its need
  before any plan; Crouzeix, Ferland and Schaible's normalisation: on the demo 5 steps where
  dividing by the need took 11). :math:`F(\lambda) \ge 0` exactly when
  :math:`\lambda \le W^*`, and above :math:`W^*`, :math:`F(\lambda) \le (W^* - \lambda)\rho`
  (:math:`\rho = \min_f \underline N_f / c_f`, :math:`\underline N_f` f's need less every
  substitution ceiling, delays adding none), so a solve's proven bound :math:`\underline F`
  gives :math:`W^* \ge \lambda + \min(0, \underline F)/\rho`: the result carries the best
  such bound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

from model.errors import InfeasibleError, NoSolutionError
from model.formulation.levers import integer_start
from model.formulation.roles import POLICY, Row
from model.solve import solve

log = logging.getLogger(__name__)
#: the iteration stops when lambda falls by less than this share of itself
TOLERANCE = 1e-7
MAX_ITERATIONS = 25


@dataclass
class Minimax:
    """The minimum of W found, its proven lower bound, and each iteration's lambda and solve."""

    value: float
    bound: float
    iterations: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "bound": self.bound, "gap_abs": self.value - self.bound,
                "iterations": self.iterations}


def footprint_km(formulation: Any) -> dict[str, tuple[Any, Any]]:
    """{f: (K_f, N_f)} as Pyomo expressions, every footprint with inpatient need."""
    m, data, terms = formulation.model, formulation.data, formulation.terms
    unmet_km = float(data.config.policy.unmet_km)
    services_of: dict[str, list[str]] = {}
    for f, v in data.need_pairs:
        services_of.setdefault(f, []).append(v)
    arc_km = data.arc_km()  # one indexing step, not a km.at per arc
    out = {}
    for f, services in services_of.items():
        arcs = [(s, v) for v in services for s in terms.arcs_by_need.get((f, v), [])]
        km = sum(arc_km[f, s] * m.place[f, s, v, t] for s, v in arcs for t in m.T) \
            + unmet_km * sum(m.unmet[f, v, t] for v in services for t in m.T)
        patients = sum(m.place[f, s, v, t] for s, v in arcs for t in m.T) \
            + sum(m.unmet[f, v, t] for v in services for t in m.T)
        out[f] = (km, patients)
    return out


def least_patients(formulation: Any) -> dict[str, float]:
    """Per footprint, the patients it has however much community care substitutes: its need
    less every substitution ceiling (rate x substitute <= share x need); delays only add."""
    data, terms = formulation.data, formulation.terms
    share = {c: float(data.service.at[c, "max_substitution_share"]) for c in data.community}
    least: dict[str, float] = {}
    for f, v in data.need_pairs:
        kept = max(0.0, 1.0 - sum(share[c] for c, _rate in terms.substituted.get((f, v), [])))
        least[f] = least.get(f, 0.0) + kept * sum(data.d(f, v, t) for t in data.years)
    return least


def least_share(formulation: Any, scale: dict[str, float] | None = None) -> float:
    """rho = min_f least patients / the row's scale (by default f's need)."""
    least = least_patients(formulation)
    return min((n / (scale[f] if scale else _patients_scale(formulation, f)) for f, n in least.items()),
               default=0.0)


def worst_km(terms: dict[str, tuple[Any, Any]]) -> float:
    """W of the solution loaded in the model (footprints with no patients left out)."""
    worst = 0.0
    for km, patients in terms.values():
        n = float(pyo.value(patients))
        if n > 1e-9:
            worst = max(worst, float(pyo.value(km)) / n)
    return worst


def _patients_scale(formulation: Any, f: str) -> float:
    # rows are divided by the size of f's need, as the trade-off rows are by their right-hand
    # side's (HiGHS's absolute tolerances)
    data = formulation.data
    return max(sum(data.d(f, v, t) for (g, v) in data.need_pairs if g == f for t in data.years), 1.0)


def bound_worst_km(formulation: Any, terms: dict[str, tuple[Any, Any]], e: float) -> None:
    """Rows ``tradeoff_worst_km[f]``: K_f <= e N_f (replacing any there)."""
    m = formulation.model
    if hasattr(m, "tradeoff_worst_km"):
        old = m.tradeoff_worst_km
        formulation.rows[:] = [r for r in formulation.rows if r.component is not old]
        m.del_component(old)
    else:
        m.WORST_KM_FOOTPRINTS = pyo.Set(initialize=list(terms), ordered=True)
    scale = {f: _patients_scale(formulation, f) for f in terms}
    m.tradeoff_worst_km = pyo.Constraint(
        m.WORST_KM_FOOTPRINTS,
        rule=lambda _m, f: (terms[f][0] - e * terms[f][1]) / scale[f] <= 0)
    formulation.rows.append(Row("tradeoff", m.tradeoff_worst_km, POLICY))


def _row_scales(formulation: Any, terms: dict[str, tuple[Any, Any]], loaded: bool) -> dict[str, float]:
    """Each footprint's row divided by its patients in the plan loaded (Crouzeix, Ferland and
    Schaible's normalisation: under their assumptions it converges superlinearly where the plain one is
    linear, when several footprints share the worst mean, as at a minimum), or by its need
    before any plan."""
    scales = {}
    for f, (_km, patients) in terms.items():
        n = float(pyo.value(patients, exception=False) or 0.0) if loaded else 0.0
        scales[f] = n if n > 1e-6 else _patients_scale(formulation, f)
    return scales


def minimise_worst_km(formulation: Any, terms: dict[str, tuple[Any, Any]],
                      first: float | None = None, start: Any = None) -> Minimax:
    """Minimise W over the model as it stands (its other trade-off rows kept) by the Dinkelbach
    iteration, from lambda = `first` (W of the plan loaded, feasible here, `start` its MIP start)
    or 0. The model is left with the last iteration's plan loaded and its own objective back
    (the minimax rows removed)."""
    m = formulation.model
    options = formulation.data.config.solver
    active = list(m.component_objects(pyo.Objective, active=True))
    for objective in active:
        objective.deactivate()
    least = least_patients(formulation)
    m.tradeoff_z = pyo.Var(within=pyo.Reals)
    m.tradeoff_ratio = pyo.Objective(expr=m.tradeoff_z, sense=pyo.minimize)
    m.FOOTPRINTS_MINIMAX = pyo.Set(initialize=list(terms), ordered=True)
    lam = 0.0 if first is None else float(first)
    best_bound = 0.0
    iterations: list[dict[str, Any]] = []
    try:
        for k in range(MAX_ITERATIONS):
            scale = _row_scales(formulation, terms, loaded=k > 0 or first is not None)
            rho = min((least[f] / scale[f] for f in terms), default=0.0)
            if hasattr(m, "tradeoff_minimax"):
                m.del_component(m.tradeoff_minimax)
            m.tradeoff_minimax = pyo.Constraint(
                m.FOOTPRINTS_MINIMAX, rule=lambda _m, f, lam=lam, scale=scale: m.tradeoff_z
                >= (terms[f][0] - lam * terms[f][1]) / scale[f])
            outcome = solve(m, options, mip_start=start)
            if outcome.status == "infeasible":
                raise InfeasibleError("no plan meets every rule (minimising the worst footprint's "
                                      "mean km)")
            if not outcome.has_solution:
                raise NoSolutionError(f"no solution minimising the worst footprint's mean km within "
                                      f"the limits ({outcome.termination}); raise --time-limit")
            value = worst_km(terms)
            proven = outcome.bound if outcome.bound is not None else float("-inf")
            # F(lam) >= 0 iff lam <= W*; above W* it is at most (W* - lam) rho; every
            # iteration's bound holds, the best is kept
            bound = lam if proven >= 0 else (lam + proven / rho if rho > 0 else 0.0)
            best_bound = max(best_bound, bound)
            iterations.append({"lambda": lam, "worst_km": value, "status": outcome.status,
                               "objective": outcome.objective, "bound": outcome.bound,
                               "gap_abs": outcome.gap_abs, "seconds": outcome.seconds})
            log.info("Dinkelbach %d: lambda %.6f -> worst km %.6f (bound %.6f)", k, lam, value, bound)
            start = integer_start(m)
            known = k > 0 or first is not None  # lam is W of a plan feasible here
            if value <= 1e-9 or (known and lam - value <= TOLERANCE * max(lam, 1.0)):
                return Minimax(value=value, bound=min(best_bound, value), iterations=iterations)
            lam = value
        raise NoSolutionError(f"the worst footprint's mean km did not converge in {MAX_ITERATIONS} "
                              f"iterations (last {lam:.6f})")
    finally:
        for name in ("tradeoff_ratio", "tradeoff_z", "tradeoff_minimax", "FOOTPRINTS_MINIMAX"):
            if hasattr(m, name):
                m.del_component(getattr(m, name))
        for objective in active:
            objective.activate()
