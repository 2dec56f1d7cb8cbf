"""The scenario file (`scenario.yaml`): schema, `extends:` layering and loading.

A scenario may name another scenario folder in `extends:` (relative to its own folder). The
parent is loaded first; the child's keys override the parent's, nested mappings merge key by key,
and any CSV table the child folder holds replaces the parent's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from model.errors import Problem, ScenarioError, pydantic_problems

SCENARIO_FILE = "scenario.yaml"
log = logging.getLogger(__name__)


class _Strict(BaseModel):
    # no NaN or infinity anywhere: such a number reaches the solver as "no bound" or breaks it
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DistanceConfig(_Strict):
    """How footprint-to-site distances are measured."""

    method: Literal["great_circle", "contiguity", "graph", "matrix"] = "great_circle"
    circuity: float = Field(1.3, ge=1.0, le=3.0, description="Road km per great-circle km.")
    graph_file: str | None = Field(None, description="GraphML road graph (method: graph).")
    matrix_file: str | None = Field(None, description="CSV footprint,site,km (method: matrix).")


class SiteCountLimit(_Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class PolicyConfig(_Strict):
    """Planning rules and limits."""

    stepdown_reach_km: float = Field(
        100.0, ge=0, le=10_000, description="A step-down place is in reach if in the same hub or this close."
    )
    delay_years: float = Field(
        0.5, ge=0, le=10, description="Average time a delayed discharge keeps its bed (years)."
    )
    delayed_discharge_penalty_gbp: float = Field(
        50_000.0, ge=0, le=1e9, description="Penalty per delayed discharge (patient), on top of bed cost."
    )
    in_hub_from_year: int | None = Field(
        None, description="First year the in-hub share applies (default: every year)."
    )
    max_ward_changes_per_hub_year: int | None = Field(
        None, ge=0, description="Wards built, converted or removed per hub per year."
    )
    max_displaced_patients_per_hub_year: float | None = Field(
        None, ge=0, le=1e6, description="Patients in wards removed or converted, per hub per year."
    )
    closure_notice_years: int = Field(
        1, ge=0, description="An existing site cannot close before base year + this."
    )
    ward_removal_notice_years: int = Field(
        1, ge=0, le=30,
        description="No ward is removed (decommissioned) before base year + this: staff and "
                    "patients need notice.",
    )
    allow_unmet: bool = Field(
        True, description="Allow need to go unplaced (out-of-area spot purchase, at a premium)."
    )
    min_open_sites: int | None = Field(None, ge=0, description="Sites operating each year, at least.")
    max_open_sites: int | None = Field(None, ge=0, description="Sites operating each year, at most.")
    open_sites_per_hub: dict[str, SiteCountLimit] = Field(
        default_factory=dict, description="Per hub: {HUB: {min: n, max: n}} sites operating a year."
    )
    allow_new_builds: bool = True
    allow_conversions: bool = True
    allow_new_sites: bool = True
    max_placement_km: float | None = Field(
        None, gt=0, le=10_000,
        description="Placements farther than this are not allowed (unmet instead)."
    )
    unmet_km: float = Field(
        200.0, ge=0, le=10_000,
        description="Assumed distance from home of an out-of-area spot placement."
    )
    far_km: float = Field(
        100.0, gt=0, le=10_000,
        description="Report setting: fairness.csv gives the share of patients placed farther "
                    "than this from home (unmet need counted at unmet_km).",
    )
    max_footprint_mean_km: float | None = Field(
        None, ge=0, le=10_000,
        description="Fairness rule: no footprint's patients may be placed farther than this "
                    "from home on average, in any year the in-hub rule applies (off if unset).",
    )
    min_footprint_in_hub_share: float | None = Field(
        None, ge=0, le=1,
        description="Fairness rule: each footprint places at least this share of its inpatient "
                    "need in its own hub, in any year the in-hub rule applies (off if unset).",
    )


class TravelConfig(_Strict):
    """Family visits: the carbon of travel between home footprint and site."""

    visits_per_patient_year: float = Field(26.0, ge=0, le=10_000)
    car_kg_per_km: float = Field(0.17, ge=0, le=100, description="kgCO2e per car-km.")


# HiGHS options a scenario may set: only those that change how the search goes. Options that
# write files or logs (the run folder's solver.log is ours), and the ones set from `time_limit`,
# `mip_gap` and `threads`, are refused.
SEARCH_OPTIONS = frozenset({
    "presolve", "parallel", "solver", "simplex_strategy", "simplex_scale_strategy",
    "simplex_iteration_limit", "run_crossover", "random_seed", "mip_abs_gap",
    "mip_feasibility_tolerance", "primal_feasibility_tolerance", "dual_feasibility_tolerance",
    "ipm_optimality_tolerance", "mip_heuristic_effort", "mip_max_nodes", "mip_max_stall_nodes",
    "mip_max_leaves", "mip_max_improving_sols", "mip_lp_age_limit", "mip_pool_soft_limit",
    "mip_pscost_minreliable", "mip_min_cliquetable_entries_for_parallelism", "objective_bound",
    "objective_target", "mip_max_start_nodes", "mip_heuristic_run_rins",
    "mip_heuristic_run_rens", "mip_heuristic_run_root_reduced_cost", "mip_heuristic_run_zi_round",
    "mip_heuristic_run_shifting", "mip_heuristic_run_feasibility_jump", "mip_allow_restart",
    "mip_root_presolve_only", "presolve_rule_off",
    "mip_lp_solver", "mip_ipm_solver",
})
OWN_OPTIONS = {"time_limit": "time_limit", "mip_rel_gap": "mip_gap", "threads": "threads"}
# Of those, the limits that end the solve's own MIP early. The first plan's heuristics, the
# crossover and the hub search each stop at their own share of the time and the gap, and a node or
# solution limit meant for the solve would leave them no plan (at `mip_max_nodes: 0` with no
# heuristic effort, the rolling horizon found none for a 20 x 30 x 2 x 2 synthetic): they get
# every other search option, not these.
STOP_OPTIONS = frozenset({"mip_max_nodes", "mip_max_stall_nodes", "mip_max_leaves",
                          "mip_max_improving_sols", "objective_target", "simplex_iteration_limit"})


class SolverConfig(_Strict):
    time_limit: float = Field(60.0, gt=0, le=1e7, description="Seconds.")
    mip_gap: float = Field(1e-3, ge=0, le=1, description="Relative MIP gap to stop at.")
    threads: int = Field(2, ge=1, le=256)
    arcs: str = Field(
        "all", pattern=r"^(all|nearest:[1-9][0-9]{0,3})$",
        description="Placement arcs built: `all`, or `nearest:K` (each footprint's K nearest sites "
                    "per service and its K nearest in its own hub; the left-out arcs are then priced "
                    "against the duals and added back until none would improve the plan).")
    first_plan: Literal["highs", "relax_and_fix", "lp_neighbourhood", "rolling_horizon"] = Field(
        "highs",
        description="How a solve with no MIP start gets its first plan: `highs` (HiGHS's own "
                    "heuristics), `relax_and_fix` (the years solved one at a time, later years "
                    "relaxed), `lp_neighbourhood` (the LP relaxation, then the MIP with each "
                    "ward count between the relaxation's rounded down and rounded up, or one more "
                    "where the relaxation's count is whole), "
                    "or `rolling_horizon` (the years one at a time, later years left out: a "
                    "small MIP a year, for models too big for a relaxation); each within half "
                    "the time limit, its plan HiGHS's start.")
    hold_closed_sites: bool = Field(
        False,
        description="With `first_plan: lp_neighbourhood`: a ward count at a site-year the LP "
                    "relaxation closes (`operate` 0) is held at the relaxation's count, not allowed "
                    "one ward more. A smaller box: England's solve sooner, the synthetic 44 x 100 "
                    "slower (docs/performance.md).")
    hub_search: float = Field(
        0.0, ge=0, le=0.5,
        description="Share of the time limit for improving the first plan hub by hub before HiGHS "
                    "starts from it (each hub's columns free, every other column fixed at the plan, "
                    "then each pair of neighbouring hubs); 0: none. Only after `first_plan`'s "
                    "heuristic (not `highs`).")
    hub_search_after: bool = Field(
        False,
        description="With `arcs: nearest:K`: after each MIP, improve its plan hub by hub in the time "
                    "kept for the LP with the integers fixed that this LP will not need (half of it "
                    "is kept).")
    options: dict[str, bool | int | float | str] = Field(
        default_factory=dict,
        description="Further HiGHS options that change the search (see SEARCH_OPTIONS).",
    )

    @field_validator("options")
    @classmethod
    def _search_options_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        import difflib

        bad = []
        for name in value:
            if name in OWN_OPTIONS:
                bad.append(f"'{name}' is set by solver.{OWN_OPTIONS[name]}")
            elif name not in SEARCH_OPTIONS:
                close = difflib.get_close_matches(name, sorted(SEARCH_OPTIONS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                bad.append(f"'{name}' is not a HiGHS search option bedplan passes on{hint}")
        if bad:
            raise ValueError("; ".join(bad) + ": options that write files or logs are not allowed")
        return value

    def ignored(self) -> list[str]:
        """The settings that this combination leaves without effect, each said in a sentence: not
        errors, because a command-line override (`--first-plan`, `--arcs`) of a scenario that sets
        them must still run, but said, because a planner reading the scenario expects them."""
        out = []
        if self.hold_closed_sites and self.first_plan != "lp_neighbourhood":
            out.append(f"solver.hold_closed_sites is ignored: it shapes first_plan lp_neighbourhood's "
                       f"box, and first_plan is {self.first_plan}")
        if self.hub_search > 0 and self.first_plan == "highs":
            out.append("solver.hub_search is ignored: it improves a first plan's heuristic's plan, and "
                       "first_plan is highs")
        if self.hub_search_after and self.arcs == "all":
            out.append("solver.hub_search_after is ignored: it runs between the MIPs of arcs nearest:K, "
                       "and arcs is all")
        return out


ChangeOp = Literal["set", "scale", "add", "growth", "add_row", "replace_row", "remove_row"]
CELL_OPS = ("set", "scale", "add", "growth")


class Change(_Strict):
    """One change a scenario makes to a table it inherits, in the vocabulary of sweep parameters.

    ``set`` / ``scale`` / ``add`` / ``growth`` change `column` on the rows the filters select
    (growth multiplies by ``(1 + value) ** (year - base_year)``); ``add_row`` adds `row`,
    ``replace_row`` replaces the row with `row`'s key, ``remove_row`` removes the row whose key
    `row` gives.
    """

    table: str = Field(..., description="Input table, e.g. demand.")
    op: ChangeOp = Field("set", description="What the change does.")
    column: str | None = Field(None, description="Column changed (set, scale, add, growth).")
    value: bool | int | float | str | None = Field(None, description="The new value or factor.")
    where: dict[str, Any] = Field(
        default_factory=dict,
        description="Rows whose column equals a value, one of a list, or lies in {min, max}.")
    hub: str | list[str] | None = Field(None, description="Rows in these hubs.")
    row: dict[str, bool | int | float | str | None] | None = Field(
        None, description="add_row / replace_row: the row; remove_row: its key columns.")
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Change:
        if self.op in CELL_OPS:
            if not self.column:
                raise ValueError(f"op {self.op} needs a `column`")
            if self.value is None and self.op != "set":
                raise ValueError(f"op {self.op} needs a number `value`")
            if self.op != "set" and (isinstance(self.value, bool) or not isinstance(self.value, int | float)):
                raise ValueError(f"op {self.op} needs a number `value`")
            if self.row is not None:
                raise ValueError("`row` is for add_row, replace_row and remove_row")
        else:
            if self.row is None:
                raise ValueError(f"op {self.op} needs a `row`")
            if self.column or self.value is not None or self.where or self.hub:
                raise ValueError(f"op {self.op} takes `row` only (no column, value, where or hub)")
        for column, wanted in self.where.items():
            if isinstance(wanted, dict) and (not wanted or set(wanted) - {"min", "max"}):
                raise ValueError(f"where.{column}: a range is {{min: x, max: y}}")
        return self


class ScopeConfig(_Strict):
    """Restrict a scenario to some hubs (e.g. a regional case study extending England)."""

    hubs: list[str] | None = None


class ScenarioConfig(_Strict):
    """The validated content of scenario.yaml (after `extends:` is resolved)."""

    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                      description="Scenario name; also the folder of its runs (one path part).")
    description: str = ""
    extends: str | None = None
    base_year: int = Field(..., ge=1990, le=2100)
    horizon_years: int = Field(5, ge=1, le=30)
    discount_rate: float = Field(0.035, ge=0, le=0.5)
    carbon_price_gbp_per_t: float | dict[int, float] = Field(
        69.0, description="GBP per tCO2e: one value, or one per year."
    )
    value_of_travel_gbp_per_km: float = Field(
        0.5, ge=0, le=1e6,
        description="GBP per patient-km per year (distance from home of a placed bed)."
    )
    asset_life_years: int = Field(30, ge=1, le=100)
    geometry: str | None = Field(None, description="Footprint polygons (GeoJSON/GeoPackage).")
    distance: DistanceConfig = DistanceConfig()
    policy: PolicyConfig = PolicyConfig()
    travel: TravelConfig = TravelConfig()
    solver: SolverConfig = SolverConfig()
    scope: ScopeConfig = ScopeConfig()
    changes: list[Change] = Field(
        default_factory=list,
        description="Changes to inherited tables, applied in order (a parent's first).")

    @property
    def years(self) -> list[int]:
        return list(range(self.base_year, self.base_year + self.horizon_years))

    def carbon_price(self, year: int) -> float:
        price = self.carbon_price_gbp_per_t
        if isinstance(price, dict):
            return price[year]
        return price

    @field_validator("carbon_price_gbp_per_t")
    @classmethod
    def _non_negative_price(cls, value: float | dict[int, float]) -> float | dict[int, float]:
        values = value.values() if isinstance(value, dict) else [value]
        if any(v < 0 for v in values):
            raise ValueError("carbon prices must be >= 0")
        if any(v > 1e6 for v in values):
            raise ValueError("carbon prices must be <= 1,000,000 GBP/t")
        return value

    @model_validator(mode="after")
    def _price_for_every_year(self) -> ScenarioConfig:
        if isinstance(self.carbon_price_gbp_per_t, dict):
            missing = [y for y in self.years if y not in self.carbon_price_gbp_per_t]
            if missing:
                raise ValueError(f"carbon_price_gbp_per_t has no value for years {missing}")
        return self


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge `override` into `base`: nested mappings key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader made strict for hand-written input: no aliases (ten lines of nested
    anchors can expand to gigabytes), no duplicate keys (PyYAML silently keeps the last), no
    nesting deeper than MAX_YAML_DEPTH, no digit separators (``1_000`` is read as 1000)."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                continue  # unhashable: the schema reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

    def _no_separators(self, node):
        if "_" in str(node.value):
            raise yaml.constructor.ConstructorError(
                None, None, f"number with '_' ({node.value}): write it without separators",
                node.start_mark)

    def construct_yaml_int(self, node):
        self._no_separators(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        self._no_separators(node)
        return super().construct_yaml_float(node)


SafeLoader.add_constructor("tag:yaml.org,2002:int", SafeLoader.construct_yaml_int)
SafeLoader.add_constructor("tag:yaml.org,2002:float", SafeLoader.construct_yaml_float)


def load_yaml_text(text: str) -> Any:
    """YAML text through `SafeLoader` (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path, not_found: str = "file not found") -> tuple[dict[str, Any], str]:
    """A YAML file that must hold a mapping, and its text; every way it can fail is a
    ScenarioError naming the file (and the line, for a syntax error)."""
    if path.exists() and not path.is_file():  # a directory, a FIFO (would block), a device
        raise ScenarioError([Problem(str(path), None, None, None, "not a regular file")])
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise ScenarioError([Problem(str(path), None, None, None,
                                         f"larger than {MAX_YAML_BYTES:,} bytes")])
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ScenarioError([Problem(str(path), None, None, None, not_found)]) from exc
    except PermissionError as exc:
        raise ScenarioError([Problem(str(path), None, None, None, "not readable (permission)")]) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), None, None, None, "not UTF-8 text")]) from exc
    try:
        content = load_yaml_text(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(str(path), line, None, None, f"YAML syntax: {reason}")]) from exc
    if not isinstance(content, dict):
        raise ScenarioError([Problem(str(path), None, None, None, "must be a mapping of keys")])
    return content, text


