"""One self-contained HTML page from a comparison: tables, inline SVG charts, disagreements.

No script, no stylesheet or font fetched at view time: the page opens from disk, offline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone
from html import escape

from engine.compare._load import RunRecord, SampleKey
from engine.compare._table import HEAD, Comparison, Row, row_cells

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"]
MAX_DISAGREEMENTS = 200
"""Per task: beyond this the page would be unreadable (the logs have them all)."""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1200px;
color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{font-weight:600}.sig{color:#b00}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:12px;color:#555}pre{white-space:pre-wrap;margin:0;
max-width:360px;font:12px/1.3 ui-monospace,monospace}.right{color:#1a7f37}.wrong{color:#b00}
"""


def _table(rows: list[Row]) -> str:
    lines = ["<table class='comparison'><tr>" + "".join(f"<th>{h}</th>" for h in HEAD) + "</tr>"]
    for row in rows:
        cells = [escape(cell) for cell in row_cells(row)]
        cells[-1] = f"<span class='{'sig' if row.significant else ''}'>{cells[-1]}</span>"
        classes = "best" if row.best else ""
        tds = "".join(
            f"<td class='{'num' if 0 < i < len(cells) - 1 else ''}'>{cell}</td>"
            for i, cell in enumerate(cells)
        )
        lines.append(f"<tr class='{classes}'>{tds}</tr>")
    return "\n".join([*lines, "</table>"])


def _interval_chart(rows: list[Row], colours: dict[str, str]) -> str:
    """Score with its 95 % interval, one bar per model, on a 0–1 axis (or the scores' range)."""
    shown = [r for r in rows if not math.isnan(r.score)]
    top = max([1.0, *(r.high for r in shown if not math.isnan(r.high))])
    bottom = min([0.0, *(r.low for r in shown if not math.isnan(r.low))])
    width, left, bar = 640, 230, 22
    height = 30 + bar * 1.6 * len(shown)

    def x(value: float) -> float:
        return left + (value - bottom) / ((top - bottom) or 1) * (width - left - 20)

    parts = [
        f"<svg class='chart interval' xmlns='http://www.w3.org/2000/svg' width='{width}' "
        f"height='{height:.0f}' role='img' aria-label='score with 95% interval per model'>"
    ]
    for tick in range(6):
        value = bottom + (top - bottom) * tick / 5
        parts.append(
            f"<line x1='{x(value):.1f}' y1='10' x2='{x(value):.1f}' y2='{height - 18:.0f}' "
            "stroke='#eee'/>"
            f"<text x='{x(value):.1f}' y='{height - 4:.0f}' font-size='11' text-anchor='middle'>"
            f"{value:.2f}</text>"
        )
    for index, row in enumerate(shown):
        y = 12 + index * bar * 1.6
        colour = colours[row.label]
        parts.append(
            f"<text x='{left - 8}' y='{y + bar * 0.7:.1f}' font-size='12' text-anchor='end'>"
            f"{escape(row.label[-34:])}</text>"
            f"<rect class='bar' x='{x(bottom):.1f}' y='{y:.1f}' width='{x(row.score) - x(bottom):.1f}'"
            f" height='{bar}' fill='{colour}'/>"
        )
        if not math.isnan(row.low):
            mid = y + bar / 2
            parts.append(
                f"<line class='whisker' x1='{x(row.low):.1f}' y1='{mid:.1f}' x2='{x(row.high):.1f}'"
                f" y2='{mid:.1f}' stroke='#222' stroke-width='2'/>"
                f"<line x1='{x(row.low):.1f}' y1='{mid - 6:.1f}' x2='{x(row.low):.1f}' "
                f"y2='{mid + 6:.1f}' stroke='#222' stroke-width='2'/>"
                f"<line x1='{x(row.high):.1f}' y1='{mid - 6:.1f}' x2='{x(row.high):.1f}' "
                f"y2='{mid + 6:.1f}' stroke='#222' stroke-width='2'/>"
            )
    return "".join([*parts, "</svg>"])


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [low, high]."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high - step * 1e-9:
        ticks.append(round(value, 12))
    return ticks


