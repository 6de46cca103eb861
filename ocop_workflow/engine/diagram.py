"""Renderings of a definition: a readable listing, a Mermaid state diagram and an SVG drawing.

All three show every move the engine can make, not only the `dest` written on a transition: since
issue #10 a council's result of 3★ or more does not reach `rated` directly but waits in the
awaiting state of the level that recognises that star (the definition's `recognition` block), and
only the chair's signature (a signing step, fired by a signed decision) moves it on. A diagram that
left those edges out would show a product jumping from the council to `rated`.

The SVG (`to_svg`) is laid out here in pure Python rather than by Graphviz `dot`: a definition has a
dozen states, so a small layered layout is enough and costs nothing at run time: no system package to
install, no process to spawn per request, no fallback page for a server without `dot`, and the same
drawing in tests, the CLI, the API and the web. The layout (`_layout`):

* layers: the longest path from the initial state over the forward moves (a move back to a state
  already on the way, such as a return for revision, is a back edge and does not count), so the
  cycle reads top to bottom and the alternative ends (rated, upgraded, withdrawn …) sit side by side
  in the last layer as branches, not as a numbered sequence;
* a move between neighbouring layers is a curve; a longer move forward runs in a lane on the right,
  a move back in a lane on the left, one lane per target state, so the nine "withdraw" moves merge
  into one bus into `withdrawn`; lanes join the nodes through the gaps between layers, so no line
  crosses a box.

The geometry is computed once per definition version and language (`_geometry`, cached); a request
only picks the classes: `current` on the product's state, `visited` on the states of its history and
`taken` on the moves it made. Colours are presentation attributes (with the same classes styled in
web/static/style.css), never `style` attributes, so the drawing passes the site's CSP inline in a
page and still reads right as a file on its own (`ocop workflow show --format svg`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .definition import TransitionDef, WorkflowDefinition

CERTIFIED_MIN = 3


def awaiting_targets(d: WorkflowDefinition, t: TransitionDef) -> list[str]:
    """The awaiting states a rating step may send a product to: one per level that recognises a
    star the step can give (3★ up to its `max_star`; below a central `min_star` the province's result
    stands, which is still at most the step's maximum)."""
    if t.rating is None or d.recognition is None:
        return []
    out: list[str] = []
    for star in range(CERTIFIED_MIN, t.rating.max_star + 1):
        level = d.recognition.level_for(star)
        state = d.recognition.awaiting.get(level) if level else None
        if state and state not in out:
            out.append(state)
    return out


def _label(t: TransitionDef) -> str:
    return f"{t.trigger} ({t.signs} signs)" if t.signs else t.trigger


def to_mermaid(d: WorkflowDefinition, locale: str = "vi", current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {d.initial}"]
    for key, state in d.states.items():
        lines.append(f"    {key} : {state.label.get(locale)}")
    seen = set()
    for t in d.transitions:
        for source in t.sources:
            for dest in dict.fromkeys(filter(None, (t.dest, t.on_upgrade, *awaiting_targets(d, t)))):
                edge = (source, dest, t.trigger)
                if edge not in seen:
                    seen.add(edge)
                    lines.append(f"    {source} --> {dest} : {_label(t)}")
    for key, state in d.states.items():
        if state.final and not d.transitions_from(key):
            lines.append(f"    {key} --> [*]")
    if current:
        lines += ["    classDef current fill:#fde68a,stroke:#b45309", f"    class {current} current"]
    return "\n".join(lines) + "\n"


def to_text(d: WorkflowDefinition, locale: str = "vi") -> str:
    out = [f"{d.ident} — {d.title.get(locale)} ({d.legal_basis}, {d.effective_from or '-'})", "", "States:"]
    for key, s in d.states.items():
        sla = f"SLA {s.sla_days}d" if s.sla_days else ""
        out.append(f"  {key:<20} {s.level:<9} {'final' if s.final else '':<6} {sla:<9} {s.label.get(locale)}")
    out += ["", "Transitions:"]
    for t in d.transitions:
        cond = f" score {t.score.describe()}" if t.score else ""
        dest = t.dest + (f" (upgrade: {t.on_upgrade})" if t.on_upgrade else "")
        waits = awaiting_targets(d, t)
        if waits:
            dest += f" (3★+ awaits the decision: {', '.join(waits)})"
        signs = f" (signing: the {t.signs} level's decision)" if t.signs else ""
        out.append(f"  {t.trigger:<26} {','.join(t.sources)} -> {dest}{cond}{signs}  [{', '.join(t.roles)}]")
    if d.recognition is not None:
        out += ["", "Recognition:"]
        for star, level in sorted(d.recognition.by_star.items()):
            out.append(f"  {star}★ recognised by the {level} level, awaiting in {d.recognition.awaiting.get(level)}")
    return "\n".join(out) + "\n"


# --- SVG ----------------------------------------------------------------------------------------
NODE_W, NODE_H = 184, 52
H_GAP, V_GAP = 28, 46
LANE_GAP = 9
MARGIN = 16
FONT = 12
LINE_H = 14
CHARS_PER_LINE = 26  # at 12 px a Vietnamese label averages about 6.5 px a character

COLOURS = {
    "node": ("#ffffff", "#64748b"),
    "final": ("#f1f5f9", "#334155"),
    "visited": ("#dcfce7", "#15803d"),
    "current": ("#fde68a", "#b45309"),
}
EDGE = "#94a3b8"
TAKEN = "#15803d"


@dataclass(frozen=True)
class _Node:
    key: str
    layer: int
    x: float  # left
    y: float  # top
    lines: tuple[str, ...]
    final: bool

    @property
    def cx(self) -> float:
        return self.x + NODE_W / 2


@dataclass(frozen=True)
class _Edge:
    source: str
    dest: str
    kind: str  # "next" (neighbouring layers), "long" (a lane on the right), "back" (a lane on the left)
    points: tuple[tuple[float, float], ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Geometry:
    width: float
    height: float
    nodes: dict[str, _Node]
    edges: tuple[_Edge, ...]
    title: str


def svg_edges(d: WorkflowDefinition) -> dict[tuple[str, str], list[TransitionDef]]:
    """(source, dest) -> the steps that make that move, in the definition's order (the same moves as
    `to_mermaid`: a step's destination, its upgrade destination and the awaiting states of a rating)."""
    out: dict[tuple[str, str], list[TransitionDef]] = {}
    for t in d.transitions:
        for source in t.sources:
            for dest in dict.fromkeys(filter(None, (t.dest, t.on_upgrade, *awaiting_targets(d, t)))):
                if source != dest:
                    steps = out.setdefault((source, dest), [])
                    if t not in steps:
                        steps.append(t)
    return out


def _back_edges(d: WorkflowDefinition, succ: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The moves back to a state already on the way (depth-first from the initial state)."""
    back: set[tuple[str, str]] = set()
    seen: set[str] = set()
    stack: set[str] = set()

    def visit(node: str) -> None:  # a dozen states: recursion is fine
        seen.add(node)
        stack.add(node)
        for nxt in succ[node]:
            if nxt in stack:
                back.add((node, nxt))
            elif nxt not in seen:
                visit(nxt)
        stack.discard(node)

    for key in [d.initial, *d.states]:  # the loader refuses unreachable states; be safe for drafts anyway
        if key not in seen:
            visit(key)
    return back


def _layers(d: WorkflowDefinition, pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Each state's layer (longest forward path from the initial state) and the back edges."""
    succ: dict[str, list[str]] = {k: [] for k in d.states}
    for a, b in pairs:
        succ[a].append(b)
    back = _back_edges(d, succ)
    forward = {a: [b for b in targets if (a, b) not in back] for a, targets in succ.items()}
    indeg = {k: 0 for k in d.states}
    for targets in forward.values():
        for b in targets:
            indeg[b] += 1
    layer = {k: 0 for k in d.states}
    ready = [k for k in d.states if indeg[k] == 0]
    while ready:  # in topological order, each state one below its lowest predecessor
        node = ready.pop(0)
        for b in forward[node]:
            layer[b] = max(layer[b], layer[node] + 1)
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return layer, back


def _wrap(text: str, width: int = CHARS_PER_LINE) -> tuple[str, ...]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > 3:  # three lines fit the box; the rest is in the list below the drawing
        lines = [*lines[:2], " ".join(lines[2:])]
    return tuple(lines) or ("",)


def _layout(d: WorkflowDefinition, locale: str) -> _Geometry:
    moves = svg_edges(d)
    layer, back = _layers(d, moves)
    rows: dict[int, list[str]] = {}
    for key in d.states:
        rows.setdefault(layer[key], []).append(key)
    position: dict[str, float] = {}
    for n in sorted(rows):  # order a layer by where its predecessors stand (barycentre), then as declared
        row = rows[n]
        declared = {k: i for i, k in enumerate(row)}

        def centre(key: str, declared: dict[str, int] = declared) -> tuple[float, int]:
            preds = [position[a] for (a, b) in moves if b == key and (a, b) not in back and a in position]
            return (sum(preds) / len(preds) if preds else 0.0, declared[key])

        row.sort(key=centre)
        for i, key in enumerate(row):
            position[key] = i - (len(row) - 1) / 2
    long_targets = list(dict.fromkeys(b for (a, b) in moves if (a, b) not in back and layer[b] > layer[a] + 1))
    back_targets = list(dict.fromkeys(b for (a, b) in moves if (a, b) in back or layer[b] <= layer[a]))
    widest = max(len(r) for r in rows.values())
    area_w = widest * NODE_W + (widest - 1) * H_GAP
    left = MARGIN + len(back_targets) * LANE_GAP + (LANE_GAP if back_targets else 0)
    nodes: dict[str, _Node] = {}
    for key, sdef in d.states.items():
        n = layer[key]
        row_w = len(rows[n]) * NODE_W + (len(rows[n]) - 1) * H_GAP
        index = rows[n].index(key)
        x = left + (area_w - row_w) / 2 + index * (NODE_W + H_GAP)
        y = MARGIN + n * (NODE_H + V_GAP)
        nodes[key] = _Node(key, n, x, y, _wrap(sdef.label.get(locale)), sdef.final)
    right = left + area_w + LANE_GAP
    lane_x = {("long", b): right + i * LANE_GAP for i, b in enumerate(long_targets)}
    lane_x.update({("back", b): MARGIN + (len(back_targets) - 1 - i) * LANE_GAP for i, b in enumerate(back_targets)})
    n_lanes = max(len(long_targets), len(back_targets), 1)

    def gap_y(n: int, lane: int) -> float:
        """A height in the gap below layer n, one track per lane so joins do not overlap."""
        step = min(4.0, (V_GAP - 12) / n_lanes)
        return MARGIN + n * (NODE_H + V_GAP) + NODE_H + 6 + lane * step

    edges: list[_Edge] = []
    for (a, b), steps in moves.items():
        na, nb = nodes[a], nodes[b]
        labels = tuple(dict.fromkeys(t.label.get(locale) for t in steps))
        if (a, b) not in back and nb.layer == na.layer + 1:
            pts = ((na.cx, na.y + NODE_H), (nb.cx, nb.y))
            edges.append(_Edge(a, b, "next", pts, labels))
        elif (a, b) not in back and nb.layer > na.layer + 1:
            lane = long_targets.index(b)
            x = lane_x[("long", b)]
            y1, y2 = gap_y(na.layer, lane), gap_y(nb.layer - 1, lane)
            entry = nb.cx + NODE_W / 4
            pts = ((na.cx + 8, na.y + NODE_H), (na.cx + 8, y1), (x, y1), (x, y2), (entry, y2), (entry, nb.y))
            edges.append(_Edge(a, b, "long", pts, labels))
        else:
            lane = back_targets.index(b)
            x = lane_x[("back", b)]
            y1, y2 = gap_y(na.layer - 1, n_lanes - 1 - lane), gap_y(nb.layer, n_lanes - 1 - lane)
            entry = nb.cx - NODE_W / 4
            pts = ((na.cx - 8, na.y), (na.cx - 8, y1), (x, y1), (x, y2), (entry, y2), (entry, nb.y + NODE_H))
            edges.append(_Edge(a, b, "back", pts, labels))
    width = right + len(long_targets) * LANE_GAP + MARGIN
    height = MARGIN * 2 + (max(rows) + 1) * NODE_H + max(rows) * V_GAP
    return _Geometry(width, height, nodes, tuple(edges), d.title.get(locale))


_GEOMETRY: dict[tuple[int, str], tuple[WorkflowDefinition, _Geometry]] = {}
_GEOMETRY_LOCK = threading.Lock()


def _geometry(d: WorkflowDefinition, locale: str) -> _Geometry:
    """The layout of a definition in a language, computed once per process (definitions never change)."""
    key = (id(d), locale)
    hit = _GEOMETRY.get(key)
    if hit is not None and hit[0] is d:  # the id is of this very object
        return hit[1]
    geometry = _layout(d, locale)
    with _GEOMETRY_LOCK:
        _GEOMETRY[key] = (d, geometry)
    return geometry


def _path_d(points: Sequence[tuple[float, float]], kind: str) -> str:
    if kind == "next":
        (x1, y1), (x2, y2) = points
        mid = (y1 + y2) / 2
        return f"M{x1:g},{y1:g} C{x1:g},{mid:g} {x2:g},{mid:g} {x2:g},{y2:g}"
    return "M" + " L".join(f"{x:g},{y:g}" for x, y in points)


def taken_moves(path: Sequence[str]) -> set[tuple[str, str]]:
    """The moves a product made: each pair of consecutive states of its history that differ."""
    return {(a, b) for a, b in zip(path, path[1:], strict=False) if a != b}


def to_svg(
    d: WorkflowDefinition,
    locale: str = "vi",
    current: str | None = None,
    path: Sequence[str] = (),
    *,
    standalone: bool = False,
) -> str:
    """The definition drawn as SVG in the reader's language: `current` highlighted (class `current`),
    the states of `path` (the product's history, in order) marked `visited` and the moves between
    them `taken`. `standalone` adds the XML declaration for a file of its own."""
    g = _geometry(d, locale)
    en = (locale or "").startswith("en")
    ident = "wf-" + "".join(c if c.isalnum() else "-" for c in d.ident)
    visited = set(path) & set(d.states)
    taken = taken_moves([s for s in path if s in d.states])
    title = g.title + (
        f" — {'current state' if en else 'bước hiện tại'}: {d.state_label(current).get(locale)}"
        if current in d.states
        else ""
    )
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" id="{ident}" '
        f'viewBox="0 0 {g.width:g} {g.height:g}" width="{g.width:g}" height="{g.height:g}" '
        f'role="img" aria-labelledby="{ident}-title" font-family="sans-serif" font-size="{FONT}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        "<defs>"
    )
    for name, colour in (("arrow", EDGE), ("arrow-taken", TAKEN)):
        out.append(
            f'<marker id="{ident}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
            f'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    # moves first (under the boxes), the product's moves last so they are drawn on top
    ordered = sorted(g.edges, key=lambda e: (e.source, e.dest) in taken)
    for e in ordered:
        is_taken = (e.source, e.dest) in taken
        cls = f"edge edge-{e.kind}" + (" taken" if is_taken else "")
        colour, width = (TAKEN, 2.5) if is_taken else (EDGE, 1.2)
        marker = f"{ident}-arrow-taken" if is_taken else f"{ident}-arrow"
        dash = ' stroke-dasharray="5 3"' if e.kind == "back" and not is_taken else ""
        out.append(
            f'<path class="{cls}" data-from="{e.source}" data-to="{e.dest}" d="{_path_d(e.points, e.kind)}" '
            f'fill="none" stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#{marker})">'
            f"<title>{escape(d.state_label(e.source).get(locale))} → {escape(d.state_label(e.dest).get(locale))}: "
            f"{escape('; '.join(e.labels))}</title></path>"
        )
    for key, n in g.nodes.items():
        kind = "current" if key == current else "visited" if key in visited else "final" if n.final else "node"
        fill, stroke = COLOURS[kind]
        cls = "state" + (" final" if n.final else "") + (" visited" if key in visited else "")
        cls += " current" if key == current else ""
        label = d.state_label(key).get(locale)
        extra = ' aria-current="step"' if key == current else ""
        out.append(
            f'<g class="{cls}" id="{ident}-{key}" data-state="{key}"{extra}><title>{escape(label)}</title>'
            f'<rect x="{n.x:g}" y="{n.y:g}" width="{NODE_W}" height="{NODE_H}" rx="{14 if n.final else 6}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2.5 if key == current else 1.2}"/>'
        )
        top = n.y + NODE_H / 2 - (len(n.lines) - 1) * LINE_H / 2 + FONT * 0.35
        bold = ' font-weight="bold"' if key == current else ""
        out.append(f'<text x="{n.cx:g}" y="{top:g}" text-anchor="middle" fill="#0f172a"{bold}>')
        for i, line in enumerate(n.lines):
            out.append(f'<tspan x="{n.cx:g}" dy="{0 if i == 0 else LINE_H}">{escape(line)}</tspan>')
        out.append("</text></g>")
    out.append("</svg>")
    if standalone:
        out.append("\n")
    return "".join(out)


__all__ = ["awaiting_targets", "svg_edges", "taken_moves", "to_mermaid", "to_svg", "to_text"]
