"""The programme pages (`/programme`): a unit's raw-material areas, value chains, sales points and
trainings, in the reader's area.

Views decide nothing: the service (`services/programme.py`) scopes every list and refuses what the rules
or the roles do not allow. A refused create re-renders the page with the message beside its field (422;
409 for a second close or link); a refused row action re-renders the page with the message in that row.
Success is a 303 back to the list with a flash.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ocop_workflow.errors import Conflict, InvalidData, OcopError
from ocop_workflow.formats import format_number
from ocop_workflow.services import programme
from ocop_workflow.services.authz import can, require
from ocop_workflow.services.listing import organisation_options
from ocop_workflow.validation import valid_id

from ..context import actor, db_session, locale, registry
from ..errors import status_for
from ..forms import choices
from .forms import AreaEditForm, AreaForm, ChainForm, DayForm, LinkForm, SalesPointForm, TrainingForm

bp = Blueprint("programme", __name__, url_prefix="/programme")

ACTION = programme.ACTION
UNIT_LEVELS = {
    "areas": ("commune",),
    "chains": ("commune", "district"),
    "sales_points": ("commune", "district"),
    "trainings": ("commune", "district", "province"),
}
LISTS = {
    "areas": programme.list_areas,
    "chains": programme.list_chains,
    "sales_points": programme.list_sales_points,
    "trainings": programme.list_trainings,
}


@bp.app_template_global()
def programme_nav() -> bool:
    """Whether the menu shows "OCOP programme": for those who read reports or record the programme."""
    if not current_user.is_authenticated:
        return False
    who = current_user.actor
    return can(who, "read_reports") or can(who, ACTION)


def _require_page() -> None:
    who = actor()
    if not (can(who, "read_reports") or can(who, ACTION)):
        require(who, ACTION)  # says why


def _message(exc: OcopError) -> str:
    return exc.message(locale())


def _place_error(form, exc: OcopError) -> str | None:
    """Put the service's message beside its field when the form has it; otherwise return it for the page."""
    field = getattr(form, str(exc.details.get("field") or ""), None) if form is not None else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors), _message(exc)]
        return None
    return _message(exc)


def _args() -> tuple[int | None, int]:
    org = request.args.get("org", type=int)
    page = request.args.get("page", type=int)
    return (org if valid_id(org) else None), (page if valid_id(page) else 1)


def _unit_choices(kind: str) -> list:
    units = programme.units(db_session(), actor(), UNIT_LEVELS[kind])
    return choices([(o.id, o.name) for o in units])


def render_list(kind: str, *, form=None, row_error: tuple[int, str] | None = None, error=None, status: int = 200):
    """The list page of one kind with its filter, its create form (for those who may) and row forms."""
    _require_page()
    s, who = db_session(), actor()
    org_id, page_no = _args()
    page = LISTS[kind](s, who, org_id=org_id, page=page_no)
    unit_choices = _unit_choices(kind)
    if form is None and unit_choices:
        form = _new_form(kind, formdata=None)
    if form is not None:
        _fill_choices(kind, form, unit_choices)
    extra: dict = {}
    if kind == "areas":
        extra["linkable"] = {a.id: programme.linkable_products(s, who, a) for a in page.items if can(who, ACTION, a)}
    if kind == "trainings":
        roles = registry().catalogue.trainee_roles
        extra["roles"] = [(key, label.get(locale())) for key, label in roles.items()]
        extra["typed_people"] = request.form if request.method == "POST" else {}
    return render_template(
        f"programme/{kind}.html",
        kind=kind,
        page=page,
        form=form,
        org_options=organisation_options(s, who, ("district", "commune")),
        org_id=org_id,
        args={"org": org_id} if org_id else {},
        can_record=lambda obj: can(who, ACTION, obj),
        row_error=row_error,
        error=error,
        today=programme.today_vn(),
        status_labels=programme.CHAIN_STATUS_LABELS,
        kind_labels=programme.KIND_LABELS,
        typed_number=_typed_number,
        **extra,
    ), status


def _typed_number(value: float | None) -> str:
    """A number to type back into a form: the reader's decimal symbol, no grouping ("1250,5", not "1.250,5",
    which a single-separator reading would take for something else)."""
    if value is None:
        return ""
    loc = locale()
    return format_number(value, loc).replace("." if loc.startswith("vi") else ",", "")