def _fit(label: str, limit: int) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


def _tick_label(value: float) -> str:
    return f"{value:.4g}"


LEGEND_WIDTH = 190
"""The legend sits right of the plot area, never over it."""


def _scatter(
    rows: list[Row], colours: dict[str, str], measure: Callable[[Row], float | None], axis: str
) -> str:
    """Score (up) against a cost or a latency (across), one dot per model, with round ticks on
    both axes and the legend beside the plot; dots that would coincide are set side by side."""
    points = [(r, v) for r in rows if (v := measure(r)) is not None and not math.isnan(v)]
    points = [(r, v) for r, v in points if not math.isnan(r.score)]
    if not points:
        return f"<p class='no-chart'>No {escape(axis)} to plot (add a price table for costs).</p>"
    plot_width, pad, top_pad = 300, 50, 12
    height = max(300, top_pad + 22 * len(points) + 20)
    width = plot_width + LEGEND_WIDTH
    right = plot_width - 14  # the plot area's right edge
    bottom = height - 42
    x_ticks = nice_ticks(0.0, max(v for _, v in points))
    y_ticks = nice_ticks(
        min(0.0, *(r.score for r, _ in points)), max(1.0, *(r.score for r, _ in points))
    )
    low_x, high_x, low_y, high_y = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def x(value: float) -> float:
        return pad + (value - low_x) / ((high_x - low_x) or 1) * (right - pad - 8) + 4

    def y(value: float) -> float:
        return bottom - (value - low_y) / ((high_y - low_y) or 1) * (bottom - top_pad - 8) - 4

    parts = [
        f"<svg class='chart scatter' xmlns='http://www.w3.org/2000/svg' width='{width}' "
        f"height='{height}' role='img' aria-label='score against {escape(axis)}'>",
        f"<rect class='plot-area' x='{pad}' y='{top_pad}' width='{right - pad}' "
        f"height='{bottom - top_pad}' fill='none' stroke='#999'/>",
        f"<text x='{(right + pad) / 2:.0f}' y='{height - 6}' font-size='12' "
        f"text-anchor='middle'>{escape(axis)}</text>",
        f"<text x='12' y='{(bottom + top_pad) / 2:.0f}' font-size='12' "
        f"transform='rotate(-90 12 {(bottom + top_pad) / 2:.0f})' text-anchor='middle'>score</text>",
    ]
    for tick in x_ticks:
        parts.append(
            f"<line x1='{x(tick):.1f}' y1='{top_pad}' x2='{x(tick):.1f}' y2='{bottom + 4}' "
            "stroke='#eee'/>"
            f"<text class='tick x' x='{x(tick):.1f}' y='{bottom + 16}' font-size='10' "
            f"text-anchor='middle'>{_tick_label(tick)}</text>"
        )
    for tick in y_ticks:
        parts.append(
            f"<line x1='{pad - 4}' y1='{y(tick):.1f}' x2='{right}' y2='{y(tick):.1f}' "
            "stroke='#eee'/>"
            f"<text class='tick y' x='{pad - 6}' y='{y(tick) + 3:.1f}' font-size='10' "
            f"text-anchor='end'>{_tick_label(tick)}</text>"
        )
    taken: dict[tuple[int, int], int] = {}
    for row, value in points:
        cx, cy = x(value), y(row.score)
        spot = (round(cx / 8), round(cy / 8))
        nearby = taken.get(spot, 0)
        taken[spot] = nearby + 1
        cx += 10 * ((nearby + 1) // 2) * (1 if nearby % 2 else -1)  # dodge: 0, +10, -10, +20, …
        parts.append(
            f"<circle class='dot' cx='{cx:.1f}' cy='{cy:.1f}' r='6' fill='{colours[row.label]}' "
            f"stroke='#fff' stroke-width='1'><title>{escape(row.label)}: {row.score:.3f} at "
            f"{value:.4g}</title></circle>"
        )
    legend_x = plot_width + 6
    parts.append(
        f"<rect class='legend' x='{legend_x}' y='{top_pad}' width='{LEGEND_WIDTH - 10}' "
        f"height='{22 * len(points) + 8}' fill='#fff' stroke='#ddd'/>"
    )
    for index, (row, _) in enumerate(points):
        ly = top_pad + 16 + 22 * index
        parts.append(
            f"<circle cx='{legend_x + 12}' cy='{ly - 4}' r='5' fill='{colours[row.label]}'/>"
            f"<text x='{legend_x + 22}' y='{ly}' font-size='11'>"
            f"<title>{escape(row.label)}</title>{escape(_fit(row.label, 28))}</text>"
        )
    return "".join([*parts, "</svg>"])


def _short(text: str, limit: int = 400) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _disagreements(runs: list[RunRecord]) -> str:
    """Samples that two or more models scored differently, with each model's answer."""
    keys: dict[SampleKey, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run.scores))
    differing = [
        key for key in keys if len({run.scores[key] for run in runs if key in run.scores}) > 1
    ]
    if not differing:
        return "<p>The models agree on every shared sample.</p>"
    head = "".join(f"<th>{escape(run.label)}</th>" for run in runs)
    lines = [
        f"<p>{len(differing)} samples scored differently"
        + (f" (first {MAX_DISAGREEMENTS} shown)" if len(differing) > MAX_DISAGREEMENTS else "")
        + "</p>",
        f"<table class='disagreements'><tr><th>sample</th><th>input</th><th>target</th>{head}</tr>",
    ]
    for key in differing[:MAX_DISAGREEMENTS]:
        source = next(run for run in runs if key in run.scores)
        cells = []
        for run in runs:
            if key not in run.scores:
                cells.append("<td>-</td>")
                continue
            value = run.scores[key]
            mark = "right" if value >= 1 else "wrong" if value <= 0 else ""
            cells.append(
                f"<td class='{mark}'>{value:g}<pre>{_short(run.answers.get(key, ''))}</pre></td>"
            )
        sample = escape(key[0]) + (f" (epoch {key[1]})" if key[1] != 1 else "")
        lines.append(
            f"<tr><td>{sample}</td><td><pre>{_short(source.inputs.get(key, ''))}</pre></td>"
            f"<td><pre>{_short(source.targets.get(key, ''), 200)}</pre></td>{''.join(cells)}</tr>"
        )
    return "\n".join([*lines, "</table>"])


