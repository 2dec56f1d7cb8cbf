"""Fixed decisions (``fixed_decisions.csv``): what each lock asks of the plan, as bounds on the
wards of a service at a site, or on whether a site operates, year by year; and the conflicts
that can be named before solving.

Each lock becomes bounds (:class:`Bound`): ``service`` None bounds ``operate[s,t]`` (0 or 1),
otherwise ``wards[s,v,t]``. The constraint family ``fixed_decisions`` turns them into rows, one
per lock and index, so a lock can be released alone (to price it) and named in a diagnosis.

When a decision may first happen ("available from": lead times, notice periods, the policy's
switches) comes from the scenario; what a lock asks ("required from") is checked against it
here, and two locks asking for incompatible things are named together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from model.errors import Problem

if TYPE_CHECKING:
    from model.inputs import ModelInputs

KIND_LABELS = {
    "keep": "keep as it is", "keep_open": "keep open", "close_by": "close by",
    "open_in": "open (commission) in", "wards_min": "wards at least", "wards_max": "wards at most",
    "wards_exact": "wards exactly",
}


@dataclass(frozen=True)
class Lock:
    """One row of fixed_decisions.csv, its years resolved to the horizon."""

    decision: str
    site: str
    service: str | None
    kind: str
    year: int | None
    to_year: int | None
    wards: int | None
    note: str
    line: int | None  # the row in the file (None: added by a scenario change or a command)

    def describe(self) -> str:
        what = f"{KIND_LABELS[self.kind]} {self.site}" + (f" {self.service}" if self.service else "")
        if self.kind in ("close_by", "open_in"):
            return f"{what} {self.year}"
        if self.kind.startswith("wards_"):
            what += f": {self.wards}"
        span = [str(self.year) if self.year else "", str(self.to_year) if self.to_year else ""]
        return what + (f" ({span[0] or 'start'}–{span[1] or 'end'})" if any(span) else "")


@dataclass(frozen=True)
class Bound:
    """``lo <= wards[site,service,year] <= hi`` (``operate`` when service is None); hi None: no
    upper bound."""

    decision: str
    site: str
    service: str | None
    year: int
    lo: int
    hi: int | None


def read_locks(frame: pd.DataFrame) -> list[Lock]:
    """The locks of the (validated) fixed_decisions table."""
    rows = frame.attrs.get("rows", {})

    def number(value: object) -> int | None:
        return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) \
            else int(value)

    return [Lock(decision=str(r.decision), site=str(r.site), service=str(r.service) or None,
                 kind=str(r.kind), year=number(r.year), to_year=number(r.to_year), wards=number(r.wards),
                 note=str(r.note or ""), line=rows.get(idx))
            for idx, r in zip(frame.index, frame.itertuples(index=False), strict=True)]


def lock_bounds(lock: Lock, data: ModelInputs) -> list[Bound]:
    """What `lock` asks, year by year."""
    years = data.years
    start = lock.year or years[0]
    span = [t for t in years if start <= t <= (lock.to_year or years[-1])]
    services = [lock.service] if lock.service else [v for (s, v) in data.site_services if s == lock.site]
    d, s = lock.decision, lock.site
    out: list[Bound] = []
    if lock.kind == "keep":
        for v in services:
            e = data.existing_wards[(s, v)]
            out += [Bound(d, s, v, t, e, e) for t in span]
        if not lock.service:
            o = int(data.initially_open[s])
            out += [Bound(d, s, None, t, o, o) for t in span]
    elif lock.kind == "keep_open":
        out += [Bound(d, s, lock.service, t, 1, None if lock.service else 1) for t in span]
    elif lock.kind == "close_by":
        out += [Bound(d, s, lock.service, t, 0, 0) for t in years if t >= start]
    elif lock.kind == "open_in":
        out += [Bound(d, s, lock.service, t, 0, 0) for t in years if t == start - 1]
        out += [Bound(d, s, lock.service, t, 1, None if lock.service else 1) for t in years if t >= start]
    else:
        n = int(lock.wards or 0)
        lo, hi = {"wards_min": (n, None), "wards_max": (0, n), "wards_exact": (n, n)}[lock.kind]
        out += [Bound(d, s, lock.service, t, lo, hi) for t in span]
    return out


def check_locks(data: ModelInputs, locks: list[Lock], file: str) -> list[Problem]:
    """Every conflict a lock has with the scenario (its shape, lead times, notice, the policy's
    switches, the site's size) or with another lock."""
    problems: list[Problem] = []
    sound = []
    for lock in locks:
        found = _check_shape(lock, data, file)
        problems += found
        if not found:
            sound.append(lock)
    bounds_of = {lock.decision: lock_bounds(lock, data) for lock in sound}
    for lock in sound:
        problems += _check_timing(lock, bounds_of[lock.decision], data, file)
    problems += _check_pairs(sound, bounds_of, data, file)
    return problems


def _problem(file: str, lock: Lock, column: str, value: object, rule: str) -> Problem:
    return Problem(file, lock.line, column, value, f"decision '{lock.decision}' ({lock.describe()}): {rule}")


def _check_shape(lock: Lock, data: ModelInputs, file: str) -> list[Problem]:
    years = data.years
    problems = []
    if lock.kind in ("close_by", "open_in") and lock.year is None:
        problems.append(_problem(file, lock, "year", None, f"{lock.kind} needs the year"))
    if lock.kind.startswith("wards_") and (lock.service is None or lock.wards is None):
        problems.append(_problem(file, lock, "wards" if lock.service else "service", None,
                                 f"{lock.kind} needs a service and a number of wards"))
    if lock.service and (lock.site, lock.service) not in data.existing_wards:
        problems.append(_problem(file, lock, "service", lock.service,
                                 f"site {lock.site} cannot host {lock.service} (not in site_services.csv)"))
    for column, year in (("year", lock.year), ("to_year", lock.to_year)):
        if year is not None and not years[0] <= year <= years[-1]:
            problems.append(_problem(file, lock, column, year,
                                     f"outside the planning horizon {years[0]}..{years[-1]}"))
    if lock.year and lock.to_year and lock.to_year < lock.year:
        problems.append(_problem(file, lock, "to_year", lock.to_year, f"before year {lock.year}"))
    if lock.kind == "open_in" and not lock.service and data.initially_open.get(lock.site):
        problems.append(_problem(file, lock, "kind", lock.kind,
                                 f"{lock.site} operates today: use keep_open to keep it"))
    if lock.kind == "open_in" and lock.service and data.existing_wards.get((lock.site, lock.service), 0) > 0:
        problems.append(_problem(file, lock, "kind", lock.kind,
                                 f"{lock.site} has {lock.service} wards today: use keep_open or wards_min"))
    return problems


def _check_timing(lock: Lock, bounds: list[Bound], data: ModelInputs, file: str) -> list[Problem]:
    """The first year of each bound that no decision can reach by then (one problem per lock)."""
    for b in bounds:
        rule = _unreachable(b, data)
        if rule:
            return [_problem(file, lock, "year" if lock.year else "kind", b.year, rule)]
    return []


def _unreachable(b: Bound, data: ModelInputs) -> str | None:
    policy = data.config.policy
    s, t = b.site, b.year
    candidate = data.site.at[s, "status"] == "candidate"
    if b.service is None:
        if b.lo == 1 and not data.initially_open[s]:
            if not candidate:
                return f"{s} does not operate today and a closed unit cannot reopen"
            if not (policy.allow_new_sites and policy.allow_new_builds):
                return "the scenario's policy forbids new sites (policy.allow_new_sites / allow_new_builds)"
            available = max(data.earliest_open[s],
                            min(data.earliest_build[(s, v)] for (ss, v) in data.site_services if ss == s))
            if t < available:
                return (f"required from {t} but {s} can open from {available} at the earliest "
                        f"(lead times)")
        if b.hi == 0 and data.initially_open[s] and t < data.earliest_close[s]:
            return (f"required closed in {t} but {s} can close from {data.earliest_close[s]} at the "
                    f"earliest (policy.closure_notice_years)")
        return None
    v = b.service
    existing = data.existing_wards[(s, v)]
    max_wards = int(data.site.at[s, "max_wards"])
    if b.lo > max_wards:
        return f"{b.lo} wards of {v} but site {s} holds at most {max_wards} (sites.max_wards)"
    others = [w for (ss, w) in data.site_services if ss == s and w != v]
    can_convert = policy.allow_conversions and bool(others)
    if b.lo > existing:
        can_build = policy.allow_new_builds and (not candidate or policy.allow_new_sites)
        if not (can_build or can_convert):
            return (f"{b.lo} wards of {v} in {t} needs new or converted wards, which the scenario's "
                    f"policy forbids (allow_new_builds / allow_conversions / allow_new_sites)")
        available = min([data.earliest_build[(s, v)]] * can_build
                        + [data.earliest_conversion[(s, v)]] * can_convert)
        if t < available:
            return (f"required from {t} but new {v} wards at {s} are available from {available} at the "
                    f"earliest (lead times)")
    if b.hi is not None and b.hi < existing:
        first_out = min([data.earliest_remove]
                        + [data.earliest_conversion[(s, w)] for w in others] * can_convert)
        if t < first_out:
            return (f"at most {b.hi} {v} wards in {t} but {s} has {existing} today and none can be "
                    f"removed before {first_out} (policy.ward_removal_notice_years)")
    return None


def _check_pairs(locks: list[Lock], bounds_of: dict[str, list[Bound]], data: ModelInputs,
                 file: str) -> list[Problem]:
    """Two locks that no plan can keep at once: on the wards of a service in a year, on whether a
    site operates, or a site closed by one and a service kept by the other."""
    by_lock = {lock.decision: lock for lock in locks}
    wards: dict[tuple[str, str, int], list[Bound]] = defaultdict(list)
    operate: dict[tuple[str, int], list[Bound]] = defaultdict(list)
    for bounds in bounds_of.values():
        for b in bounds:
            if b.service is None:
                operate[(b.site, b.year)].append(b)
                if b.hi == 0:  # a closed site has no wards of any service
                    for (s, v) in data.site_services:
                        if s == b.site:
                            wards[(s, v, b.year)].append(Bound(b.decision, s, v, b.year, 0, 0))
            else:
                wards[(b.site, b.service, b.year)].append(b)
    named: set[tuple[str, str]] = set()
    problems = []
    for key, bounds in [*operate.items(), *wards.items()]:
        high = max(bounds, key=lambda b: b.lo)
        low = min(bounds, key=lambda b: math.inf if b.hi is None else b.hi)
        if low.hi is None or high.lo <= low.hi or high.decision == low.decision:
            continue
        pair = tuple(sorted((high.decision, low.decision)))
        if pair in named:
            continue
        named.add(pair)
        what = "operating" if len(key) == 2 else f"{key[1]} wards"
        first, second = by_lock[pair[0]], by_lock[pair[1]]
        problems.append(_problem(file, first, "decision", first.decision,
                                 f"contradicts decision '{second.decision}' ({second.describe()}): "
                                 f"{key[0]} {what} in {key[-1]} must be >= {high.lo} and <= {low.hi}"))
    return problems