def _new_form(kind: str, formdata=...):
    cls = {"areas": AreaForm, "chains": ChainForm, "sales_points": SalesPointForm, "trainings": TrainingForm}[kind]
    return cls() if formdata is ... else cls(formdata=formdata)


def _fill_choices(kind: str, form, unit_choices: list) -> None:
    field = form.commune_id if kind == "areas" else form.organisation_id
    field.choices = unit_choices
    if kind == "chains":
        producers, products = programme.chain_choices(db_session(), actor())
        form.lead_producer_id.choices = choices([(0, _("— a lead not registered here —")), *producers])
        form.members.choices = choices(producers)
        form.products.choices = choices(products)
    if kind == "trainings":
        form.kind.choices = choices([(k, programme.KIND_LABELS[k].get(locale())) for k in programme.TRAINING_KINDS])


def _done(kind: str, message: str):
    flash(message, "success")
    return redirect(url_for(f"programme.{kind}", **request.args), 303)


def _refused(kind: str, form, exc: OcopError):
    db_session().rollback()
    if not isinstance(exc, (InvalidData, Conflict)):
        raise exc
    error = _place_error(form, exc)
    return render_list(kind, form=form, error=error, status=status_for(exc))


def _row_refused(kind: str, record_id: int, exc: OcopError):
    db_session().rollback()
    if not isinstance(exc, (InvalidData, Conflict)):
        raise exc
    return render_list(kind, row_error=(record_id, _message(exc)), status=status_for(exc))


def _row_form_invalid(kind: str, record_id: int, form):
    message = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    if "csrf_token" in form.errors:
        abort(400)
    return render_list(kind, row_error=(record_id, message), status=422)


# --- the index ----------------------------------------------------------------------------------
@bp.route("")
@login_required
def index():
    _require_page()
    s, who = db_session(), actor()
    return render_template(
        "programme/index.html",
        counts=programme.counts(s, who),
        can_record=bool(programme.units(s, who, ("commune", "district", "province"))),
    )


# --- raw-material areas -------------------------------------------------------------------------
@bp.route("/areas", methods=["GET", "POST"])
@login_required
def areas():
    if request.method == "GET":
        return render_list("areas")
    _require_page()
    form = AreaForm()
    _fill_choices("areas", form, _unit_choices("areas"))
    if not form.validate_on_submit():
        return render_list("areas", form=form, status=422 if "csrf_token" not in form.errors else 400)
    try:
        found = programme.create_area(
            db_session(),
            actor(),
            commune_id=form.commune_id.data,
            name=form.name.data,
            area_ha=form.area_ha.data,
            growing_code=form.growing_code.data or None,
        )
    except OcopError as exc:
        return _refused("areas", form, exc)
    return _done("areas", _("The raw-material area “%(name)s” has been recorded.", name=found.name))


@bp.route("/areas/<int:area_id>/edit", methods=["POST"])
@login_required
def edit_area(area_id: int):
    form = AreaEditForm()
    if not form.validate_on_submit():
        return _row_form_invalid("areas", area_id, form)
    try:
        programme.edit_area(
            db_session(),
            actor(),
            area_id,
            name=form.name.data,
            area_ha=form.area_ha.data,
            growing_code=form.growing_code.data or None,
        )
    except OcopError as exc:
        return _row_refused("areas", area_id, exc)
    return _done("areas", _("The area has been corrected."))


@bp.route("/areas/<int:area_id>/links", methods=["POST"])
@login_required
def link_product(area_id: int):
    form = LinkForm()
    if not form.validate_on_submit():
        return _row_form_invalid("areas", area_id, form)
    try:
        link = programme.link_product(
            db_session(), actor(), area_id, product_id=form.product_id.data, linked_on=form.linked_on.data
        )
    except OcopError as exc:
        return _row_refused("areas", area_id, exc)
    return _done("areas", _("“%(product)s” is linked to the area.", product=link.product.name))


