"""Pre-solve arithmetic checks: infeasibilities that simple sums prove, named by hub, service, year.

Every check here is sound: it only reports a conflict that no solution can avoid. Each bound is
generous (the most capacity any decision could create by year t), so a scenario that passes may
still be infeasible; the solver's answer is then explained by `model.diagnosis`.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.inputs import ModelInputs


@dataclass(frozen=True)
class Finding:
    """One proven conflict."""

    rule: str  # the policy or family at stake, e.g. "in_hub_share"
    hub: str | None
    service: str | None
    year: int | None
    message: str


def max_wards_possible(data: ModelInputs, site: str, service: str, year: int) -> int:
    """The most wards of `service` site `site` could have in `year`, whatever is decided."""
    policy = data.config.policy
    w_max = int(data.site.at[site, "max_wards"])
    existing = data.existing_wards.get((site, service), 0)
    if data.site.at[site, "status"] == "candidate":
        can_open = (policy.allow_new_sites and policy.allow_new_builds
                    and year >= data.earliest_open[site])
        return w_max if can_open and year >= data.earliest_build[(site, service)] else 0
    if not data.initially_open[site]:
        return 0  # closed units do not reopen
    can_build = policy.allow_new_builds and year >= data.earliest_build[(site, service)]
    can_convert = (policy.allow_conversions and year >= data.earliest_conversion[(site, service)]
                   and any(s == site and v == service for (s, _u, v) in data.conversions))
    return w_max if can_build or can_convert else min(existing, w_max)


def min_need(data: ModelInputs, footprint: str, service: str, year: int) -> float:
    """The least need (beds) `footprint` can have for `service`: demand less every substitution."""
    share = sum(float(data.service.at[c, "max_substitution_share"])
                for (f, c, v) in data.substitutions if f == footprint and v == service)
    return data.d(footprint, service, year) * max(0.0, 1.0 - share)


def presolve_checks(data: ModelInputs) -> list[Finding]:
    """The checks of this module; the in-hub rule's own check is in its family module, and
    ``model.formulation.presolve_checks`` runs them all."""
    findings: list[Finding] = []
    if not data.config.policy.allow_unmet:
        findings += _placement_capacity(data)
    findings += _site_counts(data)
    return findings


def _placement_capacity(data: ModelInputs) -> list[Finding]:
    findings = []
    placeable = {(f, v) for (f, _s, v) in data.arcs}  # once: a scan of the arcs per need was quadratic
    for v in data.inpatient:
        beds_per_ward = data.beds_per_ward_at_occupancy(v)
        sites = [s for (s, vv) in data.site_services if vv == v]
        for t in data.years:
            required = sum(min_need(data, f, v, t) for f in data.footprints)
            capacity = beds_per_ward * sum(max_wards_possible(data, s, v, t) for s in sites)
            if required > capacity + 1e-6:
                findings.append(Finding(
                    "allow_unmet", None, v, t,
                    f"every {v} bed must be placed (policy.allow_unmet is false): {required:.1f} "
                    f"beds in {t}, but at most {capacity:.1f} {v} beds can exist then."))
        for (f, vv) in data.need_pairs:
            if vv == v and (f, v) not in placeable:
                findings.append(Finding(
                    "allow_unmet", data.hub_of_footprint[f], v, None,
                    f"footprint {f} needs {v} but no site hosting {v} is within "
                    f"policy.max_placement_km, and unmet need is not allowed."))
    return findings


def _can_operate(data: ModelInputs, site: str, year: int) -> bool:
    policy = data.config.policy
    if data.site.at[site, "status"] == "candidate":
        return policy.allow_new_sites and policy.allow_new_builds and year >= data.earliest_open[site]
    return data.initially_open[site]


def _site_counts(data: ModelInputs) -> list[Finding]:
    policy = data.config.policy
    scopes = []
    if policy.min_open_sites is not None or policy.max_open_sites is not None:
        scopes.append((None, list(data.sites), policy.min_open_sites, policy.max_open_sites))
    for hub, limit in policy.open_sites_per_hub.items():
        scopes.append((hub, [s for s in data.sites if data.hub_of_site[s] == hub], limit.min, limit.max))
    findings = []
    for hub, sites, low, high in scopes:
        where = f"hub {hub}" if hub else "the scenario"
        for t in data.years:
            could_open = sum(1 for s in sites if _can_operate(data, s, t))
            must_open = sum(1 for s in sites if data.initially_open[s] and t < data.earliest_close[s])
            if low is not None and low > could_open:
                findings.append(Finding("open_sites_minimum", hub, None, t,
                                        f"{where} needs at least {low} sites operating in {t} but "
                                        f"only {could_open} can operate then."))
            if high is not None and high < must_open:
                findings.append(Finding("open_sites_maximum", hub, None, t,
                                        f"{where} allows at most {high} sites operating in {t} but "
                                        f"{must_open} must stay open (closure notice)."))
    return findings
