"""The designs: full grid, one at a time and Latin hypercube, as design points and as variants."""

from __future__ import annotations

import itertools
import logging
import math
from typing import Any

from model.sweep.edits import lookup, materialise
from model.sweep.spec import Parameter, SweepSpec, show_value
from model.sweep.store import Sweep, Variant

log = logging.getLogger(__name__)


def design_points(spec: SweepSpec, base_config: dict[str, Any] | None = None) -> list[tuple[str, dict]]:
    """The design's points as (label, {parameter: value}); None means "as in the base"."""
    params = spec.parameters
    if spec.design == "grid":
        grids = [p.levels_for("grid") for p in params]
        return [(", ".join(f"{p.name}={show_value(v)}" for p, v in zip(params, combo, strict=True)),
                 {p.name: v for p, v in zip(params, combo, strict=True)})
                for combo in itertools.product(*grids)]
    if spec.design == "one_at_a_time":
        bases = {p.name: _oat_base(p, base_config) for p in params}
        points = [("base", dict(bases))]
        for p in params:
            for v in p.levels_for("one_at_a_time"):
                if _same(v, bases[p.name]):
                    continue
                points.append((f"{p.name}={show_value(v)}", {**bases, p.name: v}))
        return points
    from scipy.stats import qmc

    assert spec.variants is not None
    sample = qmc.LatinHypercube(d=len(params), seed=spec.seed).random(spec.variants)
    points = []
    for i, row in enumerate(sample):
        values = {p.name: _lhs_value(p, float(u)) for p, u in zip(params, row, strict=True)}
        points.append((f"lhs-{i + 1:04d}", values))
    return points


def _oat_base(p: Parameter, base_config: dict[str, Any] | None) -> Any:
    if p.base is not None:
        return p.base
    if p.op == "scale":
        return 1.0
    if p.op in ("add", "growth"):
        return 0.0
    if p.key is not None and base_config is not None:
        return lookup(base_config, p.key)
    return None


def _lhs_value(p: Parameter, u: float) -> Any:
    if p.values is not None:
        return p.values[min(int(u * len(p.values)), len(p.values) - 1)]
    assert p.low is not None and p.high is not None
    if p.log:
        value = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        value = p.low + u * (p.high - p.low)
    return round(value) if p.integer else round(value, 10)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def build_variants(sweep: Sweep) -> list[Variant]:
    """Every variant of the sweep, materialised and keyed; variants with the same content (the
    same key) are kept once, at their first place in the design."""
    base_config = sweep.scenario.config.model_dump(mode="json")
    variants: list[Variant] = []
    seen: set[str] = set()
    for label, values in design_points(sweep.spec, base_config):
        variant = materialise(sweep, values, label=label, index=len(variants))
        if variant.digest in seen:
            log.info("variant %s has the same content as an earlier one; solved once", label)
            continue
        seen.add(variant.digest)
        variants.append(variant)
    return variants
