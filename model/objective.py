"""The objective: discounted cost + carbon price x tCO2e + value of travel x patient-km.

Every term is built as a named per-year expression, so that each can be reported on its own.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.inputs import DAYS_PER_YEAR, ModelInputs

COST_TERMS = ("running_beds", "running_wards", "site_fixed", "capital", "closure", "unmet",
              "community")
CARBON_TERMS = ("operational", "embodied", "travel")


def add_objective(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    r"""Per-year terms and the objective.

    Costs (GBP in year t), with :math:`k_s` the site cost factor:

    - ``running_beds``: :math:`\sum k_s\, c^{bed}_v\, place_{f,s,v,t}`
    - ``running_wards``: :math:`\sum k_s\, c^{ward}_v\, wards_{s,v,t}`
    - ``site_fixed``: :math:`\sum F_s\, operate_{s,t}`
    - ``capital``: annuity :math:`a` (``discount_rate``, ``asset_life_years``) on all capital
      completed in the asset life up to t (:math:`t - life < \tau \le t`):
      :math:`a\sum_{\tau}\big(\sum b_v K^{new}_v build_{s,v,\tau}
      + \sum b_v K^{conv}_v convert_{s,u,v,\tau} + K^{open}_s\,(operate_{s,\tau}-operate_{s,\tau-1})\big)`
      (candidates only for the opening term), so a late build is not favoured by the horizon end;
    - ``closure``: :math:`\sum K^{close}_s (operate_{s,t-1} - operate_{s,t})` (existing sites);
    - ``unmet``: :math:`\sum (c^{bed}_v + c^{ward}_v/(b_v o_v))(1+\mu_v)\, unmet_{f,v,t}`;
    - ``community``: :math:`\sum c^{bed}_c\, places_{f,c,t}`.

    Carbon (tCO2e in year t), with :math:`e_s` the site estate factor:

    - ``operational``: :math:`\sum 365\, g_v e_s\, place /1000` (+ unmet at factor 1, + places);
    - ``embodied``: new build and conversion embodied carbon spread evenly over the asset life;
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
    km = data.km
    unmet_km = cfg.policy.unmet_km
    visit_t_per_km = 2.0 * cfg.travel.visits_per_patient_year * cfg.travel.car_kg_per_km / 1000.0
    bed_day_t = {v: DAYS_PER_YEAR * float(svc.at[v, "carbon_kg_per_bed_day"]) / 1000.0
                 for v in data.services}
    c_bed = svc["cost_per_occupied_bed_gbp"].astype(float).to_dict()
    c_ward = svc["cost_per_ward_gbp"].astype(float).to_dict()
    beds = {v: float(svc.at[v, "beds_per_ward"]) for v in data.services}

    def prev_operate(s, t):
        if t == first:
            return 1 if data.initially_open[s] else 0
        return m.operate[s, t - 1]

    def capital_spent(t):
        total = sum(beds[v] * float(svc.at[v, "capital_new_bed_gbp"]) * m.build[s, v, t]
                    for (s, v) in data.site_services)
        total += sum(beds[v] * float(svc.at[v, "capital_convert_bed_gbp"]) * m.convert[s, u, v, t]
                     for (s, u, v) in data.conversions)
        total += sum(float(site.at[s, "open_cost_gbp"]) * (m.operate[s, t] - prev_operate(s, t))
                     for s in data.sites if status[s] == "candidate")
        return total

    def embodied_added(t):
        return sum(beds[v] * float(svc.at[v, "embodied_t_per_new_bed"]) * m.build[s, v, t]
                   for (s, v) in data.site_services) + sum(
            beds[v] * float(svc.at[v, "embodied_t_per_converted_bed"]) * m.convert[s, u, v, t]
            for (s, u, v) in data.conversions)

    m.capital_spent = pyo.Expression(m.T, rule=lambda _m, t: capital_spent(t))
    m.embodied_added = pyo.Expression(m.T, rule=lambda _m, t: embodied_added(t))
    life = float(cfg.asset_life_years)

    def in_life(t):
        """Years whose capital is still being paid for (and its carbon spread) in year t."""
        return [tau for tau in data.years if t - cfg.asset_life_years < tau <= t]

    terms = {
        "running_beds": lambda t: sum(cost_factor[s] * c_bed[v] * m.place[f, s, v, t]
                                      for (f, s, v) in data.arcs),
        "running_wards": lambda t: sum(cost_factor[s] * c_ward[v] * m.wards[s, v, t]
                                       for (s, v) in data.site_services),
        "site_fixed": lambda t: sum(float(site.at[s, "fixed_cost_gbp"]) * m.operate[s, t]
                                    for s in data.sites),
        "capital": lambda t: data.annuity_factor * sum(m.capital_spent[tau] for tau in in_life(t)),
        "closure": lambda t: sum(float(site.at[s, "close_cost_gbp"]) * (prev_operate(s, t) - m.operate[s, t])
                                 for s in data.sites if status[s] == "existing"),
        "unmet": lambda t: sum(data.unmet_cost_per_bed(v) * m.unmet[f, v, t] for (f, v) in data.need_pairs),
        "community": lambda t: sum(c_bed[c] * m.places[f, c, t] for (f, c) in m.COMMUNITY_PLACES),
    }
    carbon = {
        "operational": lambda t: sum(bed_day_t[v] * carbon_factor[s] * m.place[f, s, v, t]
                                     for (f, s, v) in data.arcs)
        + sum(bed_day_t[v] * m.unmet[f, v, t] for (f, v) in data.need_pairs)
        + sum(bed_day_t[c] * m.places[f, c, t] for (f, c) in m.COMMUNITY_PLACES),
        "embodied": lambda t: sum(m.embodied_added[tau] for tau in in_life(t)) / life,
        "travel": lambda t: visit_t_per_km * (
            sum(float(km.at[f, s]) * m.place[f, s, v, t] for (f, s, v) in data.arcs)
            + sum(unmet_km * m.unmet[f, v, t] for (f, v) in data.need_pairs)),
    }
    m.COST_TERMS = pyo.Set(initialize=COST_TERMS, ordered=True)
    m.CARBON_TERMS = pyo.Set(initialize=CARBON_TERMS, ordered=True)
    m.cost = pyo.Expression(m.COST_TERMS, m.T, rule=lambda _m, k, t: terms[k](t))
    m.carbon = pyo.Expression(m.CARBON_TERMS, m.T, rule=lambda _m, k, t: carbon[k](t))
    m.patient_km = pyo.Expression(m.T, rule=lambda _m, t: sum(
        float(km.at[f, s]) * m.place[f, s, v, t] for (f, s, v) in data.arcs)
        + sum(unmet_km * m.unmet[f, v, t] for (f, v) in data.need_pairs))
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