def render_html(
    comparison: Comparison, title: str = "inspect-run comparison", appendix: str = ""
) -> str:
    """`appendix`: more sections (a gate's verdicts, grader reliability), already HTML."""
    sections = []
    for task in dict.fromkeys(row.task for row in comparison.rows):
        rows = [row for row in comparison.rows if row.task == task]
        runs = sorted(
            (run for run in comparison.runs if run.task == task),
            key=lambda run: [row.label for row in rows].index(run.label),
        )
        colours = {row.label: PALETTE[i % len(PALETTE)] for i, row in enumerate(rows)}
        scorer = rows[0].scorer if rows else ""
        sections.append(
            f"<section class='task'><h2>{escape(task)}</h2>"
            f"<p>Score: mean of <code>{escape(scorer)}</code>. “vs best”: paired test against the "
            "best model on the samples both scored, each sample's epochs averaged (exact McNemar "
            "for right/wrong scores, sign-flip permutation otherwise), Holm-adjusted across the "
            "task's models; “worse” means "
            "p&nbsp;&lt;&nbsp;0.05.</p>"
            f"{_table(rows)}<div class='charts'>"
            f"<figure>{_interval_chart(rows, colours)}<figcaption>score with 95% interval"
            "</figcaption></figure>"
            f"<figure>{_scatter(rows, colours, lambda r: r.cost, 'cost ($)')}"
            "<figcaption>score against cost</figcaption></figure>"
            f"<figure>{_scatter(rows, colours, lambda r: r.latency_p50, 'latency p50 (s)')}"
            "<figcaption>score against latency</figcaption></figure></div>"
            f"<h3>Where the models disagree</h3>{_disagreements(runs)}</section>"
        )
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(sections) or "<p>No eval logs found.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{len(comparison.runs)} logs, generated {stamp}.</p>"
        f"{body}{appendix}</body></html>\n"
    )
