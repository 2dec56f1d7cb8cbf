"""Trade-offs between the objectives: the efficient frontier (AUGMECON2) between two or three of
cost, carbon and patient-km (or cost and the worst footprint's mean km), and near-optimal
alternatives (MGA), solved on the sweep engine's Dask cluster.

Modules, each building only on those before it: :mod:`~model.tradeoffs.objectives` (the
objectives and the model rows of one step), :mod:`~model.tradeoffs.augmecon` (grid, bypass,
dominance, knee), :mod:`~model.tradeoffs.store` (the folder, records, resume),
:mod:`~model.tradeoffs.minimax` (the worst footprint's mean km), :mod:`~model.tradeoffs.points`
(solving points on a worker), :mod:`~model.tradeoffs.report`, :mod:`~model.tradeoffs.report3`
(three objectives) and :mod:`~model.tradeoffs.frontier` (the frontier's engine);
:mod:`~model.tradeoffs.plans`, :mod:`~model.tradeoffs.alt_report` and
:mod:`~model.tradeoffs.alternatives` (the alternatives).
"""

from model.tradeoffs.frontier import FRONTIERS_DIR, FrontierRun, run_frontier
from model.tradeoffs.objectives import OBJECTIVES

__all__ = ["FRONTIERS_DIR", "OBJECTIVES", "FrontierRun", "run_frontier"]