def resolve_layers(folder: Path, read: dict[Path, dict[str, Any]] | None = None) -> list[Path]:
    """The scenario folders from the root ancestor down to `folder` (following `extends:`);
    each layer's parsed scenario.yaml is kept in `read` when it is given."""
    chain: list[Path] = []
    current = folder.resolve()
    while True:
        if current in chain:
            loop = " -> ".join(str(p) for p in [*chain, current])
            raise ScenarioError([Problem(str(current / SCENARIO_FILE), None, "extends", None,
                                         f"extends loop: {loop}")])
        chain.append(current)
        raw, _text = read_yaml(current / SCENARIO_FILE)
        if read is not None:
            read[current] = raw
        parent = raw.get("extends")
        if not parent:
            break
        current = (current / str(parent)).resolve()
    return list(reversed(chain))


def load_config(folder: Path, overrides: dict[str, Any] | None = None,
                ) -> tuple[ScenarioConfig, list[Path], list[PlacedChange]]:
    """Load and validate the scenario.yaml of `folder`, merged over its `extends:` ancestors;
    also its layers and the table changes they make, each with where it was written."""
    read: dict[Path, dict[str, Any]] = {}  # each layer's file parsed once
    layers = resolve_layers(folder, read)
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, {k: v for k, v in read[layer].items() if k != "changes"})
    merged["extends"] = str(layers[-2]) if len(layers) > 1 else None
    overrides = dict(overrides or {})
    extra_changes = overrides.pop("changes", None) or []
    if overrides:
        merged = deep_merge(merged, overrides)
    changes, problems = layered_changes(layers, extra_changes, read)
    merged["changes"] = []
    try:
        config = ScenarioConfig.model_validate(merged)
    except Exception as exc:  # pydantic.ValidationError
        problems = _pydantic_problems(layers[-1] / SCENARIO_FILE, exc) + problems
        raise ScenarioError(problems) from exc
    if problems:
        raise ScenarioError(problems)
    config.changes = [c.change for c in changes]
    return config, layers, changes


