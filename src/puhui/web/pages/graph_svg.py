"""The picture of an enterprise's neighbourhood: a server-rendered SVG with its legend.

Drawn on the server so the console's Content Security Policy holds (no script builds it) and
the API can hand the same picture to a partner's reviewer. Every colour and size is an SVG
presentation attribute and every element has a class: the picture looks the same standalone
(``/api/v1/applications/{id}/neighbourhood.svg``) and inside a page, where the area's CSS may
refine it; it carries no ``style`` (the pages forbid inline style).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from markupsafe import escape

from puhui.graph.layout import Point, radial_layout
from puhui.graph.neighbourhood import (
    FLAGS,
    Neighbourhood,
    NeighbourNode,
)
from puhui.web.pages import i18n
from puhui.web.pages.nav import N_

Gettext = Callable[[str], str]

CATALOG: Final = "common"
"""This module's messages are the common catalog's (no page area claims it), wherever the
picture shows: the same word may read otherwise in an area ("Phone")."""

WIDTH: Final = 1000
GRAPH_HEIGHT: Final = 810
CENTRE_X, CENTRE_Y = 500.0, 415.0
RADII: Final = (0.0, 170.0, 305.0)
LABEL_WIDTH: Final = 150.0
"""Labels longer than this (in user units at 12 px) are cut with an ellipsis; the node's
tooltip keeps the whole."""
FONT: Final = (
    '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "WenQuanYi Micro Hei",'
    ' "Segoe UI", sans-serif'
)

KIND_NAMES: Final = {
    "enterprise": N_("Enterprise"),
    "person": N_("Person (ID number)"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "account": N_("Settlement account"),
    "device": N_("Device"),
    "ip": N_("IP address"),
}
KIND_FILL: Final = {
    "enterprise": "#2f6fdb",
    "person": "#7048e8",
    "phone": "#0c8599",
    "address": "#a8641a",
    "account": "#2b8a3e",
    "device": "#5c6670",
    "ip": "#846358",
}
CENTRE_FILL: Final = "#16325c"
DISTRESSED_FILL: Final = "#c92a2a"
FLAG_NAMES: Final = {
    "ring": N_("In a ring"),
    "circle": N_("In a guarantee circle"),
    "round_trip": N_("In an invoice round trip"),
    "distressed": N_("In distress"),
}
FLAG_STROKE: Final = {"ring": "#e8590c", "circle": "#9c36b5", "round_trip": "#0b7285"}
EDGE_NAMES: Final = {
    "identifier": N_("Shares an identifier"),
    "invoice": N_("Invoices (seller to buyer, 12 months)"),
    "guarantee": N_("Guarantee (guarantor to borrower)"),
}
EDGE_STROKE: Final = {"identifier": "#adb5bd", "invoice": "#1c7ed6", "guarantee": "#9c36b5"}


def _short_money(fen: int, locale: str) -> str:
    """A tie's amount in a few characters: ``12.3万`` / ``123.4k``."""
    yuan = fen / 100
    if locale == "en":
        for size, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if yuan >= size:
                return f"{yuan / size:.1f}{unit}"
        return f"{yuan:.0f}"
    for size, unit in ((1e8, "亿"), (1e4, "万")):
        if yuan >= size:
            return f"{yuan / size:.1f}{unit}"
    return f"{yuan:.0f}"


def _short(label: str, width: float = LABEL_WIDTH) -> str:
    if _text_width(label, 12) <= width:
        return label
    while label and _text_width(label + "…", 12) > width:
        label = label[:-1]
    return label + "…"


def _xy(point: Point) -> tuple[float, float]:
    depth = round(math.hypot(point.x, point.y))
    scale = RADII[min(depth, 2)] / depth if depth else 0.0
    return CENTRE_X + point.x * scale, CENTRE_Y + point.y * scale


def _r(node: NeighbourNode) -> float:
    return 20.0 if node.depth == 0 else 11.0


def _f(value: float) -> str:
    return f"{value:.1f}"


def _text_width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


