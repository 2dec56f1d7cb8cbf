"""One module per constraint family; each exposes ``add_<family>(model, data, terms)``, which
returns its constraint components with their roles (``model/formulation/roles.py``).

The builder calls them in the order of ``FAMILIES``. The in-hub rule has two entries (its
implied hub capacity rows next to the national ones, its share rows before the pathway) so that
the rows reach the solver in the order they always have: HiGHS's path, and so the plan it
returns within the gap, depends on that order.
"""

from model.formulation.families.aggregate import add_aggregate
from model.formulation.families.capacity import add_capacity
from model.formulation.families.community import add_community
from model.formulation.families.demand import add_demand
from model.formulation.families.fairness import add_fairness
from model.formulation.families.fixed_decisions import add_fixed_decisions
from model.formulation.families.in_hub import add_hub_capacity, add_in_hub_share
from model.formulation.families.linking import add_linking
from model.formulation.families.pathway import add_pathway
from model.formulation.families.residual import add_residual
from model.formulation.families.site import add_site
from model.formulation.families.site_count import add_site_count
from model.formulation.families.stability import add_stability
from model.formulation.families.timing import add_timing
from model.formulation.families.ward_balance import add_ward_balance

FAMILIES = (
    ("community", add_community),
    ("demand", add_demand),
    ("capacity", add_capacity),
    ("aggregate", add_aggregate),
    ("in_hub", add_hub_capacity),
    ("site", add_site),
    ("site_count", add_site_count),
    ("linking", add_linking),
    ("ward_balance", add_ward_balance),
    ("timing", add_timing),
    ("in_hub", add_in_hub_share),
    ("pathway", add_pathway),
    ("stability", add_stability),
    ("residual", add_residual),
    ("fixed_decisions", add_fixed_decisions),
    ("fairness", add_fairness),
)

__all__ = ["FAMILIES"]
