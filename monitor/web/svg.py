"""Charts as SVG drawn on the server: they work offline, need no script, and obey the
CSP (no inline style: geometry and colour are SVG attributes, the rest classes in
static/dashboard.css). Every label is escaped — municipality names and topics come
from data files and models, post text from residents."""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

HEAT_CLASSES = 6  # heat-0 (none) … heat-5 (the busiest cell)


def _text(x: float, y: float, label, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>'
            f"{escape(str(label))}</text>")


def _svg(width: float, height: float, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


LABEL_WIDTH = 48  # pixels a short date label takes under a column


def columns(labels: list[str], series: dict[str, list[float]], title: str,
            height: int = 220) -> Markup:
    """Vertical columns per label (days), one colour class per series (`series-0`…)."""
    if not labels:
        return _svg(300, 40, [_text(10, 25, "нет данных", "muted")], title)
    top = max((v or 0) for values in series.values() for v in values) or 1
    n_series = max(1, len(series))
    slot = max(24.0, min(80.0, 700 / len(labels)))
    bar = (slot - 6) / n_series
    left, bottom, plot = 40, height - 40, height - 70
    width = max(left + slot * len(labels) + 10, left + 160 * n_series)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 5:.0f}" y2="{bottom}" class="axis"/>',
            _text(left - 4, bottom - plot + 4, _fmt(top), "tick", "end"),
            _text(left - 4, bottom + 4, "0", "tick", "end")]
    every = max(1, round(LABEL_WIDTH / slot))  # «30 ноя» needs about 48 px: no overlapping ticks
    for i, label in enumerate(labels):
        x0 = left + i * slot + 3
        for s, (name, values) in enumerate(series.items()):
            value = values[i] or 0
            h = plot * value / top
            body.append(f'<rect x="{x0 + s * bar:.1f}" y="{bottom - h:.1f}" width="{bar - 1:.1f}" '
                        f'height="{h:.1f}" class="series-{s}"><title>{escape(str(label))}: '
                        f'{escape(name)} {_fmt(value)}</title></rect>')
        if i % every == 0:
            body.append(_text(x0 + (slot - 6) / 2, bottom + 16, label, "tick", "middle"))
    for s, name in enumerate(series):
        body.append(f'<rect x="{left + s * 160}" y="6" width="12" height="12" class="series-{s}"/>')
        body.append(_text(left + s * 160 + 16, 16, name, "legend"))
    return _svg(width, height, body, title)


def bars(items: list[tuple[str, float | None]], title: str, unit: str = "",
         width: int = 720) -> Markup:
    """Horizontal bars, one per labelled value (None: no figure yet)."""
    if not items:
        return _svg(300, 40, [_text(10, 25, "нет данных", "muted")], title)
    row, label_w = 22, 300
    top = max((v or 0) for _, v in items) or 1
    plot = width - label_w - 80
    body = []
    for i, (label, value) in enumerate(items):
        y = 6 + i * row
        text = str(label)
        body.append(_text(label_w - 6, y + 14, text if len(text) <= 42 else text[:41] + "…",
                          "label", "end"))
        w = plot * (value or 0) / top
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                    f'class="series-0"><title>{escape(text)}: {_fmt(value)}{escape(unit)}</title>'
                    f"</rect>")
        body.append(_text(label_w + w + 4, y + 14, f"{_fmt(value)}{unit}", "value"))
    return _svg(width, 12 + row * len(items), body, title)


def heatmap(rows: list[str], cols: list[str], values: dict[tuple[str, str], int],
            col_titles: dict[str, str], title: str) -> Markup:
    """A grid of cells shaded by count (classes heat-0 … heat-5), the count written in."""
    if not rows or not cols:
        return _svg(300, 40, [_text(10, 25, "нет данных", "muted")], title)
    cell, label_w, head = 44, 190, 110
    top = max(values.values(), default=0) or 1
    body = []
    for c, col in enumerate(cols):
        x = label_w + c * cell + cell / 2
        body.append(f'<text x="{x:.1f}" y="{head - 6}" class="tick" '
                    f'transform="rotate(-45 {x:.1f} {head - 6})">'
                    f"{escape(col_titles.get(col, col))}</text>")
    for r, row in enumerate(rows):
        y = head + r * cell * 0.6
        body.append(_text(label_w - 6, y + 17, row, "label", "end"))
        for c, col in enumerate(cols):
            n = values.get((row, col), 0)
            level = 0 if n == 0 else 1 + min(HEAT_CLASSES - 2, int((n / top) * (HEAT_CLASSES - 1)))
            x = label_w + c * cell
            body.append(f'<rect x="{x}" y="{y:.1f}" width="{cell - 2}" height="{cell * 0.6 - 2:.1f}" '
                        f'class="heat-{level}"><title>{escape(row)} · '
                        f'{escape(col_titles.get(col, col))}: {n}</title></rect>')
            if n:
                body.append(_text(x + cell / 2 - 1, y + 17, n, f"cell heat-text-{level}", "middle"))
    return _svg(label_w + cell * len(cols) + 10, head + len(rows) * cell * 0.6 + 10, body, title)


def region_map(points: list[tuple[str, float, float, int]], title: str,
               places: dict[str, tuple[float, float]] | None = None, labelled: int = 8,
               width: int = 640, height: int = 520) -> Markup:
    """Municipalities as circles at their centres, the area proportional to the count;
    every other municipality of the region a small dot, so the shape of the region
    shows. The `labelled` largest are named (the rest in their tooltips).

    An equirectangular projection with the longitude shrunk by cos(latitude): a region
    is small enough for that to keep shapes honest; no tiles, no outlines."""
    spots = [(lat, lon) for _, lat, lon, _ in points] + list((places or {}).values())
    if not spots:
        return _svg(300, 40, [_text(10, 25, "нет координат муниципалитетов", "muted")], title)
    lats = [lat for lat, _ in spots]
    lons = [lon for _, lon in spots]
    shrink = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * shrink, 0.01)
    span_y = max(max(lats) - min(lats), 0.01)
    pad = 40
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return pad + (lon - min(lons)) * shrink * scale, pad + (max(lats) - lat) * scale

    body = []
    counted = {label for label, *_ in points}
    for label, (lat, lon) in sorted((places or {}).items()):
        if label not in counted:
            x, y = xy(lat, lon)
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="place">'
                        f"<title>{escape(label)}: 0</title></circle>")
    top = max((p[3] for p in points), default=0) or 1
    ranked = sorted(points, key=lambda p: -p[3])  # the small ones drawn last, on top
    for rank, (label, lat, lon, count) in enumerate(ranked):
        x, y = xy(lat, lon)
        r = 3 + 27 * math.sqrt(count / top)
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" class="spot">'
                    f"<title>{escape(label)}: {count}</title></circle>")
        if rank < labelled:
            below = rank % 2 == 0  # neighbours' names alternate above and below
            body.append(_text(x, y + r + 12 if below else y - r - 4, f"{label} ({count})",
                              "label", "middle"))
    return _svg(width, height, body, title)
