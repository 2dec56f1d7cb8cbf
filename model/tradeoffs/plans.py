"""A plan's site and ward decisions as a flat vector, and the distance between two plans
(`bedplan alternatives`)."""

from __future__ import annotations

from typing import Any


def plan_vector(solution: Any) -> dict[str, int]:
    """A plan's site and ward decisions: "o|site|year" -> 1 if the site has wards that year (a
    site kept open without a ward is no decision anyone would notice), and
    "w|site|service|year" -> wards."""
    w = solution.wards
    out = {f"w|{s}|{v}|{t}": int(n) for s, v, t, n in zip(w["site"], w["service"], w["year"], w["wards"],
                                                          strict=True)}
    used = w.groupby(["site", "year"])["wards"].sum()
    out.update({f"o|{s}|{t}": int(n > 0) for (s, t), n in used.items()})
    return out


def distance(p: dict[str, int], q: dict[str, int]) -> int:
    """Site-years where one plan has wards and the other none, plus ward-years of difference."""
    return sum(abs(p.get(k, 0) - q.get(k, 0)) for k in set(p) | set(q))
