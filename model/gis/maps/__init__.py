"""Maps of the recommended configuration: a static ``map.png`` (:mod:`.static`) and an
interactive ``map.html`` (:mod:`.web`).

Both use the symbology of :mod:`model.gis.styles`, as the QGIS styles do: footprints shaded
by the share of need placed in the home hub, hub boundaries, sites marked by their action over
the plan; and both carry the ONS/OS attribution.
"""

from model.gis.maps.static import render_png
from model.gis.maps.web import render_html

__all__ = ["render_html", "render_png"]
