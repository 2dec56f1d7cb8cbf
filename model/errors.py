"""Errors that reach the user, each mapped to an exit code (see README: exit codes)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

EXIT_OK = 0
EXIT_BUG = 1
EXIT_INVALID_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4
EXIT_OUTPUT = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and which rule it breaks."""

    file: str
    row: int | None  # 1-based line number in the file (header is line 1), when known
    column: str | None
    value: object
    rule: str

    def __str__(self) -> str:
        where = self.file
        keyed = self.file.endswith((".yaml", ".yml", ".json"))  # lines and keys, not rows and columns
        if self.row is not None:
            where += f", {'line' if keyed else 'row'} {self.row}"
        if self.column:
            where += f", {'key' if keyed else 'column'} '{self.column}'"
        value = "" if self.value is None else f" (value: {_excerpt(self.value)})"
        return f"{where}: {self.rule}{value}"


def _excerpt(value: object, limit: int = 120) -> str:
    """A value as shown in a message: its repr, cut to `limit` characters (a hostile input can
    be huge), with plain Python types for numpy scalars."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, tuple):
        value = tuple(v.item() if hasattr(v, "item") and not isinstance(v, str) else v for v in value)
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


class BedplanError(Exception):
    exit_code = EXIT_BUG


class ScenarioError(BedplanError):
    """The scenario's input is invalid. Carries every problem found, not only the first."""

    exit_code = EXIT_INVALID_INPUT

    SHOWN_PER_RULE = 20  # a file with a million bad rows lists 20 of each kind and a count

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the scenario input:\n" + "\n".join(
            f"  - {p}" for p in shown_problems(problems, self.SHOWN_PER_RULE)))


def shown_problems(problems: list[Problem], per_rule: int) -> list[Problem | str]:
    """At most `per_rule` problems of each (file, column, rule), then a line counting the rest."""
    counts: dict[tuple, int] = {}
    shown: list[Problem | str] = []
    for p in problems:
        key = (p.file, p.column, p.rule)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= per_rule:
            shown.append(p)
    for (file, column, rule), n in counts.items():
        if n > per_rule:
            where = f"{file}" + (f", column '{column}'" if column else "")
            shown.append(f"{where}: {n - per_rule:,} more like this ({rule})")
    return shown


class InfeasibleError(BedplanError):
    exit_code = EXIT_INFEASIBLE


class NoSolutionError(BedplanError):
    exit_code = EXIT_NO_SOLUTION


class OutputError(BedplanError):
    """An output could not be written (runs folder not writable, disk full, a file that failed):
    the run is left as `.incomplete-<id>` with the reason, never published as complete."""

    exit_code = EXIT_OUTPUT


def pydantic_problems(path: object, exc: Exception, lines: dict[tuple, int] | None = None,
                      shown: Callable[[tuple], tuple] | None = None,
                      hint: Callable[[str], str] | None = None,
                      plain: bool = False) -> list[Problem]:
    """A pydantic ValidationError as Problems naming the file, the key (and the line, from
    `lines`: the YAML line of each path of keys). `shown` renames a path for the message (e.g. a
    parameter's name for its index), `hint` adds to "unknown key" (did you mean ...?), and `plain`
    drops pydantic's "Value error, " prefix and shows no value for a missing key or a mapping."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return [Problem(str(path), None, None, None, str(exc))]
    problems = []
    for err in errors():
        loc = tuple(err.get("loc", ()))
        where = ".".join(str(p) for p in (shown(loc) if shown else loc))
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None) \
            if lines else None
        rule = err.get("msg", "invalid")
        value = err.get("input")
        if plain:
            rule = rule.removeprefix("Value error, ")
            if err.get("type") == "missing" or isinstance(value, dict | list):
                value = None
        if err.get("type") == "extra_forbidden":
            rule = "unknown key" + (hint(where) if hint else "")
        problems.append(Problem(str(path), line, where or None, value, rule))
    return problems
