"""The reduced cost of every placement arc a restricted model left out (``solver.arcs: nearest:K``).

``price_arcs`` prices the arcs left out against a solve's row duals, as
in column generation: the reduced cost of ``place[f,s,v,t]`` is its objective coefficient less
the duals of the rows it would enter, each times its coefficient there. The rows a placement
enters, with their coefficients as Pyomo writes them (``body`` of each constraint, the right-hand
side moved to the left):

- ``demand_balance[f,v,t]``: +1;
- ``ward_capacity[s,v,t]``: +1 (a site-service no arc uses has no row yet: dual 0);
- ``in_hub_share[f,v,t]``: $\\eta_v - [hub(s)=hub(f)]$ (``inside >= share * total``);
- ``stepdown_capacity[f,v,t]``: $-1$ for $s \\in reach(f,v)$ (``arrivals <= places``);
- ``footprint_mean_km_cap[f,t]``: $km_{f,s} - \\bar K$; ``footprint_in_hub_floor[f,t]``:
  $\\underline\\eta - [hub(s)=hub(f)]$;
- ``place_link[f,s,v,t]``: a row of the arc's own, absent while the arc is: dual 0, which stays
  dual feasible (its slack is non-negative at ``place`` = 0).

``tests/solve/test_arc_pricing.py`` checks these against HiGHS's own reduced costs of the full
model, column by column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from model.arcs import Arc
from model.inputs import DAYS_PER_YEAR

RowDuals = dict[str, dict[object, float]]  # constraint name -> index -> HiGHS row dual


@dataclass
class Block:
    """Every possible arc of one service: need footprints x host sites, as matrices."""

    service: str
    footprints: list[str]
    sites: list[str]
    km: np.ndarray  # |footprints| x |sites|
    allowed: np.ndarray  # within max_placement_km
    same_hub: np.ndarray
    in_reach: np.ndarray  # s in reach(f, v)
    base_cost: np.ndarray  # |sites|: cost_factor x occupied-bed cost (GBP a bed-year)
    bed_carbon: np.ndarray  # |sites|: tCO2e a bed-year (occupied bed-days x site factor)
    ward_cost: np.ndarray  # |sites|: running cost of a ward per bed at target occupancy (GBP)
    ward_carbon: np.ndarray  # |sites|: estate carbon of a ward per bed at target occupancy (t)


def arc_blocks(data) -> list[Block]:
    """The universe of arcs (what ``choose_arcs`` with ``all`` would give), one block a service."""
    policy = data.config.policy
    blocks = []
    for v in data.inpatient:
        fps = [f for f, vv in data.need_pairs if vv == v]
        sites = [s for s in data.sites if (s, v) in data.existing_wards]
        if not fps or not sites:
            continue
        km = data.km.loc[fps, sites].to_numpy(dtype=float)
        allowed = np.ones_like(km, dtype=bool) if policy.max_placement_km is None \
            else km <= policy.max_placement_km
        same = (np.array([data.hub_of_footprint[f] for f in fps], dtype=object)[:, None]
                == np.array([data.hub_of_site[s] for s in sites], dtype=object)[None, :])
        reach = same | (km <= policy.stepdown_reach_km)
        svc = data.service.loc[v]
        factor = data.site.loc[sites]
        base = factor["cost_factor"].to_numpy(float) * float(svc["cost_per_occupied_bed_gbp"])
        carbon = (DAYS_PER_YEAR * float(svc["carbon_kg_per_bed_day"]) / 1000.0
                  * factor["carbon_factor"].to_numpy(float))
        per_bed = 1.0 / data.beds_per_ward_at_occupancy(v)
        ward_cost = factor["cost_factor"].to_numpy(float) * float(svc["cost_per_ward_gbp"]) * per_bed
        ward_carbon = (factor["carbon_factor"].to_numpy(float) * float(svc["beds_per_ward"])
                       * float(svc["estate_carbon_t_per_bed_year"]) * per_bed)
        blocks.append(Block(v, fps, sites, km, allowed, same, reach, base, carbon, ward_cost, ward_carbon))
    return blocks


def reduced_costs(data, block: Block, t: int, duals: RowDuals, room: set | None = None) -> np.ndarray:
    """Reduced cost of ``place[f,s,v,t]`` for every arc of `block` in year `t` (GBP).

    With `room` (the (s, t) whose site could hold another ward), a full site's capacity dual is
    capped at the running cost and estate carbon of a ward per bed: the arc is priced as if one
    more ward could be kept or added there (a heuristic, see ``price_arcs``)."""
    cfg = data.config
    v = block.service
    visit_t_per_km = 2.0 * cfg.travel.visits_per_patient_year * cfg.travel.car_kg_per_km / 1000.0
    price = data.carbon_price[t]
    per_km = price * visit_t_per_km + cfg.value_of_travel_gbp_per_km
    rc = data.discount[t] * (block.base_cost[None, :] + price * block.bed_carbon[None, :]
                             + per_km * block.km)

    def column(name: str, keys) -> np.ndarray:
        values = duals.get(name, {})
        return np.array([values.get(key, 0.0) for key in keys], dtype=float)

    fps, sites = block.footprints, block.sites
    rc -= column("demand_balance", [(f, v, t) for f in fps])[:, None]
    capacity = column("ward_capacity", [(s, v, t) for s in sites])
    if room is not None:
        ward = data.discount[t] * (block.ward_cost + price * block.ward_carbon)
        can = np.array([(s, t) in room for s in sites], dtype=bool)
        capacity = np.where(can, np.maximum(capacity, -ward), capacity)
    rc -= capacity[None, :]
    share = float(data.service.at[v, "in_hub_share"])
    in_hub = column("in_hub_share", [(f, v, t) for f in fps])
    if share > 0 and in_hub.any():
        rc -= in_hub[:, None] * (share - block.same_hub)
    rc += column("stepdown_capacity", [(f, v, t) for f in fps])[:, None] * block.in_reach
    cap, floor = cfg.policy.max_footprint_mean_km, cfg.policy.min_footprint_in_hub_share
    if cap is not None:
        rc -= column("footprint_mean_km_cap", [(f, t) for f in fps])[:, None] * (block.km - cap)
    if floor is not None:
        rc -= column("footprint_in_hub_floor", [(f, t) for f in fps])[:, None] * (floor - block.same_hub)
    return rc


@dataclass
class Priced:
    """What one pricing pass found among the arcs left out."""

    added: list[Arc]
    negative: int  # left-out arcs with a negative reduced cost in some year
    most_negative: float  # GBP (0 if none)
    left_out: int  # arcs not in the model


def price_arcs(data, blocks: list[Block], duals: RowDuals, in_model: set[Arc],
               per_need: int, rel_tol: float = 1e-7, room: set | None = None) -> Priced:
    """The left-out arcs whose reduced cost is below $-10^{-7}$ of their objective coefficient
    (and 1e-6 GBP) in some year, at most `per_need` a need pair (the most negative first).

    With `room`, capacity duals are capped as in ``reduced_costs``: with the plan's wards fixed a
    full site's capacity dual says nothing of a ward the MIP could keep or add there for an arc
    left out, so the exact pricing alone can stop at a plan whose better neighbour needs that
    arc. This pass finds such arcs; it proves nothing."""
    added: list[Arc] = []
    negative, most, left_out = 0, 0.0, 0
    for block in blocks:
        candidates = _left_out(block, in_model)
        left_out += int(candidates.sum())
        if not candidates.any():
            continue
        worst = np.full(block.km.shape, np.inf)
        for t in data.years:
            rc = reduced_costs(data, block, t, duals, room)
            scale = data.discount[t] * (block.base_cost[None, :] + block.km)
            tol = np.maximum(rel_tol * scale, 1e-6)
            worst = np.minimum(worst, np.where(rc < -tol, rc, np.inf))
        worst[~candidates] = np.inf
        hits = np.isfinite(worst)
        negative += int(hits.sum())
        if not hits.any():
            continue
        most = min(most, float(worst[hits].min()))
        for i in np.flatnonzero(hits.any(axis=1)):
            cols = np.flatnonzero(hits[i])
            cols = cols[np.argsort(worst[i, cols], kind="stable")[:per_need]]
            added += [(block.footprints[i], block.sites[j], block.service) for j in cols]
    return Priced(added, negative, most, left_out)


def _left_out(block: Block, in_model: set[Arc]) -> np.ndarray:
    """The block's possible arcs that the model does not have."""
    present = np.array([[(f, s, block.service) in in_model for s in block.sites]
                        for f in block.footprints], dtype=bool)
    return block.allowed & ~present


