r"""Fairness between footprints: how far from home each footprint's patients are placed, and
how unequal that is across footprints.

Read from a solved model's placements and unmet need (``Solution.allocation``,
``Solution.unmet``: the values of ``place`` and ``unmet``), pooled over every year of the plan,
one bed-year a "patient". Unmet need counts at ``policy.unmet_km`` (as in ``patient_km``).

Per footprint f with patients (placed or unmet bed-years :math:`n_f > 0`):

- ``mean_km``: :math:`\sum km \cdot beds / n_f` (as ``kpis.csv``);
- ``p90_km``: the 90th percentile of km over its patients, the smallest km with at least 90% of
  its bed-years at or below it (the lower weighted quantile: no interpolation, so it is always a
  distance some patient is placed at);
- ``max_km``; ``in_hub_share`` (beds placed in its own hub / :math:`n_f`);
- ``share_over_far_km``: bed-years placed farther than ``policy.far_km`` / :math:`n_f`.

For England: the same over every patient, the worst footprint (highest mean km), and the
population-weighted Gini index of footprints' mean km,

.. math::

    G = \frac{\sum_i \sum_j w_i w_j |x_i - x_j|}{2 W^2 \bar{x}}, \qquad
    W = \sum_i w_i, \quad \bar{x} = \sum_i w_i x_i / W

with :math:`x_i` footprint i's mean km and :math:`w_i` its resident population
(``footprints.population``), or its patients :math:`n_i` when any footprint has no population
(``weight_basis`` says which). G is 0 when every footprint's mean km is the same and tends to 1
when one small footprint carries all the distance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model.inputs import ModelInputs

P90 = 0.9
COLUMNS = ["case", "scope", "id", "hub", "weight", "patients", "mean_km", "p90_km", "max_km",
           "in_hub_share", "share_over_far_km", "far_km", "worst", "worst_footprint",
           "worst_mean_km", "gini_mean_km", "weight_basis"]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least a share `q` of the weight at or below it."""
    if len(values) == 0 or weights.sum() <= 0:
        return 0.0
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q - 1e-12)])


def gini(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted Gini index of `x` (formula in the module docstring); 0 when the mean is 0."""
    total = w.sum()
    if total <= 0 or len(x) == 0:
        return 0.0
    mean = float((w * x).sum() / total)
    if mean <= 0:
        return 0.0
    pairs = (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum()
    return float(pairs / (2 * total**2 * mean))


def _patients(solution: Any, data: ModelInputs) -> pd.DataFrame:
    """One row per footprint, km and bed-years: placements, and unmet need at unmet_km."""
    alloc = solution.allocation
    hub_of_site = data.hub_of_site
    placed = pd.DataFrame({
        "footprint": alloc["footprint"], "km": alloc["km"].astype(float),
        "beds": alloc["beds"].astype(float),
        "in_hub": [hub_of_site[s] == data.hub_of_footprint[f]
                   for f, s in zip(alloc["footprint"], alloc["site"], strict=True)]})
    unmet = solution.unmet
    unplaced = pd.DataFrame({"footprint": unmet["footprint"],
                             "km": float(data.config.policy.unmet_km),
                             "beds": unmet["unmet_beds"].astype(float), "in_hub": False})
    rows = pd.concat([placed, unplaced], ignore_index=True)
    return rows[rows["beds"] > 1e-9]


def _measures(rows: pd.DataFrame, far_km: float) -> dict[str, float]:
    beds = rows["beds"].to_numpy()
    km = rows["km"].to_numpy()
    n = float(beds.sum())
    return {"patients": n,
            "mean_km": float((beds * km).sum() / n),
            "p90_km": weighted_quantile(km, beds, P90),
            "max_km": float(km.max()),
            "in_hub_share": float(beds[rows["in_hub"].to_numpy(dtype=bool)].sum() / n),
            "share_over_far_km": float(beds[km > far_km].sum() / n)}


def fairness(solution: Any, data: ModelInputs, case: str) -> pd.DataFrame:
    """Per footprint and for England (columns ``COLUMNS``); see the module docstring."""
    far_km = float(data.config.policy.far_km)
    rows = _patients(solution, data)
    population = data.scenario.footprints.set_index("footprint")["population"].astype(float)
    out = []
    for f, group in rows.groupby("footprint", sort=False):
        out.append({"case": case, "scope": "footprint", "id": f, "hub": data.hub_of_footprint[f],
                    **_measures(group, far_km), "far_km": far_km})
    table = pd.DataFrame(out, columns=[c for c in COLUMNS if c not in
                                       ("worst_footprint", "worst_mean_km", "gini_mean_km",
                                        "weight_basis", "worst", "weight")])
    by_population = not table.empty and bool((table["id"].map(population).fillna(0) > 0).all())
    basis = "population" if by_population else "patients"
    table["weight"] = table["id"].map(population) if by_population else table["patients"]
    worst_value = table["mean_km"].max() if not table.empty else 0.0
    table["worst"] = table["mean_km"] >= worst_value - 1e-9 if not table.empty else []
    england: dict[str, Any] = {"case": case, "scope": "england", "id": "England", "hub": "",
                               "weight": float(table["weight"].sum()), "far_km": far_km,
                               "weight_basis": basis}
    if rows.empty:
        england.update(patients=0.0, mean_km=0.0, p90_km=0.0, max_km=0.0, in_hub_share=1.0,
                       share_over_far_km=0.0, worst_footprint="", worst_mean_km=0.0, gini_mean_km=0.0)
    else:
        worst = table.sort_values(["mean_km", "id"], ascending=[False, True]).iloc[0]
        england.update(_measures(rows, far_km), worst_footprint=worst["id"],
                       worst_mean_km=float(worst["mean_km"]),
                       gini_mean_km=gini(table["mean_km"].to_numpy(), table["weight"].to_numpy(float)))
    table = pd.concat([table, pd.DataFrame([england])], ignore_index=True)
    return table.reindex(columns=COLUMNS)


def fairness_tables(result: Any) -> pd.DataFrame | None:
    """``fairness.csv`` of a run: the recommended plan and, if evaluated, the do-nothing baseline."""
    if result.solution is None:
        return None
    frames = [fairness(result.solution, result.inputs, "optimised")]
    if result.baseline is not None:
        frames.append(fairness(result.baseline, result.inputs, "baseline"))
    return pd.concat(frames, ignore_index=True)
