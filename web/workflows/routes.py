"""One page per workflow definition (issue #11): its title, legal basis and dates in force, the diagram
drawn on the server (ocop_workflow.engine.diagram.to_svg, no JavaScript), its states with their level
and SLA and its steps with the roles that take them. The product page shows the same diagram with the
product's state and path marked (`workflow_diagram`)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from ocop_workflow.engine import WorkflowDefinition
from ocop_workflow.engine.diagram import awaiting_targets, to_svg
from ocop_workflow.errors import InvalidData
from ocop_workflow.models import Organisation
from ocop_workflow.services.authz import require
from ocop_workflow.services.certificates import local_day
from ocop_workflow.services.listing import get_visible_organisation, provinces_for
from ocop_workflow.services.products import set_default_workflow

from ..context import actor, db_session, locale, registry
from ..errors import status_for
from ..forms import choices
from .forms import DefaultWorkflowForm

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
    """A step's score condition with the signs people write, numbers in the reader's format: "≥ 70, < 90"."""
    return rng.describe(locale())


def _default_form(province: Organisation, formdata=None) -> DefaultWorkflowForm:
    reg, loc = registry(), locale()
    form = DefaultWorkflowForm(formdata=formdata, prefix=f"p{province.id}")
    form.workflow_key.choices = choices(
        [("", _("— The rules in force each day —")), *((k, reg.latest(k).title.get(loc)) for k in reg.keys())]  # noqa: SIM118
    )
    if formdata is None:
        form.workflow_key.data = province.default_workflow or ""
    return form


def _settable_provinces() -> list[Organisation]:
    """The provinces of the reader's area whose choice of rules the reader may set."""
    return provinces_for(db_session(), actor(), "set_default_workflow")


@bp.route("/workflows")
@login_required
def index(forms: dict | None = None, status: int = 200):
    reg = registry()
    today = local_day()
    definitions = [d for _, d in sorted(reg.definitions.items(), key=lambda kv: (kv[0][0], -kv[0][1]))]
    default, reason = reg.default_definition(today)
    forms = forms or {}
    provinces = [(o, forms.get(o.id) or _default_form(o)) for o in _settable_provinces()]
    return render_template(
        "workflows/index.html",
        definitions=definitions,
        in_force={d.key for d in reg.in_force(today)},
        latest={k: reg.latest(k).version for k in reg.keys()},  # noqa: SIM118 (a Registry, not a dict)
        default=default,
        reason=reason,
        today=today,
        provinces=provinces,
    ), status


@bp.route("/workflows/provinces/<int:org_id>", methods=["POST"])
@login_required
def set_province_default(org_id: int):
    """The provincial secretariat chooses the rules its new products start under (or the date rule)."""
    from flask import request

    s, who = db_session(), actor()
    province = get_visible_organisation(s, who, org_id)  # outside the reader's area: 404
    require(who, "set_default_workflow", province)  # 403 with the reason
    form = _default_form(province, request.form)
    if not form.validate():
        return index({province.id: form}, 422)
    try:
        set_default_workflow(s, registry(), who, province, form.workflow_key.data or None)
    except InvalidData as exc:
        s.rollback()
        form.workflow_key.errors = [exc.message(locale())]
        return index({province.id: form}, status_for(exc))
    key = province.default_workflow
    chosen = registry().latest(key).title.get(locale()) if key else _("the rules in force each day")
    flash(_("Saved: new products of %(province)s follow %(rules)s.", province=province.name, rules=chosen), "success")
    return redirect(url_for("workflows.index"))


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
