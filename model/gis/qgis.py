"""The default QGIS style of each layer (QML), stored with its SLD rendering in the
GeoPackage's ``layer_styles`` table so QGIS opens the layers styled: sites categorised by
action, footprints graduated by in-hub share, flows graduated in width by beds (with
temporal properties by year), hubs as outlines."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from model.gis.fields import describe_field
from model.gis.layers import Layers
from model.gis.sld import sld_flows, sld_footprints, sld_hubs, sld_sites
from model.gis.styles import (
    ACTION_STYLES,
    FLOW_COLOR,
    FLOW_WIDTHS_MM,
    HUB_COLOR,
    SHARE_CLASSES,
    ActionStyle,
    flow_breaks,
)

QGIS_VERSION = "3.28.0-Firenze"


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _empty_ddp(parent: ET.Element, tag: str = "data_defined_properties") -> None:
    ddp = ET.SubElement(parent, tag)
    opt = ET.SubElement(ddp, "Option", type="Map")
    ET.SubElement(opt, "Option", type="QString", name="name", value="")
    ET.SubElement(opt, "Option", name="properties")
    ET.SubElement(opt, "Option", type="QString", name="type", value="collection")


def _symbol(kind: str, name: str, layer_class: str, props: dict[str, str],
            alpha: float = 1.0) -> ET.Element:
    """A QGIS symbol with one symbol layer; properties written as <Option> (QGIS >= 3.18)
    and as <prop> (older releases read those)."""
    sym = ET.Element("symbol", type=kind, name=name, alpha=f"{alpha:g}", clip_to_extent="1",
                     force_rhr="0")
    _empty_ddp(sym)
    layer = ET.SubElement(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                         "pass": "0"})
    opts = ET.SubElement(layer, "Option", type="Map")
    for key in sorted(props):
        ET.SubElement(opts, "Option", type="QString", name=key, value=str(props[key]))
    for key in sorted(props):
        ET.SubElement(layer, "prop", k=key, v=str(props[key]))
    _empty_ddp(layer)
    return sym


def _marker(name: str, style: ActionStyle) -> ET.Element:
    return _symbol("marker", name, "SimpleMarker", {
        "name": style.qgis_marker, "color": _rgba(style.color), "angle": f"{style.angle:g}",
        "outline_color": _rgba(style.outline), "outline_style": "solid", "outline_width": "0.3",
        "outline_width_unit": "MM", "size": f"{style.size_mm:g}", "size_unit": "MM",
        "scale_method": "diameter", "joinstyle": "miter", "horizontal_anchor_point": "1",
        "vertical_anchor_point": "1", "offset": "0,0", "offset_unit": "MM"})


def _fill(name: str, color: str | None, outline: str, width_mm: float, alpha: float = 1.0,
          outline_alpha: int = 255) -> ET.Element:
    return _symbol("fill", name, "SimpleFill", {
        "color": _rgba(color) if color else "0,0,0,0", "style": "solid" if color else "no",
        "outline_color": _rgba(outline, outline_alpha), "outline_style": "solid",
        "outline_width": f"{width_mm:g}", "outline_width_unit": "MM", "joinstyle": "round",
        "offset": "0,0", "offset_unit": "MM"}, alpha)


def _line(name: str, color: str, width_mm: float, alpha: float = 1.0) -> ET.Element:
    return _symbol("line", name, "SimpleLine", {
        "line_color": _rgba(color), "line_style": "solid", "line_width": f"{width_mm:g}",
        "line_width_unit": "MM", "capstyle": "round", "joinstyle": "round", "offset": "0",
        "offset_unit": "MM"}, alpha)


def _labeling(field_expr: str, size: float, bold: bool, placement: str, color: str = "#1a1a1a",
              is_expression: bool = False, dist_mm: float = 1.2) -> ET.Element:
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", {
        "fieldName": field_expr, "isExpression": "1" if is_expression else "0",
        "fontSize": f"{size:g}", "fontSizeUnit": "Point", "fontWeight": "75" if bold else "50",
        "namedStyle": "Bold" if bold else "Regular", "textColor": _rgba(color),
        "textOpacity": "1", "multilineHeight": "1", "blendMode": "0"})
    ET.SubElement(style, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
        "bufferColor": "255,255,255,255", "bufferOpacity": "0.85", "bufferJoinStyle": "128",
        "bufferNoFill": "1", "bufferBlendMode": "0"})
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "3",
                                            "autoWrapLength": "0", "formatNumbers": "0"})
    ET.SubElement(settings, "placement", {
        "placement": placement, "dist": f"{dist_mm:g}", "distUnits": "MM",
        "placementFlags": "10", "priority": "5", "quadOffset": "4", "offsetType": "1",
        "predefinedPositionOrder": "TR,TL,BR,BL,R,L,TSR,BSR", "centroidInside": "1",
        "overlapHandling": "PreventOverlap"})
    ET.SubElement(settings, "rendering", {
        "drawLabels": "1", "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1",
        "scaleVisibility": "0", "upsidedownLabels": "0", "zIndex": "0", "maxNumLabels": "2000",
        "limitNumLabels": "0", "fontLimitPixelSize": "0", "mergeLines": "0", "labelPerPart": "0"})
    return labeling


def _qml(renderer: ET.Element, geometry_type: int, labeling: ET.Element | None,
         map_tip: str = "", aliases: dict[str, str] | None = None,
         temporal: dict[str, str] | None = None) -> str:
    categories = "Symbology|Labeling|Fields|MapTips|Rendering" + ("|Temporal" if temporal else "")
    root = ET.Element("qgis", {
        "version": QGIS_VERSION, "styleCategories": categories,
        "labelsEnabled": "1" if labeling is not None else "0",
        "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0",
        "simplifyDrawingHints": "0", "readOnly": "0"})
    if temporal:
        tmp = ET.SubElement(root, "temporal", {
            "enabled": "1", "mode": temporal["mode"], "startField": "", "endField": "",
            "durationField": "", "durationUnit": "min", "fixedDuration": "0", "accumulate": "0",
            "limitMode": "0", "startExpression": temporal.get("start", ""),
            "endExpression": temporal.get("end", "")})
        rng = ET.SubElement(tmp, "fixedRange")
        ET.SubElement(rng, "start").text = ""
        ET.SubElement(rng, "end").text = ""
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    if aliases:
        al = ET.SubElement(root, "aliases")
        for i, (name, alias) in enumerate(aliases.items()):
            ET.SubElement(al, "alias", field=name, index=str(i), name=alias)
    ET.SubElement(root, "previewExpression").text = '"name"'
    ET.SubElement(root, "mapTip").text = map_tip
    ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _renderer_ddp(renderer: ET.Element) -> None:
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")


def _aliases(columns: Iterable[str], layer: str) -> dict[str, str]:
    """Field aliases shown in QGIS: the field's description, cut at its first colon or
    parenthesis when long."""
    out = {}
    for col in columns:
        if col == "geometry":
            continue
        text = describe_field(col, layer)
        if len(text) > 60:
            text = re.split(r"[:(]", text, maxsplit=1)[0].strip()
        out[col] = text[:1].upper() + text[1:]
    return out


def qml_sites(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="categorizedSymbol", attr="action", symbollevels="0",
                          enableorderby="1", forceraster="0", referencescale="-1")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (action, style) in enumerate(ACTION_STYLES.items()):
        ET.SubElement(cats, "category", render="true", value=action, symbol=str(i),
                      label=style.label, type="string")
        symbols.append(_marker(str(i), style))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_marker("0", ACTION_STYLES["keep"]))
    # draw changed sites above unchanged ones
    order = ET.SubElement(renderer, "orderby")
    ET.SubElement(order, "orderByClause", asc="1", nullsFirst="0").text = (
        "CASE WHEN \"action\" = 'not_used' THEN 0 WHEN \"action\" = 'keep' THEN 1 ELSE 2 END")
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"site\" %])<br>[% \"provider\" %], [% \"sector\" %]<br>"
           "Action: <b>[% \"action\" %]</b><br>[% \"changes\" %]<br>"
           "Beds: [% \"beds_base\" %] → [% \"beds_final\" %]")
    return _qml(renderer, 0, _labeling("name", 8.5, False, "6"), tip, _aliases(columns, "sites"))


def qml_footprints(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="graduatedSymbol", attr="in_hub_share",
                          graduatedMethod="GraduatedColor", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, cls in enumerate(SHARE_CLASSES):
        upper = cls.upper if i < len(SHARE_CLASSES) - 1 else 1.000001  # include exactly 100%
        ET.SubElement(ranges, "range", lower=f"{cls.lower:.6f}", upper=f"{upper:.6f}",
                      symbol=str(i), label=cls.label, render="true")
        symbols.append(_fill(str(i), cls.color, "#ffffff", 0.3))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_fill("0", SHARE_CLASSES[3].color, "#ffffff", 0.3))
    method = ET.SubElement(renderer, "classificationMethod", id="EqualInterval")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision="2",
                  trimtrailingzeroes="1")
    ET.SubElement(ET.SubElement(method, "parameters"), "Option")
    ET.SubElement(method, "extraInformation")
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"footprint\" %]), hub [% \"hub\" %]<br>"
           "Placed in hub: [% format_number(\"in_hub_share\" * 100, 1) %]% "
           "(do nothing: [% format_number(\"in_hub_share_baseline\" * 100, 1) %]%)<br>"
           "Mean / max km: [% format_number(\"mean_km\", 0) %] / [% format_number(\"max_km\", 0) %]"
           "<br>Unmet (bed-years): [% format_number(\"unmet_beds\", 1) %]<br>"
           "Delayed discharges: [% format_number(\"delayed_discharges\", 1) %]")
    return _qml(renderer, 2, None, tip, _aliases(columns, "footprints"))


def qml_flows(columns: Iterable[str], breaks: list[float]) -> str:
    renderer = ET.Element("renderer-v2", type="graduatedSymbol", attr="beds",
                          graduatedMethod="GraduatedSize", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    n = len(breaks) - 1
    for i in range(n):
        lower, upper = breaks[i], breaks[i + 1]
        ET.SubElement(ranges, "range", lower=f"{lower:.6f}", upper=f"{upper:.6f}", symbol=str(i),
                      label=f"{lower:g} - {upper:g} beds", render="true")
        symbols.append(_line(str(i), FLOW_COLOR, FLOW_WIDTHS_MM[min(i, len(FLOW_WIDTHS_MM) - 1)],
                             0.7))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_line("0", FLOW_COLOR, 0.5, 0.7))
    method = ET.SubElement(renderer, "classificationMethod", id="Quantile")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2 beds", labelprecision="0",
                  trimtrailingzeroes="1")
    ET.SubElement(ET.SubElement(method, "parameters"), "Option")
    ET.SubElement(method, "extraInformation")
    _renderer_ddp(renderer)
    tip = ("[% \"footprint_name\" %] → <b>[% \"site_name\" %]</b>, [% \"year\" %]<br>"
           "[% format_number(\"beds\", 1) %] beds, [% format_number(\"km\", 0) %] km"
           "[% CASE WHEN \"in_hub\" THEN '' ELSE ' (out of hub)' END %]")
    # each feature belongs to its year: the QGIS temporal controller steps through the plan
    temporal = {"mode": "4", "start": 'make_date("year", 1, 1)',
                "end": 'make_date("year" + 1, 1, 1)'}
    return _qml(renderer, 1, None, tip, _aliases(columns, "flows"), temporal)


def qml_hubs(columns: Iterable[str]) -> str:
    renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    symbols = ET.SubElement(renderer, "symbols")
    symbols.append(_fill("0", None, HUB_COLOR, 0.9))
    _renderer_ddp(renderer)
    tip = ("<b>[% \"name\" %]</b> ([% \"hub\" %])<br>"
           "Placed in hub: [% format_number(\"in_hub_share\" * 100, 1) %]%<br>"
           "Beds: [% \"beds_base\" %] → [% \"beds_final\" %]; sites open: "
           "[% \"sites_open_base\" %] → [% \"sites_open_final\" %]")
    return _qml(renderer, 2, _labeling("name", 10, True, "1", HUB_COLOR, dist_mm=0), tip,
                _aliases(columns, "hubs"))


def layer_styles(layers: Layers) -> dict[str, tuple[str, str, str]]:
    """Layer name -> (style name, QML, SLD) for each styled layer present."""
    out = {"sites": ("bedplan: sites by action", qml_sites(layers.sites.columns), sld_sites())}
    if layers.footprints is not None:
        out["footprints"] = ("bedplan: in-hub share", qml_footprints(layers.footprints.columns),
                             sld_footprints())
    breaks = flow_breaks(layers.flows["beds"]) if len(layers.flows) else [0.0, 1.0]
    out["flows"] = ("bedplan: beds placed", qml_flows(layers.flows.columns, breaks),
                    sld_flows(breaks))
    if layers.hubs is not None:
        out["hubs"] = ("bedplan: hub outlines", qml_hubs(layers.hubs.columns), sld_hubs())
    return out



def qml_with_fields(qml: str, renames: dict[str, str]) -> str:
    """A QML style for a layer whose fields were renamed (a shapefile's 10-character names):
    every field the renderer, labels, aliases and map tips name, renamed."""
    changed = {old: new for old, new in renames.items() if old != new}
    if not changed:
        return qml
    head, _, body = qml.partition("\n")
    root = ET.fromstring(body)
    quoted = sorted(changed, key=len, reverse=True)
    for element in root.iter():
        for key in ("attr", "fieldName", "field"):
            if element.get(key) in changed:
                element.set(key, changed[element.get(key)])
        for key, value in element.attrib.items():
            element.set(key, _requote(value, quoted, changed))
        if element.text:
            element.text = _requote(element.text, quoted, changed)
    ET.indent(root, space="  ")
    return head + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def _requote(text: str, names: list[str], changed: dict[str, str]) -> str:
    """Field references inside QGIS expressions are double-quoted: "name"."""
    for old in names:
        text = text.replace(f'"{old}"', f'"{changed[old]}"')
    return text
