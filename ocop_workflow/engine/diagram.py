"""Text renderings of a definition: a readable listing and a Mermaid state diagram."""

from __future__ import annotations

from .definition import WorkflowDefinition


def to_mermaid(d: WorkflowDefinition, locale: str = "vi", current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {d.initial}"]
    for key, state in d.states.items():
        lines.append(f"    {key} : {state.label.get(locale)}")
    seen = set()
    for t in d.transitions:
        for source in t.sources:
            for dest in filter(None, (t.dest, t.on_upgrade)):
                edge = (source, dest, t.trigger)
                if edge not in seen:
                    seen.add(edge)
                    lines.append(f"    {source} --> {dest} : {t.trigger}")
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
        out.append(f"  {key:<18} {s.level:<9} {'final' if s.final else '':<6} {sla:<9} {s.label.get(locale)}")
    out += ["", "Transitions:"]
    for t in d.transitions:
        cond = f" score {t.score.describe()}" if t.score else ""
        dest = t.dest + (f" (upgrade: {t.on_upgrade})" if t.on_upgrade else "")
        out.append(f"  {t.trigger:<26} {','.join(t.sources)} -> {dest}{cond}  [{', '.join(t.roles)}]")
    return "\n".join(out) + "\n"
