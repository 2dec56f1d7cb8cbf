"""Pausing Python's cycle collector while a model is built, and keeping it off old objects during a run.

Building a Pyomo model creates hundreds of thousands of small objects (variables, terms,
expressions) that all live as long as the model. Python's cycle collector runs after every few
hundred new objects, and its older generations re-examine everything built so far, so a build
spends over half its time in collections that find nothing: England's model took 2.2-2.4 s to
build with the collector on and 0.9-1.1 s with it paused (the same model: the compiled matrices
are identical). Reference counting still frees everything as usual; only cycles wait for the
collector's next run after the pause.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause the cycle collector for the block; restore its state after (nested pauses keep
    it paused until the outermost one ends)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_frozen_depth = 0
_frozen_lock = threading.Lock()


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Keep the cycle collector off the objects that exist when the block starts (imported
    modules, the caller's data) until it ends; objects made inside are collected as usual.

    A run makes enough objects to trigger several full collections, and each one re-examines
    every object of pandas, Pyomo and SciPy: about 0.08 s of the 0.38 s a p-median instance of
    100 nodes spends outside the solver (measured in docs/performance.md). Nothing is leaked:
    when the outermost block ends, the objects it made that are garbage in cycles are collected
    and the frozen objects go back to the collector.
    """
    global _frozen_depth
    with _frozen_lock:
        if _frozen_depth == 0:
            gc.freeze()
        _frozen_depth += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_depth -= 1
            if _frozen_depth == 0:
                # the run's own cycles (an England run leaves about 700,000 objects in them: its
                # Pyomo model) are freed now, scanning only what the run made, not left to a later
                # full collection: a sweep worker's next run would otherwise freeze them in
                gc.collect()
                gc.unfreeze()
