"""SLD 1.1 renderings of the layer styles, for clients other than QGIS (stored beside the
QML in ``layer_styles``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from model.gis.styles import ACTION_STYLES, FLOW_COLOR, FLOW_WIDTHS_MM, HUB_COLOR, SHARE_CLASSES

SLD_NS = {"sld": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se",
          "ogc": "http://www.opengis.net/ogc", "xlink": "http://www.w3.org/1999/xlink",
          "xsi": "http://www.w3.org/2001/XMLSchema-instance"}


for _prefix, _uri in SLD_NS.items():
    ET.register_namespace(_prefix if _prefix != "sld" else "", _uri)


def _q(prefix: str, tag: str) -> str:
    return f"{{{SLD_NS[prefix]}}}{tag}"


def _sld(layer: str, rules: list[ET.Element]) -> str:
    root = ET.Element(_q("sld", "StyledLayerDescriptor"), {
        "version": "1.1.0",
        _q("xsi", "schemaLocation"): "http://www.opengis.net/sld "
                                     "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"})
    named = ET.SubElement(root, _q("sld", "NamedLayer"))
    ET.SubElement(named, _q("se", "Name")).text = layer
    style = ET.SubElement(named, _q("sld", "UserStyle"))
    ET.SubElement(style, _q("se", "Name")).text = layer
    fts = ET.SubElement(style, _q("se", "FeatureTypeStyle"))
    fts.extend(rules)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _sld_param(parent: ET.Element, tag: str, name: str, value: str) -> None:
    ET.SubElement(parent, _q("se", tag), name=name).text = value


def _sld_rule(name: str, filt: ET.Element | None, symbolizer: ET.Element) -> ET.Element:
    rule = ET.Element(_q("se", "Rule"))
    ET.SubElement(rule, _q("se", "Name")).text = name
    desc = ET.SubElement(rule, _q("se", "Description"))
    ET.SubElement(desc, _q("se", "Title")).text = name
    if filt is not None:
        rule.append(filt)
    rule.append(symbolizer)
    return rule


def _ogc_compare(op: str, prop: str, value: str) -> ET.Element:
    el = ET.Element(_q("ogc", op))
    ET.SubElement(el, _q("ogc", "PropertyName")).text = prop
    ET.SubElement(el, _q("ogc", "Literal")).text = value
    return el


def _ogc_range(prop: str, lower: float, upper: float, last: bool) -> ET.Element:
    filt = ET.Element(_q("ogc", "Filter"))
    both = ET.SubElement(filt, _q("ogc", "And"))
    both.append(_ogc_compare("PropertyIsGreaterThanOrEqualTo", prop, f"{lower:g}"))
    both.append(_ogc_compare("PropertyIsLessThanOrEqualTo" if last else "PropertyIsLessThan",
                             prop, f"{upper:g}"))
    return filt


_SLD_MARKS = {"circle": "circle", "triangle": "triangle", "diamond": "square", "star": "star",
              "cross_fill": "cross"}


def sld_sites() -> str:
    rules = []
    for action, style in ACTION_STYLES.items():
        filt = ET.Element(_q("ogc", "Filter"))
        filt.append(_ogc_compare("PropertyIsEqualTo", "action", action))
        sym = ET.Element(_q("se", "PointSymbolizer"))
        graphic = ET.SubElement(sym, _q("se", "Graphic"))
        mark = ET.SubElement(graphic, _q("se", "Mark"))
        ET.SubElement(mark, _q("se", "WellKnownName")).text = _SLD_MARKS[style.qgis_marker]
        fill = ET.SubElement(mark, _q("se", "Fill"))
        _sld_param(fill, "SvgParameter", "fill", style.color)
        stroke = ET.SubElement(mark, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", style.outline)
        _sld_param(stroke, "SvgParameter", "stroke-width", "1")
        ET.SubElement(graphic, _q("se", "Size")).text = f"{style.size_mm * 3.78:.0f}"
        angle = style.angle + (45 if style.qgis_marker == "diamond" else 0)
        if angle:
            ET.SubElement(graphic, _q("se", "Rotation")).text = f"{angle:g}"
        rules.append(_sld_rule(style.label, filt, sym))
    return _sld("sites", rules)


def sld_footprints() -> str:
    rules = []
    for i, cls in enumerate(SHARE_CLASSES):
        sym = ET.Element(_q("se", "PolygonSymbolizer"))
        fill = ET.SubElement(sym, _q("se", "Fill"))
        _sld_param(fill, "SvgParameter", "fill", cls.color)
        stroke = ET.SubElement(sym, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", "#ffffff")
        _sld_param(stroke, "SvgParameter", "stroke-width", "1")
        rules.append(_sld_rule(cls.label, _ogc_range("in_hub_share", cls.lower, cls.upper,
                                                     i == len(SHARE_CLASSES) - 1), sym))
    return _sld("footprints", rules)


def sld_flows(breaks: list[float]) -> str:
    rules = []
    n = len(breaks) - 1
    for i in range(n):
        sym = ET.Element(_q("se", "LineSymbolizer"))
        stroke = ET.SubElement(sym, _q("se", "Stroke"))
        _sld_param(stroke, "SvgParameter", "stroke", FLOW_COLOR)
        _sld_param(stroke, "SvgParameter", "stroke-opacity", "0.7")
        width = FLOW_WIDTHS_MM[min(i, len(FLOW_WIDTHS_MM) - 1)] * 3.78
        _sld_param(stroke, "SvgParameter", "stroke-width", f"{width:.1f}")
        _sld_param(stroke, "SvgParameter", "stroke-linecap", "round")
        rules.append(_sld_rule(f"{breaks[i]:g} - {breaks[i + 1]:g} beds",
                               _ogc_range("beds", breaks[i], breaks[i + 1], i == n - 1), sym))
    return _sld("flows", rules)


def sld_hubs() -> str:
    sym = ET.Element(_q("se", "PolygonSymbolizer"))
    stroke = ET.SubElement(sym, _q("se", "Stroke"))
    _sld_param(stroke, "SvgParameter", "stroke", HUB_COLOR)
    _sld_param(stroke, "SvgParameter", "stroke-width", "3.4")
    return _sld("hubs", [_sld_rule("Hub boundary", None, sym)])