def lagrangian_bound(data, blocks: list[Block], duals: RowDuals, in_model: set[Arc],
                     value: float, wards: Mapping[tuple[str, str, int], float] | None = None) -> float:
    r"""A lower bound on the full model (every arc) from one restricted LP relaxation's optimum.

    `value` is the restricted LP's optimum and `duals` its row duals. Relax every row with these
    duals (Lagrange): the restricted LP's own columns contribute `value` (the duals are optimal
    for them). The left-out columns ``place[f,s,v,t]`` into one site, service and year place
    together at most $u_{s,v} = b_v o_v \overline{W}_s$ (``max_wards`` times beds per ward at
    target occupancy) in any feasible plan (``ward_capacity``; the site's other placements are
    not negative). Kept as a constraint of the relaxed problem, it makes them contribute
    $\min\{\sum_f \bar c_f x_f : x \ge 0,\ \sum_f x_f \le u\} = u \min(0, \min_f \bar c_f)$: the
    site's capacity spent on its most negative arc alone. So

    .. math::

        L = z^{LP}_{ARCS} + \sum_{s,v,t} u_{s,v} \min\Big(0, \min_{f:\,(f,s,v) \notin ARCS}
            \bar c_{f,s,v,t}\Big) \;\le\; z^{LP}_{all} \;\le\; z^{MIP}_{all}.

    (Each left-out column bounded by $u$ on its own, as until 2026-12-07, counts a site's
    capacity once for every footprint that prices in there: valid, but weaker.)

    It holds after any round of pricing, converged or not; when no left-out arc has a negative
    reduced cost it is $z^{LP}_{ARCS}$ itself (Farley's bound in column generation).

    With `wards` (a plan's ward count per site, service and year) `value` and `duals` are instead
    those of the LP with the plan's integer decisions fixed, and the bound is on that LP over
    every arc: there ``ward_capacity`` caps each placement at $b_v o_v\,wards_{s,v,t}$, the
    plan's own beds at the site (0 where it keeps no ward of the service), so

    .. math::

        L_{plan} = z^{fixed}_{ARCS} + \sum_{s,v,t} b_v o_v\, wards_{s,v,t}
            \min\Big(0, \min_{f:\,(f,s,v) \notin ARCS} \bar c_{f,s,v,t}\Big) \;\le\; z^{fixed}_{all}:

    how much the plan's placements could still gain from the arcs left out."""
    max_wards = data.site["max_wards"]
    total = value
    for block in blocks:
        candidates = _left_out(block, in_model)
        if not candidates.any():
            continue
        per_ward = data.beds_per_ward_at_occupancy(block.service)
        most = per_ward * max_wards.loc[block.sites].to_numpy(float) if wards is None else None
        for t in data.years:
            beds = most if wards is None else \
                per_ward * np.array([wards.get((s, block.service, t), 0.0) for s in block.sites])
            gains = np.where(candidates, np.minimum(reduced_costs(data, block, t, duals), 0.0), 0.0)
            total += float((gains.min(axis=0) * beds).sum())  # each site's beds on its best arc
    return total