class _Svg:
    """An SVG document written element by element, every text escaped."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, tag: str, body: str | None = None, /, **attributes: str | float) -> None:
        attrs = "".join(
            f' {name.rstrip("_").replace("_", "-")}="{escape(_value(value))}"'
            for name, value in attributes.items()
        )
        if body is None:
            self.parts.append(f"<{tag}{attrs}/>")
        else:
            self.parts.append(f"<{tag}{attrs}>{escape(body)}</{tag}>")

    def open(self, tag: str, /, **attributes: str | float) -> None:
        attrs = "".join(
            f' {name.rstrip("_").replace("_", "-")}="{escape(_value(value))}"'
            for name, value in attributes.items()
        )
        self.parts.append(f"<{tag}{attrs}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")


def _value(value: str | float) -> str:
    return _f(value) if isinstance(value, float) else str(value)


def neighbourhood_svg(hood: Neighbourhood, locale: str, *, element_id: str = "graph") -> str:
    """The picture of ``hood`` in ``locale``: an ``<svg>`` element, also a document on its own."""
    gettext = i18n.translations(locale, CATALOG).gettext
    points = {node: _xy(point) for node, point in radial_layout(hood).items()}
    nodes = {n.node: n for n in hood.nodes}
    centre = nodes[hood.centre]
    legend, legend_height = _legend(hood, gettext, element_id)
    height = GRAPH_HEIGHT + legend_height
    svg = _Svg()
    svg.open(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {height}",
        width=WIDTH,
        height=height,
        role="img",
        aria_labelledby=f"{element_id}-title {element_id}-desc",
        font_family=FONT,
        class_="neighbourhood",
        id=element_id,
    )
    svg.add(
        "title",
        gettext("Relationship graph of %(name)s") % {"name": centre.label},
        id=f"{element_id}-title",
    )
    shown_enterprises = sum(1 for n in hood.nodes if n.kind == "enterprise") - 1
    svg.add(
        "desc",
        gettext(
            "%(name)s and the %(shown)s nodes tied to it most closely (%(enterprises)s of them"
            " enterprises; %(hidden)s more not drawn), from the graph of %(month)s."
        )
        % {
            "name": centre.label,
            "shown": len(hood.nodes) - 1,
            "enterprises": shown_enterprises,
            "hidden": hood.hidden,
            "month": hood.as_of.strftime("%Y-%m"),
        },
        id=f"{element_id}-desc",
    )
    _defs(svg, element_id)
    svg.add("rect", x=0, y=0, width=WIDTH, height=height, fill="#ffffff", class_="backdrop")
    for depth in (1, 2):
        if any(n.depth == depth for n in hood.nodes):
            svg.add(
                "circle",
                cx=CENTRE_X,
                cy=CENTRE_Y,
                r=RADII[depth],
                fill="none",
                stroke="#e9ecef",
                stroke_dasharray="2 6",
                class_="orbit",
            )
    svg.add(
        "text",
        gettext("Graph of %(month)s · %(shown)s of %(total)s nodes drawn")
        % {
            "month": hood.as_of.strftime("%Y-%m"),
            "shown": len(hood.nodes),
            "total": len(hood.nodes) + hood.hidden,
        },
        x=16,
        y=26,
        font_size=13,
        fill="#57606a",
        class_="caption",
    )
    _edges(svg, hood, points, nodes, locale=locale, prefix=element_id)
    for node in hood.nodes:
        _node(svg, node, points[node.node], hood, gettext)
    svg.parts.append(legend)
    svg.close("svg")
    return "".join(svg.parts)


def _defs(svg: _Svg, prefix: str) -> None:
    svg.open("defs")
    for kind in ("invoice", "guarantee"):
        svg.open(
            "marker",
            id=f"{prefix}-arrow-{kind}",
            viewBox="0 0 10 10",
            refX=9,
            refY=5,
            markerUnits="userSpaceOnUse",
            markerWidth=12,
            markerHeight=12,
            orient="auto-start-reverse",
        )
        svg.add("path", d="M0,0 L10,5 L0,10 z", fill=EDGE_STROKE[kind])
        svg.close("marker")
    svg.close("defs")


def _edge_kind(kind: str) -> str:
    return kind if kind in ("invoice", "guarantee") else "identifier"


def _edges(
    svg: _Svg,
    hood: Neighbourhood,
    points: dict[str, tuple[float, float]],
    nodes: dict[str, NeighbourNode],
    *,
    locale: str,
    prefix: str,
) -> None:
    pairs = {(e.src, e.dst, _edge_kind(e.kind)) for e in hood.edges}
    largest = max((e.amount_fen or 0 for e in hood.edges), default=0)
    svg.open("g", class_="ties")
    for edge in hood.edges:
        kind = _edge_kind(edge.kind)
        (x1, y1), (x2, y2) = points[edge.src], points[edge.dst]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        # Start and end at the nodes' rims, so arrowheads show.
        x1, y1 = x1 + ux * (_r(nodes[edge.src]) + 3), y1 + uy * (_r(nodes[edge.src]) + 3)
        x2, y2 = x2 - ux * (_r(nodes[edge.dst]) + 4), y2 - uy * (_r(nodes[edge.dst]) + 4)
        # Ties both ways between two enterprises bend apart instead of overlapping.
        bend = 22.0 if (edge.dst, edge.src, kind) in pairs else 0.0
        cx, cy = (x1 + x2) / 2 - uy * bend, (y1 + y2) / 2 + ux * bend
        width = 1.2
        if kind != "identifier" and largest:
            width = 1.5 + 3.0 * math.log1p(edge.amount_fen or 0) / math.log1p(largest)
        attributes: dict[str, str | float] = {
            "d": f"M{_f(x1)},{_f(y1)} Q{_f(cx)},{_f(cy)} {_f(x2)},{_f(y2)}",
            "fill": "none",
            "stroke": EDGE_STROKE[kind],
            "stroke_width": width,
            "class_": f"tie tie-{kind}",
        }
        if kind != "identifier":
            attributes["marker_end"] = f"url(#{prefix}-arrow-{kind})"
        if kind == "guarantee":
            attributes["stroke_dasharray"] = "7 4"
        svg.add("path", **attributes)
        if kind != "identifier" and edge.amount_fen:
            # Three fifths of the way out on the curve, off it to the side it bends to.
            side = 1.0 if bend else -1.0
            mx = 0.16 * x1 + 0.48 * cx + 0.36 * x2 - uy * 12 * side
            my = 0.16 * y1 + 0.48 * cy + 0.36 * y2 + ux * 12 * side
            svg.add(
                "text",
                _short_money(edge.amount_fen, locale),
                x=mx,
                y=my + 4,
                font_size=11,
                text_anchor="middle",
                fill=EDGE_STROKE[kind],
                stroke="#ffffff",
                stroke_width=3,
                paint_order="stroke",
                class_="tie-amount",
            )
    svg.close("g")


def _node(
    svg: _Svg,
    node: NeighbourNode,
    at: tuple[float, float],
    hood: Neighbourhood,
    gettext: Gettext,
) -> None:
    x, y = at
    r = _r(node)
    drawn = sum(1 for e in hood.edges if node.node in (e.src, e.dst))
    more = max(0, node.degree - drawn)
    classes = " ".join(
        ["node", f"node-{node.kind}", *(f"flag-{f}" for f in node.flags)]
        + (["centre"] if node.depth == 0 else [])
    )
    svg.open("g", class_=classes)
    tip = [node.label, gettext(KIND_NAMES.get(node.kind, node.kind))]
    tip += [gettext(FLAG_NAMES[f]) for f in node.flags]
    if more:
        tip.append(gettext("%(n)s more ties not drawn") % {"n": more})
    svg.add("title", " · ".join(tip))
    for i, flag in enumerate(f for f in node.flags if f in FLAG_STROKE):
        svg.add(
            "circle",
            cx=x,
            cy=y,
            r=r + 4.5 + 4.5 * i,
            fill="none",
            stroke=FLAG_STROKE[flag],
            stroke_width=3,
            class_=f"flag flag-{flag}",
        )
    fill = KIND_FILL.get(node.kind, "#5c6670")
    if node.depth == 0:
        fill = CENTRE_FILL
    if "distressed" in node.flags:
        fill = DISTRESSED_FILL
    if node.kind == "enterprise":
        svg.add("circle", cx=x, cy=y, r=r, fill=fill, stroke="#ffffff", stroke_width=2)
    else:
        svg.add(
            "rect",
            x=x - r,
            y=y - r,
            width=2 * r,
            height=2 * r,
            rx=3,
            fill=fill,
            stroke="#ffffff",
            stroke_width=2,
            transform=f"rotate(45 {_f(x)} {_f(y)})",
        )
    _label(svg, node, at, more, leaf=not any(n.parent == node.node for n in hood.nodes))
    svg.close("g")


def _label(
    svg: _Svg, node: NeighbourNode, at: tuple[float, float], more: int, *, leaf: bool
) -> None:
    (x, y) = at
    # Clear of the node and of its flag rings.
    r = _r(node) + 4.5 * sum(1 for f in node.flags if f in FLAG_STROKE)
    text = _short(node.label, LABEL_WIDTH * (1.8 if node.depth == 0 else 1.0))
    text += f" +{more}" if more else ""
    halo: dict[str, str | float] = {
        "stroke": "#ffffff",
        "stroke_width": 4,
        "paint_order": "stroke",
        "fill": "#1f2328",
    }
    if node.depth == 0:
        svg.add(
            "text",
            text,
            x=x,
            y=y + r + 24,
            font_size=15,
            font_weight=700,
            text_anchor="middle",
            class_="label label-centre",
            **halo,
        )
        return
    angle = math.atan2(y - CENTRE_Y, x - CENTRE_X)
    cos, sin = math.cos(angle), math.sin(angle)
    if node.depth == 1:
        if leaf:
            # Outward, where no tie goes.
            anchor = "start" if cos > 0.35 else "end" if cos < -0.35 else "middle"
            dx = (r + 7) * (1 if anchor == "start" else -1 if anchor == "end" else 0)
            dy = 4.0 if anchor != "middle" else (r + 15 if sin > 0 else -(r + 7))
        elif abs(cos) >= abs(sin):
            # Beside the ties that go on outward: under a node left or right of the centre,
            anchor, dx, dy = "middle", 0.0, r + 15
        else:
            # and to the right of one above or below it.
            anchor, dx, dy = "start", r + 7, 4.0
        svg.add(
            "text",
            text,
            x=x + dx,
            y=y + dy,
            font_size=12.5,
            text_anchor=anchor,
            class_="label",
            **halo,
        )
        return
    # The outer ring: labels point away from the centre, never upside down.
    degrees = math.degrees(angle)
    left = cos < 0
    lx, ly = x + cos * (r + 6), y + sin * (r + 6)
    svg.add(
        "text",
        text,
        x=lx,
        y=ly + 4,
        font_size=12,
        text_anchor="end" if left else "start",
        transform=f"rotate({_f(degrees + 180 if left else degrees)} {_f(lx)} {_f(ly)})",
        class_="label",
        **halo,
    )


def _legend(hood: Neighbourhood, gettext: Gettext, prefix: str) -> tuple[str, float]:
    """The legend of what this picture shows, in rows under it, and the height it takes."""
    entries: list[tuple[str, str, str]] = [("centre", "", gettext("The applicant"))]
    kinds = sorted({n.kind for n in hood.nodes if n.depth > 0}, key=_kind_order)
    entries += [("kind", kind, gettext(KIND_NAMES.get(kind, kind))) for kind in kinds]
    flags = {f for n in hood.nodes for f in n.flags}
    entries += [("flag", f, gettext(FLAG_NAMES[f])) for f in FLAGS if f in flags]
    ties = {_edge_kind(e.kind) for e in hood.edges}
    entries += [("tie", t, gettext(EDGE_NAMES[t])) for t in EDGE_NAMES if t in ties]
    svg = _Svg()
    svg.open("g", class_="legend")
    x, y, row = 24.0, GRAPH_HEIGHT + 8.0, 28.0
    svg.add(
        "line", x1=16, y1=GRAPH_HEIGHT - 8, x2=WIDTH - 16, y2=GRAPH_HEIGHT - 8, stroke="#d0d7de"
    )
    for kind, key, label in entries:
        width = 34 + _text_width(label, 12.5)
        if x + width > WIDTH - 16:
            x, y = 24.0, y + row
        _legend_mark(svg, kind, key, (x + 8, y + 10), prefix)
        svg.add("text", label, x=x + 24, y=y + 14, font_size=12.5, fill="#1f2328")
        x += width + 14
    svg.close("g")
    return "".join(svg.parts), y - GRAPH_HEIGHT + row + 8


def _kind_order(kind: str) -> int:
    order = list(KIND_NAMES)
    return order.index(kind) if kind in order else len(order)


def _legend_mark(svg: _Svg, kind: str, key: str, at: tuple[float, float], prefix: str) -> None:
    x, y = at
    if kind == "centre":
        svg.add("circle", cx=x, cy=y, r=8, fill=CENTRE_FILL)
    elif kind == "kind" and key == "enterprise":
        svg.add("circle", cx=x, cy=y, r=7, fill=KIND_FILL[key])
    elif kind == "kind":
        svg.add(
            "rect",
            x=x - 6,
            y=y - 6,
            width=12,
            height=12,
            rx=2,
            fill=KIND_FILL.get(key, "#5c6670"),
            transform=f"rotate(45 {_f(x)} {_f(y)})",
        )
    elif kind == "flag" and key == "distressed":
        svg.add("circle", cx=x, cy=y, r=7, fill=DISTRESSED_FILL)
    elif kind == "flag":
        svg.add("circle", cx=x, cy=y, r=7, fill="none", stroke=FLAG_STROKE[key], stroke_width=3)
    else:
        attributes: dict[str, str | float] = {"stroke": EDGE_STROKE[key], "stroke_width": 2}
        if key == "guarantee":
            attributes["stroke_dasharray"] = "5 3"
        if key != "identifier":
            attributes["marker_end"] = f"url(#{prefix}-arrow-{key})"
        svg.add("line", x1=x - 9, y1=y, x2=x + 9, y2=y, **attributes)
