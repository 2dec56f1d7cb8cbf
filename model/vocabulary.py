"""Small shared vocabularies, in one place. Both are ``StrEnum``: members compare equal to, and
are written as, their plain strings, so CSV, JSON and older callers see the same text."""

from __future__ import annotations

from enum import StrEnum


class SiteAction(StrEnum):
    """What happens at a site in a year (``decisions.csv``) or over the plan (GIS layers)."""

    KEEP = "keep"
    EXPAND = "expand"
    RECONFIGURE = "reconfigure"
    REDUCE = "reduce"
    DECOMMISSION = "decommission"
    COMMISSION = "commission"


class SolveStatus(StrEnum):
    """What a solve proved (``manifest.json: status``)."""

    OPTIMAL = "optimal"  # proven within the requested gap (by HiGHS, or at a limit: see solve._outcome)
    FEASIBLE = "feasible"  # stopped by a limit with a solution not proven within the gap
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped by a limit without a solution
    ERROR = "error"


SOLVED = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
