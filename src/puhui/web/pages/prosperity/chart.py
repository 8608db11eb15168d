"""One cell's prosperity index by month as a server-rendered SVG (the console's CSP forbids
script-built pictures and inline style: every colour is a presentation attribute).

The y axis is fixed at 0-100 with the neutral 50 marked, so cells compare at a glance; a
suppressed month is a grey band and the line breaks there (a gap, never an interpolation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from puhui.services.reporting.prosperity import IndexPoint

WIDTH: Final = 360
HEIGHT: Final = 150
LEFT, RIGHT, TOP, BOTTOM = 30.0, 8.0, 10.0, 22.0
LINE: Final = "#2f6fdb"
BELOW: Final = "#c92a2a"
SUPPRESSED: Final = "#dee2e6"
AXIS: Final = "#868e96"


def _f(value: float) -> str:
    return f"{value:.1f}"


def index_svg(points: Sequence[IndexPoint], *, label: str, suppressed_label: str) -> Markup:
    """The SVG of ``points`` (months in order); ``label`` names the picture for screen
    readers, ``suppressed_label`` is the tooltip of a suppressed month."""
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    count = len(points)
    step = inner_w / max(count - 1, 1)

    def x(k: int) -> float:
        return LEFT + k * step

    def y(value: float) -> float:
        return TOP + (100.0 - value) / 100.0 * inner_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="prosperity-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for k, point in enumerate(points):
        if point.suppressed:
            parts.append(
                f'<rect class="suppressed" x="{_f(x(k) - step / 2)}" y="{_f(TOP)}" '
                f'width="{_f(step)}" height="{_f(inner_h)}" fill="{SUPPRESSED}">'
                f"<title>{escape(f'{point.month:%Y-%m}')}: {escape(suppressed_label)}</title>"
                "</rect>"
            )
    for value in (0, 50, 100):
        dash = ' stroke-dasharray="4 3"' if value == 50 else ""
        parts.append(
            f'<line x1="{_f(LEFT)}" x2="{_f(WIDTH - RIGHT)}" y1="{_f(y(value))}" '
            f'y2="{_f(y(value))}" stroke="{AXIS}" stroke-width="0.6"{dash}/>'
            f'<text x="{_f(LEFT - 4)}" y="{_f(y(value) + 3)}" font-size="9" '
            f'text-anchor="end" fill="{AXIS}">{value}</text>'
        )
    path: list[str] = []
    pen_up = True
    for k, point in enumerate(points):
        if point.index is None:
            pen_up = True
            continue
        path.append(f"{'M' if pen_up else 'L'}{_f(x(k))} {_f(y(point.index))}")
        pen_up = False
    if path:
        parts.append(
            f'<path class="index-line" d="{" ".join(path)}" fill="none" stroke="{LINE}" '
            'stroke-width="1.8" stroke-linejoin="round"/>'
        )
    for k, point in enumerate(points):
        if point.index is not None:
            colour = BELOW if point.index < 50 else LINE
            parts.append(
                f'<circle class="index-point" cx="{_f(x(k))}" cy="{_f(y(point.index))}" r="1.8" '
                f'fill="{colour}"><title>{point.month:%Y-%m}: {point.index:.1f} '
                f"({point.enterprises})</title></circle>"
            )
    if points:
        for k in sorted({0, count - 1}):
            parts.append(
                f'<text x="{_f(x(k))}" y="{_f(HEIGHT - 6)}" font-size="9" fill="{AXIS}" '
                f'text-anchor="{"start" if k == 0 else "end"}">{points[k].month:%Y-%m}</text>'
            )
    parts.append("</svg>")
    # Every text written into it went through escape(); numbers are formatted here.
    return Markup("".join(parts))  # noqa: S704