@dataclass(frozen=True)
class PlacedChange:
    """A change with the file and position it was written at (for error messages)."""

    change: Change
    file: str
    position: int


def layered_changes(layers: list[Path], extra: list[Any] = (), read: dict[Path, dict[str, Any]] | None = None,
                    ) -> tuple[list[PlacedChange], list[Problem]]:
    """Every layer's `changes:`, the root ancestor's first, then `extra` (from a sweep or the
    command line), each validated where it was written (`read`: layers' files already parsed).

    A change is dropped (and said in the log) when a later layer holds its own copy of the
    table: that copy replaces the table the change was written for.
    """
    from model.dictionary import TABLES

    provider = {name: max((i for i, layer in enumerate(layers) if (layer / t.file).exists()),
                          default=-1) for name, t in TABLES.items()}
    placed: list[PlacedChange] = []
    problems: list[Problem] = []
    read = read or {}
    sources = [(i, layer / SCENARIO_FILE,
                (read[layer] if layer in read else read_yaml(layer / SCENARIO_FILE)[0]).get("changes"))
               for i, layer in enumerate(layers)]
    sources.append((len(layers), Path("overrides"), list(extra)))
    for i, path, raw in sources:
        if raw is None:
            continue
        if not isinstance(raw, list):
            problems.append(Problem(str(path), None, "changes", None, "must be a list of changes"))
            continue
        for k, item in enumerate(raw):
            try:
                change = Change.model_validate(item)
            except Exception as exc:  # pydantic.ValidationError
                problems += [Problem(p.file, None, f"changes[{k}]" + (f".{p.column}" if p.column else ""),
                                     p.value, p.rule) for p in _pydantic_problems(path, exc)]
                continue
            if provider.get(change.table, -1) > i:
                log.info("%s changes[%d] on %s is replaced by a later layer's copy of the table",
                         path, k, change.table)
                continue
            placed.append(PlacedChange(change, str(path), k))
    return placed, problems


def _pydantic_problems(path: Path, exc: Exception) -> list[Problem]:
    return pydantic_problems(path, exc, hint=_did_you_mean)


def _did_you_mean(dotted: str) -> str:
    import difflib

    parts = dotted.split(".")
    schema: type[BaseModel] = ScenarioConfig
    for part in parts[:-1]:
        field_info = schema.model_fields.get(part)
        annotation = getattr(field_info, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        schema = annotation
    close = difflib.get_close_matches(parts[-1], list(schema.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
