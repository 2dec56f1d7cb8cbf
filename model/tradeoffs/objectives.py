r"""The objectives a trade-off can be drawn between, and the rows that turn the planning model
into one step of the augmented epsilon-constraint method (AUGMECON2).

Each objective is read from the model's own expressions:

- ``cost``: discounted cost, GBP, :math:`\sum_t \beta_t \sum_k cost_{k,t}` plus the
  delayed-discharge penalty (``objective_terms['cost_gbp'] + objective_terms['delay_penalty_gbp']``:
  without the penalty a frontier plan could delay discharges for nothing);
- ``carbon``: tCO2e over the horizon, undiscounted, :math:`\sum_t \sum_k carbon_{k,t}`;
- ``patient_km``: :math:`\sum_t patient\_km_t` (a bed-year placed km from home; unmet need at
  ``policy.unmet_km``);
- ``worst_km``: the worst footprint's mean km over the horizon, :math:`\max_f K_f / N_f`
  (as ``fairness.csv``'s ``worst_mean_km``): not a linear expression, so it is only ever the
  *constrained* objective of a two-objective frontier, bounded by linear rows and minimised by
  a Dinkelbach iteration (:mod:`~model.tradeoffs.minimax`).

The carbon price and the value of travel do not enter: along a frontier carbon and distance
are objectives in their own right, not priced into cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from model.formulation.roles import POLICY, STRUCTURAL, Row


@dataclass(frozen=True)
class Objective:
    name: str
    label: str
    unit: str
    expr: Callable[[pyo.ConcreteModel], Any] | None  # None: not linear (worst_km)
    # its part in one year (formulation, year): the parts sum to `expr`
    yearly: Callable[[Any, int], Any] | None = None

    @property
    def linear(self) -> bool:
        return self.expr is not None


def _cost(m: pyo.ConcreteModel):
    return m.objective_terms["cost_gbp"] + m.objective_terms["delay_penalty_gbp"]


def _carbon(m: pyo.ConcreteModel):
    return sum(m.carbon[k, t] for k in m.CARBON_TERMS for t in m.T)


def _patient_km(m: pyo.ConcreteModel):
    return sum(m.patient_km[t] for t in m.T)


def _cost_in(formulation: Any, t: int):
    """Year t's discounted cost and delayed-discharge penalty (the terms of ``objective_terms``'
    ``cost_gbp`` and ``delay_penalty_gbp`` for t)."""
    m, data = formulation.model, formulation.data
    penalty = data.config.policy.delayed_discharge_penalty_gbp
    return data.discount[t] * (sum(m.cost[c, t] for c in m.COST_TERMS) + penalty * m.delayed_total[t])


OBJECTIVES: dict[str, Objective] = {
    "cost": Objective("cost", "cost (GBP, discounted)", "GBP", _cost, _cost_in),
    "carbon": Objective("carbon", "carbon (tCO2e)", "tCO2e", _carbon,
                        lambda f, t: sum(f.model.carbon[k, t] for k in f.model.CARBON_TERMS)),
    "patient_km": Objective("patient_km", "patient-km", "km", _patient_km,
                            lambda f, t: f.model.patient_km[t]),
    "worst_km": Objective("worst_km", "worst footprint's mean km", "km", None),
}
# HiGHS options for a solve with a trade-off row: its aggregator (presolve rule 12) would put
# the yearly parts of a bounded objective back into one row over nearly every column, whose
# root cut rounds take minutes on England (docs/performance.md, "Why England's bounded solves
# stall")
TRADEOFF_HIGHS_OPTIONS = {"presolve_rule_off": 1 << 12}
LINEAR = tuple(name for name, obj in OBJECTIVES.items() if obj.linear)


def values(m: pyo.ConcreteModel) -> dict[str, float]:
    """Every linear objective's value in the solution loaded in `m`."""
    return {name: float(pyo.value(OBJECTIVES[name].expr(m))) for name in LINEAR}


def from_solution(solution: Any, inputs: Any = None) -> dict[str, float]:
    """Every objective's value from an extracted ``Solution`` (e.g. the do-nothing baseline);
    ``worst_km`` (from ``fairness.csv``'s measure) when `inputs` is given."""
    terms = solution.objective_terms
    years = solution.years
    carbon = years[[c for c in years.columns if c.startswith("carbon_") and c.endswith("_t")]]
    out = {"cost": float(terms["cost_gbp"] + terms["delay_penalty_gbp"]),
           "carbon": float(carbon.to_numpy().sum()),
           "patient_km": float(years["patient_km"].sum())}
    if inputs is not None:
        from model.fairness import fairness

        table = fairness(solution, inputs, "plan")
        out["worst_km"] = float(table[table["scope"] == "england"].iloc[0]["worst_mean_km"])
    return out


def _scale(value: float) -> float:
    return max(abs(value), 1.0)


# the most columns a part row holds: HiGHS's presolve compares the columns of a row pairwise
# (dominated columns), so a row over a year's every placement (~11,000 columns on England) cost
# it 11-18 s before the root of each bounded solve; at 500 it is a fraction of a second
PART_COLUMNS = 500


def _blocks(expr: Any) -> list[Any]:
    """`expr` (linear) cut into sums of at most `PART_COLUMNS` columns each; they add up to it
    (its constant in the first)."""
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    terms = list(zip(repn.linear_coefs, repn.linear_vars, strict=True))
    cuts = range(0, max(len(terms), 1), PART_COLUMNS)
    return [(repn.constant if k == 0 else 0.0)
            + pyo.quicksum(c * v for c, v in terms[k:k + PART_COLUMNS]) for k in cuts]


