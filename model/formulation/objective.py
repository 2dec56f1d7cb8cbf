"""The objective: discounted cost + carbon price x tCO2e + value of travel x patient-km.

Every term is built as a named per-year expression, so that each can be reported on its own.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.formulation.linear import linear_sum
from model.formulation.terms import SharedTerms
from model.inputs import DAYS_PER_YEAR, ModelInputs

COST_TERMS = ("running_beds", "running_wards", "site_fixed", "capital", "residual", "closure",
              "decommission", "unmet", "community", "community_setup")
CARBON_TERMS = ("operational", "estate", "embodied", "embodied_residual", "travel")
# Terms that belong to a site (reported per site in `site_cost` / `site_carbon`).
SITE_COST_TERMS = ("running_wards", "site_fixed", "capital", "residual", "closure", "decommission")
SITE_CARBON_TERMS = ("estate", "embodied", "embodied_residual")
# The others belong to the patients' home footprint (`footprint_cost` / `footprint_carbon`).
FOOTPRINT_COST_TERMS = ("running_beds", "unmet", "community", "community_setup")
FOOTPRINT_CARBON_TERMS = ("operational", "travel")


def add_objective(m: pyo.ConcreteModel, data: ModelInputs, terms: SharedTerms) -> None:
    r"""Per-year terms and the objective.

    One time basis for every one-off amount: capital, embodied carbon, opening, closure and
    decommissioning are charged in the year they happen (discounted like every other cost);
    at the end of the horizon, the residual value of capital (and embodied carbon) still in use
    is credited back in the year it was spent (``residual``, ``embodied_residual``), so the
    horizon charges only the share of an asset's life it uses, and a ward removed before the
    end (its stranded capital) is charged in full.

    Costs (GBP in year t), with :math:`k_s` the site cost factor and :math:`\phi_t` the
    residual share of year t (``ModelInputs.residual_share``):

    - ``running_beds``: :math:`\sum k_s\, c^{bed}_v\, place_{f,s,v,t}`
    - ``running_wards``: :math:`\sum k_s\, c^{ward}_v\, wards_{s,v,t}`
    - ``site_fixed``: :math:`\sum F_s\, operate_{s,t}`
    - ``capital``: cash spent, :math:`\sum b_v K^{new}_v build_{s,v,t}
      + \sum b_v K^{conv}_v convert\_in_{s,v,t}
      + \sum_{cand.} K^{open}_s (operate_{s,t}-operate_{s,t-1})`
    - ``residual``: :math:`-\phi_t \big(\sum b_v K^{new}_v standing\_new_{s,v,t}
      + \sum b_v K^{conv}_v standing\_conv_{s,v,t}
      + \sum_{cand.} K^{open}_s (operate_{s,t}-operate_{s,t-1})\big)`
      (a commissioned candidate stays open, so its opening cost always earns it)
    - ``closure``: :math:`\sum K^{close}_s (operate_{s,t-1} - operate_{s,t})` (existing sites)
    - ``decommission``: :math:`\sum b_v d_v\, remove_{s,v,t} + \sum_s d^{min}_s
      \big(\sum_u b_u convert\_out_{s,u,t} - \sum_v b_v convert\_in_{s,v,t}\big)`
      (bed spaces a conversion leaves unused, at the site's lowest rate)
    - ``unmet``: :math:`\sum (c^{bed}_v + c^{ward}_v/(b_v o_v))(1+\mu_v)\, unmet_{f,v,t}`
    - ``community``: :math:`\sum c^{bed}_c\, places_{f,c,t}` (commissioned places are paid
      whether filled or not)
    - ``community_setup``: :math:`\sum K^{setup}_c (extra\_places_{f,c,t} -
      extra\_places_{f,c,t-1})`

    Carbon (tCO2e in year t), with :math:`e_s` the site estate factor:

    - ``operational``: occupied bed-days, :math:`\sum 0.365\, g_v e_s\, place` (+ unmet at
      factor 1, + community places);
    - ``estate``: :math:`\sum e_s\, \epsilon_v\, b_v\, wards_{s,v,t}` (every bed space of an
      operating ward, occupied or not);
    - ``embodied``: emitted in year t by new builds and conversions;
    - ``embodied_residual``: :math:`-\phi_t` x the embodied carbon of year t's additions still
      standing at the end;
    - ``travel``: family visits, :math:`2\, n^{visit}\, g^{car} km_{f,s}\, place /1000`
      (unmet at ``policy.unmet_km``).

    Travel: :math:`patient\_km_t = \sum km_{f,s}\, place_{f,s,v,t} + \sum km^{unmet}\, unmet`.

    .. math::

        \min \sum_t \beta_t \Big(cost_t + p_t\, carbon_t + \lambda\, patient\_km_t
            + \kappa \sum delayed_{f,v,w,t}\Big), \quad \beta_t = (1+r)^{-(t-t_0)}
    """
    cfg = data.config
    svc = data.service
    site = data.site
    first = data.years[0]
    cost_factor = site["cost_factor"].to_dict()
    carbon_factor = site["carbon_factor"].to_dict()
    status = site["status"].to_dict()
    km = data.arc_km()  # (f, s) -> km, read once for every arc
    unmet_km = cfg.policy.unmet_km
    visit_t_per_km = 2.0 * cfg.travel.visits_per_patient_year * cfg.travel.car_kg_per_km / 1000.0
    bed_day_t = {v: DAYS_PER_YEAR * float(svc.at[v, "carbon_kg_per_bed_day"]) / 1000.0
                 for v in data.services}
    c_bed = svc["cost_per_occupied_bed_gbp"].astype(float).to_dict()
    c_ward = svc["cost_per_ward_gbp"].astype(float).to_dict()
    beds = {v: float(svc.at[v, "beds_per_ward"]) for v in data.services}
    new_ward = {v: beds[v] * float(svc.at[v, "capital_new_bed_gbp"]) for v in data.inpatient}
    conv_ward = {v: beds[v] * float(svc.at[v, "capital_convert_bed_gbp"]) for v in data.inpatient}
    new_ward_t = {v: beds[v] * float(svc.at[v, "embodied_t_per_new_bed"]) for v in data.inpatient}
    conv_ward_t = {v: beds[v] * float(svc.at[v, "embodied_t_per_converted_bed"])
                   for v in data.inpatient}
    decommission_bed = {v: float(svc.at[v, "decommission_bed_gbp"]) for v in data.inpatient}
    estate_t = {v: beds[v] * float(svc.at[v, "estate_carbon_t_per_bed_year"]) for v in data.inpatient}
    setup = {c: float(svc.at[c, "setup_cost_per_place_gbp"]) for c in data.community}
    phi = data.residual_share
    services_at = terms.services_at
    conv_at = terms.conversion_services_at
    lowest_rate = {s: min(decommission_bed[v] for v in vs) for s, vs in conv_at.items() if vs}

    def prev_operate(s, t):
        if t == first:
            return 1 if data.initially_open[s] else 0
        return m.operate[s, t - 1]

    def opened(s, t):
        if status[s] != "candidate":
            return 0.0
        return float(site.at[s, "open_cost_gbp"]) * (m.operate[s, t] - prev_operate(s, t))

    def closed(s, t):
        if status[s] != "existing":
            return 0.0
        return float(site.at[s, "close_cost_gbp"]) * (prev_operate(s, t) - m.operate[s, t])

    def unused_spaces(s, t):
        return (sum(beds[u] * m.convert_out[s, u, t] for u in conv_at.get(s, []))
                - sum(beds[v] * m.convert_in[s, v, t] for v in conv_at.get(s, [])))

    def added(s, t, per_new, per_conv, new, conv):
        """Wards added at s in t (built, converted in; or those of them still standing at the
        end), valued per ward: capital, residual value and embodied carbon all use it."""
        return (sum(per_new[v] * new[s, v, t] for v in services_at.get(s, []))
                + sum(per_conv[v] * conv[s, v, t] for v in conv_at.get(s, [])))

    def site_cost(k, s, t):
        if k == "running_wards":
            return linear_sum(cost_factor[s] * c_ward[v] * m.wards[s, v, t] for v in services_at.get(s, []))
        if k == "site_fixed":
            return float(site.at[s, "fixed_cost_gbp"]) * m.operate[s, t]
        if k == "capital":
            return added(s, t, new_ward, conv_ward, m.build, m.convert_in) + opened(s, t)
        if k == "residual":
            return -phi[t] * (added(s, t, new_ward, conv_ward, m.standing_new, m.standing_conv)
                              + opened(s, t))
        if k == "closure":
            return closed(s, t)
        # decommission
        total = sum(beds[v] * decommission_bed[v] * m.remove[s, v, t] for v in services_at.get(s, []))
        if conv_at.get(s):
            total = total + lowest_rate[s] * unused_spaces(s, t)
        return total

    def site_carbon(k, s, t):
        if k == "estate":
            return linear_sum(carbon_factor[s] * estate_t[v] * m.wards[s, v, t]
                              for v in services_at.get(s, []))
        if k == "embodied":
            return added(s, t, new_ward_t, conv_ward_t, m.build, m.convert_in)
        # embodied_residual
        return -phi[t] * added(s, t, new_ward_t, conv_ward_t, m.standing_new, m.standing_conv)

    m.SITE_COST_TERMS = pyo.Set(initialize=SITE_COST_TERMS, ordered=True)
    m.SITE_CARBON_TERMS = pyo.Set(initialize=SITE_CARBON_TERMS, ordered=True)
    m.site_cost = pyo.Expression(m.SITE_COST_TERMS, m.S, m.T,
                                 rule=lambda _m, k, s, t: site_cost(k, s, t))
    m.site_carbon = pyo.Expression(m.SITE_CARBON_TERMS, m.S, m.T,
                                   rule=lambda _m, k, s, t: site_carbon(k, s, t))

    arcs_of: dict[str, list[tuple[str, str]]] = {}
    for (f, s, v) in data.arcs:
        arcs_of.setdefault(f, []).append((s, v))
    needs_of: dict[str, list[str]] = {}
    for (f, v) in data.need_pairs:
        needs_of.setdefault(f, []).append(v)
    places_of: dict[str, list[str]] = {}
    for (f, c) in m.COMMUNITY_PLACES:
        places_of.setdefault(f, []).append(c)
    unmet_cost = data.unmet_costs()
    subst_of: dict[str, list[str]] = {}
    for (f, c) in m.SUBST:
        subst_of.setdefault(f, []).append(c)

    def footprint_cost(k, f, t):
        if k == "running_beds":
            return linear_sum(cost_factor[s] * c_bed[v] * m.place[f, s, v, t]
                              for (s, v) in arcs_of.get(f, []))
        if k == "unmet":
            return linear_sum(unmet_cost[v] * m.unmet[f, v, t] for v in needs_of.get(f, []))
        if k == "community":
            return sum(c_bed[c] * terms.places[f, c, t] for c in places_of.get(f, []))
        # community_setup
        return sum(setup[c] * (m.extra_places[f, c, t]
                               - (0.0 if t == first else m.extra_places[f, c, t - 1]))
                   for c in subst_of.get(f, []))

    def footprint_carbon(k, f, t):
        if k == "operational":
            return (linear_sum(bed_day_t[v] * carbon_factor[s] * m.place[f, s, v, t]
                               for (s, v) in arcs_of.get(f, []))
                    + linear_sum(bed_day_t[v] * m.unmet[f, v, t] for v in needs_of.get(f, []))
                    + sum(bed_day_t[c] * terms.places[f, c, t] for c in places_of.get(f, [])))
        # travel
        return visit_t_per_km * (
            linear_sum(km[f, s] * m.place[f, s, v, t] for (s, v) in arcs_of.get(f, []))
            + linear_sum(unmet_km * m.unmet[f, v, t] for v in needs_of.get(f, [])))

    m.FOOTPRINTS = pyo.Set(initialize=data.footprints, ordered=True)
    m.FOOTPRINT_COST_TERMS = pyo.Set(initialize=FOOTPRINT_COST_TERMS, ordered=True)
    m.FOOTPRINT_CARBON_TERMS = pyo.Set(initialize=FOOTPRINT_CARBON_TERMS, ordered=True)
    m.footprint_cost = pyo.Expression(m.FOOTPRINT_COST_TERMS, m.FOOTPRINTS, m.T,
                                      rule=lambda _m, k, f, t: footprint_cost(k, f, t))
    m.footprint_carbon = pyo.Expression(m.FOOTPRINT_CARBON_TERMS, m.FOOTPRINTS, m.T,
                                        rule=lambda _m, k, f, t: footprint_carbon(k, f, t))

    def cost_term(k, t):
        if k in SITE_COST_TERMS:
            return sum(m.site_cost[k, s, t] for s in data.sites)
        return sum(m.footprint_cost[k, f, t] for f in data.footprints)

    def carbon_term(k, t):
        if k in SITE_CARBON_TERMS:
            return sum(m.site_carbon[k, s, t] for s in data.sites)
        return sum(m.footprint_carbon[k, f, t] for f in data.footprints)

    m.COST_TERMS = pyo.Set(initialize=COST_TERMS, ordered=True)
    m.CARBON_TERMS = pyo.Set(initialize=CARBON_TERMS, ordered=True)
    m.cost = pyo.Expression(m.COST_TERMS, m.T, rule=lambda _m, k, t: cost_term(k, t))
    m.carbon = pyo.Expression(m.CARBON_TERMS, m.T, rule=lambda _m, k, t: carbon_term(k, t))
    m.patient_km = pyo.Expression(m.T, rule=lambda _m, t: linear_sum(
        km[f, s] * m.place[f, s, v, t] for (f, s, v) in data.arcs)
        + linear_sum(unmet_km * m.unmet[f, v, t] for (f, v) in data.need_pairs))
    m.delayed_total = pyo.Expression(m.T, rule=lambda _m, t: sum(
        m.delayed[f, v, w, t] for (f, v, w) in data.stepdown_pairs))

    penalty = cfg.policy.delayed_discharge_penalty_gbp
    vot = cfg.value_of_travel_gbp_per_km
    m.objective_terms = pyo.Expression(
        ["cost_gbp", "carbon_gbp", "travel_gbp", "delay_penalty_gbp"],
        rule=lambda _m, k: {
            "cost_gbp": sum(data.discount[t] * sum(m.cost[c, t] for c in COST_TERMS) for t in data.years),
            "carbon_gbp": sum(data.discount[t] * data.carbon_price[t]
                              * sum(m.carbon[c, t] for c in CARBON_TERMS) for t in data.years),
            "travel_gbp": sum(data.discount[t] * vot * m.patient_km[t] for t in data.years),
            "delay_penalty_gbp": sum(data.discount[t] * penalty * m.delayed_total[t]
                                     for t in data.years),
        }[k])
    m.total_cost = pyo.Objective(expr=sum(m.objective_terms[k] for k in m.objective_terms),
                                 sense=pyo.minimize)
