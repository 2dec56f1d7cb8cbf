"""The recommended configuration as GIS layers: GeoPackage with QGIS styles, maps, re-exports.

Every run writes ``configuration.gpkg`` (British National Grid, EPSG:27700) with the layers

- ``sites`` (points): each site with its provider, sector and status, the action over the
  plan and its wards and beds per service at the start of the base year and at the end of the
  final year;
- ``site_years`` (table, no geometry): ``decisions.csv`` with total wards, beds and occupied
  beds per site and year; join it to ``sites`` on ``site``;
- ``footprints`` (polygons): demand, share of need placed in the home hub, mean and maximum
  travel km, unmet need and delayed discharges of the recommended case (``kpis.csv``,
  ``allocation.csv``), with the do-nothing baseline's share and unmet need for comparison;
- ``flows`` (lines from each footprint's reference point to a site): beds by service and year;
- ``hubs`` (the footprint polygons dissolved by hub) with the hub totals;

and ``map.png`` and ``map.html``. Scenarios without footprint polygons get ``sites``,
``site_years`` and ``flows`` only.

The modules, each importing only those listed before it:

- :mod:`.styles`: the symbology and attribution every output shares;
- :mod:`.fields`: what the layers and fields mean; shapefile field names;
- :mod:`.tables`: a run's result tables, the scenario's tables, the CRSs;
- :mod:`.areas`, :mod:`.layers`: building the polygon layers, then all layers;
- :mod:`.sld`, :mod:`.qgis`: the default layer styles (SLD, QML);
- :mod:`.maps`: ``map.png`` and ``map.html``;
- :mod:`.write`: the run's GIS files and the files of each export format;
- :mod:`.export`: ``bedplan export``, re-exporting an existing run folder.
"""

from model.gis.export import FORMATS, export_run, find_scenario_folder
from model.gis.fields import describe_field, shapefile_names
from model.gis.layers import Layers, build_layers
from model.gis.qgis import layer_styles
from model.gis.styles import (
    ACTION_STYLES,
    ATTRIBUTION,
    FLOW_COLOR,
    HUB_COLOR,
    SHARE_CLASSES,
    flow_breaks,
    share_color,
)
from model.gis.tables import BNG, WGS84, RunTables
from model.gis.write import GPKG_FILE, csv_tables, write_geopackage, write_gis_outputs

__all__ = ["ACTION_STYLES", "ATTRIBUTION", "BNG", "FLOW_COLOR", "FORMATS", "GPKG_FILE", "HUB_COLOR",
           "SHARE_CLASSES", "WGS84", "Layers", "RunTables", "build_layers", "csv_tables",
           "describe_field", "export_run", "find_scenario_folder", "flow_breaks", "layer_styles",
           "shapefile_names", "share_color", "write_geopackage", "write_gis_outputs"]