def _yearly_parts(formulation: Any, scales: dict[str, float]) -> dict[str, Any]:
    """For each objective to be bounded (name -> the size of its bound), the sum of the columns
    `tradeoff_part[k, t, b]`, each held by the row `tradeoff_part_sum[k, t, b]` equal to block b
    of the objective's part in year t (at most `PART_COLUMNS` of its columns) divided by that
    size (a bound row over England's whole cost, ~5e9, otherwise misses HiGHS's absolute
    feasibility tolerance by rounding alone, and a column of coefficient 1/5e9 is below the
    size HiGHS keeps). The bound row then has a few columns a year instead of nearly every
    column of the model: HiGHS's root cut rounds on that one dense row took minutes on England,
    on these rows seconds; and no row is dense enough to slow HiGHS's presolve."""
    if not scales:
        return {}
    m = formulation.model
    blocks = {(k, t): _blocks(OBJECTIVES[k].yearly(formulation, t)) for k in scales for t in m.T}
    m.TRADEOFF_PARTS = pyo.Set(initialize=[(k, t, b) for (k, t), parts in blocks.items()
                                           for b in range(len(parts))], dimen=3, ordered=True)
    m.tradeoff_part = pyo.Var(m.TRADEOFF_PARTS)
    m.tradeoff_part_sum = pyo.Constraint(
        m.TRADEOFF_PARTS, rule=lambda _m, k, t, b: m.tradeoff_part[k, t, b]
        - blocks[k, t][b] / _scale(scales[k]) == 0)
    formulation.rows.append(Row("tradeoff", m.tradeoff_part_sum, STRUCTURAL))
    return {k: sum(m.tradeoff_part[k, t, b] for (j, t, b) in m.TRADEOFF_PARTS if j == k) for k in scales}


def add_tradeoff(formulation: Any, primary: str, upper: dict[str, float] | None = None,
                 equal: dict[str, tuple[float, float]] | None = None, eps: float = 1e-3,
                 primary_range: float = 1.0, weights: dict[str, float] | None = None) -> None:
    r"""Replace the weighted objective of `formulation` by one step of the method.

    With `upper` :math:`\{k: u_k\}` (the lexicographic stages of the payoff table) the rows
    `tradeoff_bound` :math:`f_k \le u_k`; with `equal` :math:`\{k: (e_k, r_k)\}` (a grid point)
    the slacks `tradeoff_slack` :math:`s_k \ge 0` and rows `tradeoff_epsilon`
    :math:`f_k + s_k = e_k`; the objective `tradeoff_objective`. Each bounded :math:`f_k` is the
    sum of its yearly parts (`_yearly_parts`), and these rows and their slack are in units of the
    bound's size (`tradeoff_slack_value` is the slack in the objective's own units)

    .. math::

        \min\ f_1 - \varepsilon\, r_1 \sum_{i\ge 2} 10^{-(i-2)} s_i / r_i

    (AUGMECON2's augmentation, the slacks in lexicographic order; :math:`r_1` the primary
    objective's range in the payoff table, so that the augmentation is a share
    :math:`\varepsilon` of that range rather than of 1 GBP, and stays above the solver's
    tolerances). The rows join the formulation's rows as policy rows, so an infeasible slice's
    diagnosis names them. With `weights` :math:`\{k: w_k\}` the objective is the weighted sum
    :math:`f_1 + \sum_k w_k f_k` instead (a supported point of the frontier).
    """
    m = formulation.model
    upper = upper or {}
    equal = equal or {}
    m.total_cost.deactivate()
    # every bounded objective in units of its bound's size (a scaled row, see _yearly_parts)
    size = {**{k: _scale(u) for k, u in upper.items()}, **{k: _scale(e) for k, (e, _r) in equal.items()}}
    scaled = _yearly_parts(formulation, size)
    if upper:
        m.TRADEOFF_BOUNDS = pyo.Set(initialize=list(upper), ordered=True)
        m.tradeoff_bound = pyo.Constraint(
            m.TRADEOFF_BOUNDS, rule=lambda _m, k: scaled[k] <= upper[k] / size[k])
        formulation.rows.append(Row("tradeoff", m.tradeoff_bound, POLICY))
    augmentation = 0.0
    if equal:
        m.TRADEOFF_SLACKS = pyo.Set(initialize=list(equal), ordered=True)
        m.tradeoff_slack = pyo.Var(m.TRADEOFF_SLACKS, within=pyo.NonNegativeReals)  # scaled too
        m.tradeoff_epsilon = pyo.Constraint(
            m.TRADEOFF_SLACKS, rule=lambda _m, k: scaled[k] + m.tradeoff_slack[k] == equal[k][0] / size[k])
        formulation.rows.append(Row("tradeoff", m.tradeoff_epsilon, POLICY))
        m.tradeoff_slack_value = pyo.Expression(m.TRADEOFF_SLACKS,
                                                rule=lambda _m, k: size[k] * m.tradeoff_slack[k])
        augmentation = sum(10.0 ** -i * m.tradeoff_slack_value[k] / max(equal[k][1], 1e-9)
                           for i, k in enumerate(equal))
    weighted = sum(w * OBJECTIVES[k].expr(m) for k, w in (weights or {}).items())
    m.tradeoff_objective = pyo.Objective(
        expr=OBJECTIVES[primary].expr(m) + weighted - eps * primary_range * augmentation,
        sense=pyo.minimize)
