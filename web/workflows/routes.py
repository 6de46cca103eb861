"""One page per workflow definition (issue #11): its title, legal basis and dates in force, the diagram
drawn on the server (ocop_workflow.engine.diagram.to_svg, no JavaScript), its states with their level
and SLA and its steps with the roles that take them. The product page shows the same diagram with the
product's state and path marked (`workflow_diagram`)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, render_template
from flask_login import login_required
from markupsafe import Markup

from ocop_workflow.engine import WorkflowDefinition
from ocop_workflow.engine.diagram import awaiting_targets, to_svg
from ocop_workflow.formats import format_number
from ocop_workflow.services.certificates import local_day

from ..context import locale, registry

bp = Blueprint("workflows", __name__)


@bp.app_template_global()
def workflow_diagram(definition: WorkflowDefinition, current: str | None = None, path: Sequence[str] = ()) -> Markup:
    """The definition's SVG, inline, in the reader's language (its layout is cached per version and language)."""
    return Markup(to_svg(definition, locale(), current=current, path=tuple(path)))


@bp.app_template_global()
def step_awaits(definition: WorkflowDefinition, step) -> list[str]:
    """The awaiting states a rating step sends a result of 3★ or more to (the recognising level's decision)."""
    return awaiting_targets(definition, step)


@bp.app_template_filter("state_text")
def state_text(state: str, definition: WorkflowDefinition) -> str:
    """A state's label in the reader's language (for lists of state keys)."""
    return definition.state_label(state).get(locale())


@bp.app_template_global()
def score_condition(rng) -> str:
    """A step's score condition with the signs people write: "≥ 70", "< 90", "≥ 70, < 90"."""
    parts = []
    if rng.min is not None:
        parts.append(f"≥ {format_number(rng.min, locale())}")
    if rng.below is not None:
        parts.append(f"< {format_number(rng.below, locale())}")
    return ", ".join(parts)


@bp.route("/workflows")
@login_required
def index():
    reg = registry()
    today = local_day()
    definitions = [d for _, d in sorted(reg.definitions.items(), key=lambda kv: (kv[0][0], -kv[0][1]))]
    default, reason = reg.default_definition(today)
    return render_template(
        "workflows/index.html",
        definitions=definitions,
        in_force={d.key for d in reg.in_force(today)},
        latest={k: reg.latest(k).version for k in reg.keys()},  # noqa: SIM118 (a Registry, not a dict)
        default=default,
        reason=reason,
        today=today,
    )


@bp.route("/workflows/<key>")
@bp.route("/workflows/<key>/<int:version>")
@login_required
def detail(key: str, version: int | None = None):
    reg = registry()
    definition = reg.get(key, version)  # NotFound: 404
    return render_template(
        "workflows/detail.html",
        definition=definition,
        latest=reg.latest(key).version,
        in_force=definition.in_force(local_day()),
        roles=reg.catalogue.roles,
    )
