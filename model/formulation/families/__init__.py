"""One module per constraint family; each exposes ``add_<family>(model, data)``.

The builder calls them in the order of ``FAMILIES``.
"""

from model.constraints.aggregate import add_aggregate
from model.constraints.capacity import add_capacity
from model.constraints.community import add_community
from model.constraints.demand import add_demand
from model.constraints.linking import add_linking
from model.constraints.pathway import add_pathway
from model.constraints.residual import add_residual
from model.constraints.site import add_site
from model.constraints.site_count import add_site_count
from model.constraints.stability import add_stability
from model.constraints.timing import add_timing
from model.constraints.ward_balance import add_ward_balance

FAMILIES = (
    ("community", add_community),
    ("demand", add_demand),
    ("capacity", add_capacity),
    ("aggregate", add_aggregate),
    ("site", add_site),
    ("site_count", add_site_count),
    ("linking", add_linking),
    ("ward_balance", add_ward_balance),
    ("timing", add_timing),
    ("pathway", add_pathway),
    ("stability", add_stability),
    ("residual", add_residual),
)

__all__ = ["FAMILIES"]
