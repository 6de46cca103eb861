"""Text renderings of a definition: a readable listing and a Mermaid state diagram.

Both show every move the engine can make, not only the `dest` written on a transition: since
issue #10 a council's result of 3★ or more does not reach `rated` directly but waits in the
awaiting state of the level that recognises that star (the definition's `recognition` block), and
only the chair's signature (a signing step, fired by a signed decision) moves it on. A diagram that
left those edges out would show a product jumping from the council to `rated`.
"""

from __future__ import annotations

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
