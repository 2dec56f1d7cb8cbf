"""Sensitivity sweeps: many variants of one scenario, solved in parallel on Dask.

A sweep file (``data/sweeps/*.yaml``, schema :class:`SweepSpec`) names a base scenario, the
parameters to vary and a design (full grid, one-at-a-time, Latin hypercube). This package turns it
into variants, solves them on a ``dask.distributed`` cluster (a LocalCluster by default) and
writes ``runs/sweeps/<name>/``:

- ``variants/<key>.json`` (+ ``<key>.decisions.parquet``): one small file per finished variant,
  written atomically as it finishes, so an interrupted sweep loses only the variants in flight;
- ``results.parquet``, ``decisions.parquet``, ``summary.md`` and charts, consolidated at the end
  (see :mod:`model.sweep.report`).

A variant's key is a hash of its full resolved content: the validated scenario configuration
(solver limits included, and its table parameters as scenario ``changes``, which the worker
applies to the validated tables in memory) and the bytes of every input file of the base. Rerunning
a sweep skips every variant whose key already has a result, so editing the base data re-solves
exactly the variants it changes. Variants that are invalid, infeasible or hit their limits are
recorded with their status and reason; the sweep goes on.

Modules, each building only on those before it: :mod:`~model.sweep.spec` (the sweep file's
schema), :mod:`~model.sweep.bundle` (the base scenario as bytes), :mod:`~model.sweep.store`
(types, file names, statuses, per-variant files, consolidation), :mod:`~model.sweep.edits` (how a
variant changes the base), :mod:`~model.sweep.designs`, :mod:`~model.sweep.load` (loading and
checking a sweep file), :mod:`~model.sweep.report` and :mod:`~model.sweep.runner` (Dask).
"""

from model.sweep.bundle import Bundle, make_bundle
from model.sweep.designs import build_variants, design_points
from model.sweep.edits import materialise
from model.sweep.load import load_sweep
from model.sweep.report import write_report
from model.sweep.runner import Event, dask_client, pending, run_sweep, solve_variant
from model.sweep.spec import Parameter, SweepSolver, SweepSpec
from model.sweep.store import (
    DECISIONS_FILE,
    PLAN_FILE,
    RESULTS_FILE,
    RETRIED,
    SOLVED,
    SWEEPS_DIR,
    VARIANTS_DIR,
    Sweep,
    SweepRun,
    Variant,
    consolidate,
    read_variant,
    write_variant,
)

__all__ = [
    "DECISIONS_FILE",
    "PLAN_FILE",
    "RESULTS_FILE",
    "RETRIED",
    "SOLVED",
    "SWEEPS_DIR",
    "VARIANTS_DIR",
    "Bundle",
    "Event",
    "Parameter",
    "Sweep",
    "SweepRun",
    "SweepSolver",
    "SweepSpec",
    "Variant",
    "build_variants",
    "consolidate",
    "dask_client",
    "design_points",
    "load_sweep",
    "make_bundle",
    "materialise",
    "pending",
    "read_variant",
    "run_sweep",
    "solve_variant",
    "write_report",
    "write_variant",
]
