"""The plan report's charts, drawn as SVG on the server, and the words and numbers they (and the page) show.

Why SVG strings built here rather than a charting library or a script: the page must print, read on a
375 px phone, pass the site's Content Security Policy (no inline script, no `style` attribute, nothing
from a CDN), and a test must be able to read each chart's label and values as text. So, like the workflow
diagram (engine/diagram.py):

* every chart is one `<svg role="img">` with a `<title>` and an `aria-label` that say what it shows in
  words, a `viewBox` and `width="100%"` so it scales down to a phone without a horizontal scrollbar;
* colours are presentation attributes (never `style`), and every colour has its words beside it: a
  target's bar carries its status as text ("Đạt", "Chậm"), never colour alone;
* every number goes through `formats.format_number` (85,5 in Vietnamese, 85.5 in English; a share
  with "%"), every text through `escape`.

Nothing here imports Flask: the CLI, a file export or a test can draw the same charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from ..formats import format_number
from ..i18n import Text
from .indicators import RATIO, SHARE, indicator
from .model import BEHIND, MET, NO_DATA, NOT_STARTED, ON_TRACK, Figure, TargetResult, UnitProgress, YearPoint

__all__ = [
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "WHOLE_PERIOD",
    "figure_text",
    "progress_bar",
    "ranking_chart",
    "status_label",
    "target_text",
    "value_text",
    "yearly_chart",
]

# the traffic light: met green, on track amber, behind red, nothing to judge yet grey (fill, text on it)
STATUS_COLOURS: dict[str, str] = {
    MET: "#15803d",
    ON_TRACK: "#d97706",
    BEHIND: "#b91c1c",
    NOT_STARTED: "#94a3b8",
    NO_DATA: "#94a3b8",
}
STATUS_LABELS: dict[str, Text] = {
    MET: Text("Đạt", "Met"),
    ON_TRACK: Text("Đúng tiến độ", "On track"),
    BEHIND: Text("Chậm tiến độ", "Behind"),
    NOT_STARTED: Text("Chưa đến kỳ", "Not started"),
    NO_DATA: Text("Chưa có số liệu", "No data"),
}
WHOLE_PERIOD = Text("Cả giai đoạn", "Whole period")  # a target without a year (the page's _("Whole period"))
TRACK = "#e5e7eb"
INK = "#1f2937"
MUTED = "#475569"
NEUTRAL = "#0f766e"  # a year's bar without a target of its own
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"


def status_label(status: str, locale: str | None = "vi") -> str:
    """The status in words ("Đạt", "Chậm tiến độ"); the colour never speaks alone."""
    return STATUS_LABELS.get(status, Text(status, status)).get(locale)


def _per_cent(share: float, locale: str | None) -> str:
    """A 0..1 share as a whole per cent, rounded half-up (0,625 -> "63%")."""
    return f"{format_number(max(0.0, min(1.0, share)) * 100, locale, places=0)}%"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def value_text(unit: str, value: float | None, locale: str | None = "vi") -> str:
    """A figure or a target in its unit: "12", "85,5%", "1,56 lần" (en "1.56×"); "—" without a value.

    The one rounding of the page, the files and the CLI: a count or a ratio at most two decimals (a
    province's target shared out among ten districts reads "0,33", never "0,3" here and "0,33" there),
    a share one; trailing zeros dropped."""
    if value is None:
        return "—"
    if unit == SHARE:
        return f"{format_number(round(value, 1), locale)}%"
    if unit == RATIO:
        number = format_number(round(value, 2), locale)
        return f"{number}×" if (locale or "vi").startswith("en") else f"{number} lần"
    return format_number(round(value, 2), locale)


def figure_text(indicator_key: str, figure: Figure | None, locale: str | None = "vi") -> str:
    """The figure as the page shows it; a share also says what it is a share of ("80% (8/10)")."""
    if figure is None:
        return "—"
    unit = indicator(indicator_key).unit
    text = value_text(unit, figure.value, locale)
    if unit == SHARE and figure.denominator:
        text += f" ({format_number(figure.numerator, locale)}/{format_number(figure.denominator, locale)})"
    return text


def target_text(result: TargetResult, locale: str | None = "vi") -> str:
    """The target as a plan writes it: "≥ 10", "≤ 5", "10–20", "≥ 70%"."""
    unit = indicator(result.indicator).unit
    if result.comparison == "share_at_least":
        return f"≥ {value_text(SHARE, result.low, locale)}"
    if result.comparison == "at_most":
        return f"≤ {value_text(unit, result.high, locale)}"
    if result.comparison == "between":
        return f"{value_text(unit, result.low, locale)}–{value_text(unit, result.high, locale)}"
    return f"≥ {value_text(unit, result.low, locale)}"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _svg_open(css_class: str, width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width:g} {height:g}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{_attr(label)}" '
        f'font-family="{_attr(FONT)}" font-size="13"><title>{escape(label)}</title>'
    )


# --- a target's progress bar ----------------------------------------------------------------------------
BAR_W, BAR_H = 320, 44


def progress_bar(result: TargetResult, locale: str | None = "vi") -> str:
    """One target: a bar filled to its progress (figure / target, capped at the end), coloured by its
    status, with "actual / target · status" written under it."""
    ind = indicator(result.indicator)
    actual = figure_text(result.indicator, result.figure, locale)
    target = target_text(result, locale)
    status = status_label(result.status, locale)
    per_cent = _per_cent(result.progress, locale)
    label = f"{ind.label.get(locale)}: {actual} / {target} · {status} ({per_cent})"
    colour = STATUS_COLOURS.get(result.status, STATUS_COLOURS[NO_DATA])
    filled = round(BAR_W * max(0.0, min(1.0, result.progress)), 1)
    out = [
        _svg_open("plan-bar", BAR_W, BAR_H, label),
        f'<rect x="0" y="2" width="{BAR_W}" height="16" rx="4" fill="{TRACK}"/>',
    ]
    if filled > 0:
        out.append(f'<rect x="0" y="2" width="{filled:g}" height="16" rx="4" fill="{colour}"/>')
    out.append(
        f'<text x="0" y="36" fill="{INK}"><tspan font-weight="700">{escape(actual)}</tspan>'
        f" / {escape(target)} · {escape(status)}</text>"
    )
    out.append(f'<text x="{BAR_W}" y="36" text-anchor="end" fill="{MUTED}">{escape(per_cent)}</text>')
    out.append("</svg>")
    return "".join(out)


# --- an indicator's yearly bars ------------------------------------------------------------------------
YEAR_W, YEAR_PLOT_H = 340, 130
MARGIN_L, MARGIN_R = 8, 8


def _scale_top(unit: str, values: Sequence[float]) -> float:
    if unit == SHARE:
        return 100.0
    top = max([v for v in values if v is not None] + [1.0])
    return top * 1.15


def yearly_chart(
    indicator_key: str,
    points: Sequence[YearPoint],
    targets: Sequence[TargetResult] = (),
    locale: str | None = "vi",
) -> str:
    """An indicator's figure in each year of the plan: one bar a year with its value written on it, and
    where a target is set for that year a dashed line at the target (with the target's text). A bar whose
    year has a target takes the colour of that target's status (and the status is in the bar's title)."""
    ind = indicator(indicator_key)
    by_year = {t.year: t for t in targets if t.year is not None and t.indicator == indicator_key}
    title_lines = _wrap(ind.label.get(locale), 44)[:3]
    head = 18 * len(title_lines) + 18  # the label's lines, then room for the values over the bars
    height = head + YEAR_PLOT_H + (38 if by_year else 24)  # the years, then the yearly targets under them
    values = [p.figure.value for p in points]
    marks = [v for t in by_year.values() for v in (t.low, t.high) if v is not None]
    top = _scale_top(ind.unit, [*(v for v in values if v is not None), *marks])
    n = max(len(points), 1)
    slot = (YEAR_W - MARGIN_L - MARGIN_R) / n
    bar_w = min(64.0, slot * 0.6)
    base_y = head + YEAR_PLOT_H
    summary = "; ".join(f"{p.year}: {value_text(ind.unit, p.figure.value, locale)}" for p in points)
    label = f"{ind.label.get(locale)} — {summary}" if summary else ind.label.get(locale)
    out = [_svg_open("plan-years", YEAR_W, height, label)]
    for i, line in enumerate(title_lines):
        out.append(f'<text x="{MARGIN_L}" y="{16 + 18 * i}" font-weight="700" fill="{INK}">{escape(line)}</text>')
    axis = f'x1="{MARGIN_L}" y1="{base_y}" x2="{YEAR_W - MARGIN_R}" y2="{base_y}"'
    out.append(f'<line {axis} stroke="{MUTED}" stroke-width="1"/>')
    for i, point in enumerate(points):
        cx = MARGIN_L + slot * i + slot / 2
        value = point.figure.value
        h = 0.0 if value is None else YEAR_PLOT_H * max(0.0, value) / top
        target = by_year.get(point.year)
        colour = STATUS_COLOURS.get(target.status, NEUTRAL) if target else NEUTRAL
        shown = value_text(ind.unit, value, locale)
        tip = f"{point.year}: {shown}"
        if target is not None:
            tip += f" / {target_text(target, locale)} · {status_label(target.status, locale)}"
        out.append(f'<g class="year" data-year="{point.year}"><title>{escape(tip)}</title>')
        if h > 0:
            out.append(
                f'<rect x="{cx - bar_w / 2:.1f}" y="{base_y - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'rx="2" fill="{colour}"/>'
            )
        out.append(
            f'<text x="{cx:.1f}" y="{base_y - h - 5:.1f}" text-anchor="middle" font-weight="700" '
            f'fill="{INK}">{escape(shown)}</text>'
        )
        out.append(f'<text x="{cx:.1f}" y="{base_y + 17}" text-anchor="middle" fill="{MUTED}">{point.year}</text>')
        if target is not None:
            for mark in dict.fromkeys(v for v in (target.low, target.high) if v is not None):
                y = base_y - YEAR_PLOT_H * max(0.0, mark) / top
                x1, x2 = cx - slot * 0.45, cx + slot * 0.45
                out.append(
                    f'<line class="target" x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" stroke="{INK}" '
                    f'stroke-width="1.5" stroke-dasharray="4 3"/>'
                )
            out.append(
                f'<text x="{cx:.1f}" y="{base_y + 32}" text-anchor="middle" font-size="11" fill="{MUTED}">'
                f"{escape(target_text(target, locale))}</text>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# --- the units ranked by progress ----------------------------------------------------------------------
RANK_W, ROW_H, NAME_W = 340, 26, 132
NAME_CHARS = 20


def _short_name(name: str) -> str:
    for prefix in ("Thành phố ", "Thị xã ", "Huyện ", "Thị trấn ", "Phường ", "Xã "):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def ranking_chart(units: Sequence[UnitProgress], title: str, locale: str | None = "vi") -> str:
    """The units below the report's (districts or communes), best first, one bar each: the mean progress
    of their targets as a per cent, and how many targets are behind."""
    head = 26
    height = head + ROW_H * max(len(units), 1) + 6
    bar_max = RANK_W - NAME_W - 48
    summary = "; ".join(f"{u.organisation.name}: {_per_cent(u.progress, locale)}" for u in units)
    out = [_svg_open("plan-ranking", RANK_W, height, f"{title} — {summary}" if summary else title)]
    out.append(f'<text x="0" y="16" font-weight="700" fill="{INK}">{escape(title)}</text>')
    for i, unit in enumerate(units):
        y = head + ROW_H * i
        share = max(0.0, min(1.0, unit.progress))
        colour = (
            STATUS_COLOURS[MET]
            if share >= 0.999
            else STATUS_COLOURS[ON_TRACK]
            if share >= 0.5
            else STATUS_COLOURS[BEHIND]
        )
        per_cent = _per_cent(share, locale)
        behind = Text(f"{unit.behind} chỉ tiêu chậm", f"{unit.behind} behind").get(locale) if unit.behind else ""
        tip = f"{i + 1}. {unit.organisation.name}: {per_cent}" + (f" · {behind}" if behind else "")
        out.append(f'<g class="unit" data-code="{_attr(unit.organisation.code)}"><title>{escape(tip)}</title>')
        out.append(
            f'<text x="0" y="{y + 17}" fill="{INK}">{i + 1}. {escape(_short_name(unit.organisation.name))}</text>'
        )
        out.append(f'<rect x="{NAME_W}" y="{y + 5}" width="{bar_max}" height="14" rx="3" fill="{TRACK}"/>')
        if share > 0:
            out.append(
                f'<rect x="{NAME_W}" y="{y + 5}" width="{bar_max * share:.1f}" height="14" rx="3" fill="{colour}"/>'
            )
        out.append(f'<text x="{RANK_W}" y="{y + 17}" text-anchor="end" font-weight="700" fill="{INK}">')
        out.append(f"{escape(per_cent)}</text>")
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