@bp.route("/areas/<int:area_id>/links/<int:link_id>/end", methods=["POST"])
@login_required
def unlink_product(area_id: int, link_id: int):
    s, who = db_session(), actor()
    area = programme.get_area(s, who, area_id)
    if all(lk.id != link_id for lk in area.links):
        raise programme.link_not_found(link_id)
    form = DayForm()
    if not form.validate_on_submit():
        return _row_form_invalid("areas", area_id, form)
    try:
        programme.unlink_product(s, who, link_id, unlinked_on=form.day.data)
    except OcopError as exc:
        return _row_refused("areas", area_id, exc)
    return _done("areas", _("The link has ended."))


# --- value chains -------------------------------------------------------------------------------
@bp.route("/chains", methods=["GET", "POST"])
@login_required
def chains():
    if request.method == "GET":
        return render_list("chains")
    _require_page()
    form = ChainForm()
    _fill_choices("chains", form, _unit_choices("chains"))
    if not form.validate_on_submit():
        return render_list("chains", form=form, status=422 if "csrf_token" not in form.errors else 400)
    try:
        found = programme.create_chain(
            db_session(),
            actor(),
            organisation_id=form.organisation_id.data,
            name=form.name.data,
            lead_producer_id=form.lead_producer_id.data or None,
            lead_name=form.lead_name.data,
            members=form.members.data or [],
            products=form.products.data or [],
            started_on=form.started_on.data,
        )
    except OcopError as exc:
        return _refused("chains", form, exc)
    return _done("chains", _("The value chain “%(name)s” has been recorded.", name=found.name))


@bp.route("/chains/<int:chain_id>/<any(working, stop):what>", methods=["POST"])
@login_required
def chain_date(chain_id: int, what: str):
    form = DayForm()
    if not form.validate_on_submit():
        return _row_form_invalid("chains", chain_id, form)
    change = {"working_from": form.day.data} if what == "working" else {"stopped_on": form.day.data}
    try:
        programme.update_chain(db_session(), actor(), chain_id, **change)
    except OcopError as exc:
        return _row_refused("chains", chain_id, exc)
    done = _("The chain is marked working.") if what == "working" else _("The chain is marked stopped.")
    return _done("chains", done)


# --- sales points -------------------------------------------------------------------------------
@bp.route("/sales-points", methods=["GET", "POST"])
@login_required
def sales_points():
    if request.method == "GET":
        return render_list("sales_points")
    _require_page()
    form = SalesPointForm()
    _fill_choices("sales_points", form, _unit_choices("sales_points"))
    if not form.validate_on_submit():
        return render_list("sales_points", form=form, status=422 if "csrf_token" not in form.errors else 400)
    try:
        found = programme.create_sales_point(
            db_session(),
            actor(),
            organisation_id=form.organisation_id.data,
            name=form.name.data,
            address=form.address.data,
            opened_on=form.opened_on.data,
        )
    except OcopError as exc:
        return _refused("sales_points", form, exc)
    return _done("sales_points", _("The sales point “%(name)s” has been recorded.", name=found.name))


@bp.route("/sales-points/<int:point_id>/close", methods=["POST"])
@login_required
def close_sales_point(point_id: int):
    form = DayForm()
    if not form.validate_on_submit():
        return _row_form_invalid("sales_points", point_id, form)
    try:
        programme.close_sales_point(db_session(), actor(), point_id, closed_on=form.day.data)
    except OcopError as exc:
        return _row_refused("sales_points", point_id, exc)
    return _done("sales_points", _("The sales point is closed."))


# --- trainings ----------------------------------------------------------------------------------
@bp.route("/trainings", methods=["GET", "POST"])
@login_required
def trainings():
    if request.method == "GET":
        return render_list("trainings")
    _require_page()
    form = TrainingForm()
    _fill_choices("trainings", form, _unit_choices("trainings"))
    if not form.validate_on_submit():
        return render_list("trainings", form=form, status=422 if "csrf_token" not in form.errors else 400)
    roles = registry().catalogue.trainee_roles
    people = {role: request.form.get(f"people_{role}", "").strip() for role in roles}
    try:
        found = programme.create_training(
            db_session(),
            registry(),
            actor(),
            organisation_id=form.organisation_id.data,
            kind=form.kind.data,
            held_on=form.held_on.data,
            topic=form.topic.data,
            people=people,
        )
    except OcopError as exc:
        return _refused("trainings", form, exc)
    return _done("trainings", _("The session “%(topic)s” has been recorded.", topic=found.topic))
