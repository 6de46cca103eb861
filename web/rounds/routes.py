"""Councils, evaluation rounds and score sheets (issue #9, Build 6): the secretariat's council and
round pages, the member's queue ("Sản phẩm chờ chấm") and the score sheet.

Views decide nothing: every yes/no is the services' (`councils`, `rounds`, `sheets`), whose typed
errors become the status codes of web/errors.py. A failed action re-renders its page with the
message (and the status), after rolling the request's transaction back.

The score sheet posts like any form without JavaScript (redirect after a save). With
web/static/sheet.js it posts with fetch and gets JSON: the script keeps unsent answers in
localStorage and retries after a dropped connection. The service refuses a save made from a stale
version (409); the JSON of that refusal carries the stored answers and version, so the script can
tell "my own save whose reply was lost" (same answers: carry on) from a change made elsewhere.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ocop_workflow.errors import Conflict, InvalidData, OcopError, StaleVersion
from ocop_workflow.exports import close_round_and_file_minutes
from ocop_workflow.formats import format_date, format_number
from ocop_workflow.models import COUNCIL_POSITIONS, CouncilMember
from ocop_workflow.services import councils as council_service
from ocop_workflow.services import rounds as round_service
from ocop_workflow.services import sheets as sheet_service
from ocop_workflow.services.authz import can, require
from ocop_workflow.services.products import definition_of
from ocop_workflow.services.round_pages import candidate_products, score_outcomes

from ..context import actor, db_session, locale, read_session, registry, state
from ..errors import status_for
from ..forms import choices
from ..inputs import StaleForm, hidden_int
from .forms import ActionForm, AddProductForm, CouncilForm, MemberForm, RecuseForm, RemoveMemberForm, RoundForm

bp = Blueprint("rounds", __name__)


# --- template helpers ---------------------------------------------------------------------------------


@bp.app_template_filter("pts")
def points_filter(value: object, places: int | None = 2) -> str:
    """A score in the reader's language: 85,50 in Vietnamese (decimal comma), 85.50 in English;
    `places=None`: as few decimals as the value needs (an option's 2 or 0,5)."""
    return format_number(value, locale(), places)


@bp.app_template_filter("vndate")
def date_filter(value) -> str:
    """A date as dd/mm/yyyy (both languages: the app's dates are Vietnamese dates)."""
    return format_date(value)


SEATS_TTL = 60.0  # seconds a user's seats are kept for the menu (this process's changes clear it at once)


def _seat_cache() -> dict:
    from flask import current_app

    return current_app.extensions.setdefault("ocop_council_seats", {})


def forget_seats() -> None:
    """After a change of seats: the menu reads them again."""
    _seat_cache().clear()


@bp.app_template_global()
def council_nav() -> dict:
    """What the navigation shows of councils: the queue for members with a scoring seat, the
    councils for those who may set them up or sit on one. The seats are kept a minute per user in
    this process, so that a page costs no statement for its menu."""
    if not current_user.is_authenticated:
        return {"queue": False, "councils": False}
    who = current_user.actor
    cache = _seat_cache()
    now = time.monotonic()
    hit = cache.get(who.id)
    if hit is not None and now - hit[0] < SEATS_TTL:
        return hit[1]
    seats = set(read_session().scalars(select(CouncilMember.position).where(CouncilMember.user_id == who.id)))
    value = {
        "queue": bool(seats & set(who.policy.council.score)),
        "councils": bool(seats) or can(who, "manage_councils") or can(who, "run_rounds"),
    }
    if len(cache) > 10_000:
        cache.clear()
    cache[who.id] = (now, value)
    return value


def position_label(key: str) -> str:
    labels = actor().policy.council.positions
    return labels[key].get(locale()) if key in labels else key


def _position_choices() -> list:
    return choices([(k, position_label(k)) for k in COUNCIL_POSITIONS])


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or (request.accept_mimetypes.best == "application/json")


def _message(exc: OcopError) -> str:
    return exc.message(locale())


# --- councils -----------------------------------------------------------------------------------------


@bp.route("/councils")
@login_required
def councils():
    s, who = db_session(), actor()
    return render_template(
        "rounds/councils.html",
        councils=council_service.list_councils(s, who),
        can_create=bool(council_service.council_organisations(s, who)),
    )


@bp.route("/councils/new", methods=["GET", "POST"])
@login_required
def create_council():
    s, who = db_session(), actor()
    orgs = council_service.council_organisations(s, who)
    if not orgs:  # say why (the service would answer the same for a POST)
        require(who, "manage_councils", None)
        abort(403)
    form = CouncilForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in orgs])
    error = None
    if form.validate_on_submit():
        try:
            council = council_service.create_council(
                s,
                who,
                organisation_id=form.organisation_id.data,
                name=form.name.data,
                decision_number=form.decision_number.data,
                decision_date=form.decision_date.data,
                valid_from=form.valid_from.data,
                valid_until=form.valid_until.data,
            )
        except InvalidData as exc:
            s.rollback()
            error = _message(exc)
        else:
            flash(_("The council has been set up. Now seat its members."), "success")
            return redirect(url_for("rounds.council", council_id=council.id))
    status = 422 if (form.errors or error) else 200
    return render_template("rounds/council_form.html", form=form, error=error), status


def render_council(council_id: int, *, member_form=None, round_form=None, error: str | None = None, status=200):
    s, who = db_session(), actor()
    council = council_service.get_visible_council(s, who, council_id)
    can_manage = can(who, "manage_councils", council)
    can_run = can(who, "run_rounds", council)
    if member_form is None and can_manage:
        member_form = MemberForm(formdata=None)
    if member_form is not None:
        member_form.position.choices = _position_choices()
    if round_form is None and can_run:
        round_form = RoundForm(formdata=None)
    rounds = [r for r in round_service.list_rounds(s, who) if r.council_id == council.id]
    return render_template(
        "rounds/council.html",
        council=council,
        members=council.members,
        can_manage=can_manage,
        can_run=can_run,
        member_form=member_form,
        remove_form=RemoveMemberForm(formdata=None) if can_manage else None,
        round_form=round_form,
        rounds=rounds,
        error=error,
        position_label=position_label,
        status_labels=round_service.STATUS_LABELS,
    ), status


@bp.route("/councils/<int:council_id>")
@login_required
def council(council_id: int):
    return render_council(council_id)


@bp.route("/councils/<int:council_id>/members", methods=["POST"])
@login_required
def set_member(council_id: int):
    s, who = db_session(), actor()
    council_service.get_visible_council(s, who, council_id)  # an unknown council is 404 whatever the form
    form = MemberForm()
    form.position.choices = _position_choices()
    if not form.validate():
        return render_council(council_id, member_form=form, status=422)
    try:
        seat = council_service.set_member(s, who, council_id, form.email.data.strip(), form.position.data)
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return render_council(council_id, member_form=form, error=_message(exc), status=status_for(exc))
    forget_seats()
    flash(_("%(name)s: %(position)s.", name=seat.user.name, position=position_label(seat.position)), "success")
    return redirect(url_for("rounds.council", council_id=council_id))


@bp.route("/councils/<int:council_id>/members/remove", methods=["POST"])
@login_required
def remove_member(council_id: int):
    s, who = db_session(), actor()
    council_service.get_visible_council(s, who, council_id)
    form = RemoveMemberForm()
    if not form.validate():
        raise StaleForm()
    try:
        council_service.remove_member(s, who, council_id, form.email.data)
    except InvalidData as exc:
        s.rollback()
        return render_council(council_id, error=_message(exc), status=status_for(exc))
    forget_seats()
    flash(_("The member has been removed from the council."), "success")
    return redirect(url_for("rounds.council", council_id=council_id))


@bp.route("/councils/<int:council_id>/rounds", methods=["POST"])
@login_required
def create_round(council_id: int):
    s, who = db_session(), actor()
    council_service.get_visible_council(s, who, council_id)
    form = RoundForm()
    if not form.validate():
        return render_council(council_id, round_form=form, status=422)
    try:
        found = round_service.create_round(s, who, council_id, name=form.name.data, meeting_date=form.meeting_date.data)
    except InvalidData as exc:
        s.rollback()
        return render_council(council_id, round_form=form, error=_message(exc), status=status_for(exc))
    flash(_("The round has been created. Add its products, then open it for scoring."), "success")
    return redirect(url_for("rounds.round_page", round_id=found.id))


# --- rounds -------------------------------------------------------------------------------------------


@bp.route("/rounds")
@login_required
def rounds():
    s, who = db_session(), actor()
    return render_template(
        "rounds/rounds.html", rounds=round_service.list_rounds(s, who), status_labels=round_service.STATUS_LABELS
    )


def render_round(round_id: int, *, add_form=None, error: str | None = None, status: int = 200):
    s, who, reg = db_session(), actor(), registry()
    view = round_service.round_view(s, reg, who, round_id)
    found = view.round
    candidates = []
    if view.can_run and found.status != "closed":
        candidates = candidate_products(s, reg, who, found)
        if add_form is None:
            add_form = AddProductForm(formdata=None)
        add_form.product_id.choices = choices([(p.id, f"{p.name} — {p.commune.name}") for p in candidates])
    outcomes = {}
    for ev in view.entries:
        if ev.entry.status == "pending":
            definition = definition_of(reg, ev.product)
            outcomes[ev.entry.id] = score_outcomes(reg, definition, ev.entry.review_state)
    members = council_service.scoring_members(who, view.council)
    return render_template(
        "rounds/round.html",
        may_draft_decision=_may_draft_decision(s, reg, who, found, view.council),
        view=view,
        round=found,
        council=view.council,
        members=members,
        candidates=candidates,
        add_form=add_form,
        action_form=ActionForm(formdata=None),
        outcomes=outcomes,
        error=error,
        position_label=position_label,
        status_labels=round_service.STATUS_LABELS,
        outcome_labels=round_service.OUTCOME_LABELS,
    ), status


@bp.route("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    return render_round(round_id)


def _may_draft_decision(s, reg, who, found, council) -> bool:
    """A closed round some of whose products await its council's level's recognition decision, for an
    actor who may draft that level's decisions (issue #10: the round page links the draft form)."""
    from ocop_workflow.services.decisions import awaiting_products

    org = council.organisation
    if found.status != "closed" or not can(who, "draft_decisions", org):
        return False
    return bool(awaiting_products(s, reg, org, round_id=found.id))


def _round_action(round_id: int, run, done: str):
    """One button of the round page: CSRF by Flask-WTF, the service decides, errors re-render."""
    s, who = db_session(), actor()
    round_service.get_visible_round(s, who, round_id)  # 404 first for a round out of reach
    try:
        run(s, who)
    except (InvalidData, Conflict, StaleVersion) as exc:
        s.rollback()
        return render_round(round_id, error=_message(exc), status=status_for(exc))
    flash(done, "success")
    return redirect(url_for("rounds.round_page", round_id=round_id))


@bp.route("/rounds/<int:round_id>/products", methods=["POST"])
@login_required
def add_product(round_id: int):
    s, who = db_session(), actor()
    round_service.get_visible_round(s, who, round_id)
    form = AddProductForm()
    form.product_id.choices = []
    if not form.validate():
        return render_round(round_id, add_form=form, status=422)
    product_id = form.product_id.data
    return _round_action(
        round_id,
        lambda s, who: round_service.add_product(s, registry(), who, round_id, product_id, today=_local_today()),
        _("The product has been added to the round."),
    )


@bp.route("/rounds/<int:round_id>/products/<int:product_id>/remove", methods=["POST"])
@login_required
def remove_product(round_id: int, product_id: int):
    return _round_action(
        round_id,
        lambda s, who: round_service.remove_product(s, who, round_id, product_id),
        _("The product has been taken out of the round."),
    )


@bp.route("/rounds/<int:round_id>/open", methods=["POST"])
@login_required
def open_round(round_id: int):
    return _round_action(
        round_id,
        lambda s, who: round_service.open_round(s, who, round_id, today=_local_today()),
        _("The round is open: members can now score its products."),
    )


@bp.route("/rounds/<int:round_id>/products/<int:product_id>/close", methods=["POST"])
@login_required
def close_product(round_id: int, product_id: int):
    return _round_action(
        round_id,
        lambda s, who: round_service.close_product(s, registry(), who, round_id, product_id),
        _("The product's scoring is closed and its result recorded."),
    )


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@login_required
def close_round(round_id: int):
    return _round_action(
        round_id,
        lambda s, who: close_round_and_file_minutes(
            s,
            registry(),
            who,
            round_id,
            upload_dir=state().upload_dir,
            max_bytes=state().max_upload_bytes,
            zip_limits=state().zip_limits,
        ),
        _("The round is closed."),
    )


def _local_today() -> date:
    """Today in the application's time zone (meeting dates are local dates)."""
    return datetime.now(state().tz).date()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/rounds/<int:round_id>/minutes.docx")
@login_required
def minutes(round_id: int):
    s, who, reg = db_session(), actor(), registry()
    view = round_service.round_view(s, reg, who, round_id)  # 404 outside, before anything else
    from ocop_workflow.exports import build_minutes  # branch wt-api

    return _download(build_minutes(view, reg, locale()), DOCX, f"bien-ban-dot-{round_id}.docx")


@bp.route("/rounds/<int:round_id>/sheets.xlsx")
@login_required
def sheets_xlsx(round_id: int):
    s, who, reg = db_session(), actor(), registry()
    view = round_service.round_view(s, reg, who, round_id)  # 404 outside, before anything else
    from ocop_workflow.exports import build_sheets_xlsx  # branch wt-api

    return _download(build_sheets_xlsx(view, reg, locale()), XLSX, f"phieu-cham-dot-{round_id}.xlsx")


# --- the member's queue and score sheet ---------------------------------------------------------------


@bp.route("/queue")
@login_required
def queue():
    s, who = db_session(), actor()
    groups: dict[int, tuple] = {}
    for item in sheet_service.member_queue(s, who):
        groups.setdefault(item.round.id, (item.round, []))[1].append(item)
    return render_template("rounds/queue.html", groups=list(groups.values()))


def _version(raw: object) -> int | None:
    """The sheet version the page was made from: "" (none sent), "0" (no sheet yet) or a number."""
    if isinstance(raw, str) and raw.strip() == "0":
        return 0
    return hidden_int(raw)


def render_sheet(round_id: int, product_id: int, *, answers=None, error=None, recuse_form=None, status=200):
    s, who, reg = db_session(), actor(), registry()
    view = sheet_service.sheet_view(s, reg, who, round_id, product_id)
    own = view.sheet
    if answers is None:
        answers = {k: v for k, v in ((own.answers or {}) if own else {}).items()}
    definition = definition_of(reg, view.product)
    return render_template(
        "rounds/sheet.html",
        view=view,
        round=view.round,
        product=view.product,
        criteria=view.criteria,
        sheet=own,
        answers={k: _as_number(v) for k, v in answers.items()},
        outcomes=score_outcomes(reg, definition, view.entry.review_state),
        action_form=ActionForm(formdata=None),
        recuse_form=recuse_form or RecuseForm(formdata=None),
        error=error,
    ), status


@bp.app_template_filter("ansval")
def _as_number(value: object) -> str:
    """An answer as the value of an input or option: '7', '7.5' (never '7.0')."""
    try:
        d = Decimal(str(value).replace(",", "."))
    except ArithmeticError:
        return str(value)
    if not d.is_finite():
        return str(value)
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _sheet_state(sheet) -> dict:
    return {
        "version": sheet.version if sheet is not None else 0,
        "status": sheet.status if sheet is not None else None,
        "answers": dict(sheet.answers or {}) if sheet is not None else {},
        "part_totals": dict(sheet.part_totals or {}) if sheet is not None else {},
        "total": sheet.total if sheet is not None else None,
    }


@bp.route("/rounds/<int:round_id>/products/<int:product_id>/sheet", methods=["GET", "POST"])
@login_required
def sheet(round_id: int, product_id: int):
    if request.method == "GET":
        return render_sheet(round_id, product_id)
    s, who, reg = db_session(), actor(), registry()
    as_json = _wants_json()
    sheet_service.sheet_view(s, reg, who, round_id, product_id)  # 404/403 before the form is read
    action = request.form.get("action")
    if action not in ("save", "submit"):
        raise StaleForm()
    expected = _version(request.form.get("expected_version"))
    answers = {k[2:]: v for k, v in request.form.items() if k.startswith("c:") and len(k) > 2}
    try:
        saved = sheet_service.save_sheet(
            s, reg, who, round_id, product_id, answers, submit=action == "submit", expected_version=expected
        )
    except StaleVersion:
        s.rollback()
        current = sheet_service.sheet_view(s, reg, who, round_id, product_id).sheet
        message = _(
            "This sheet was changed elsewhere (another tab or device). Reload the page to see the saved "
            "version, or save again to keep what this page shows."
        )
        if as_json:
            return jsonify(error=message, **_sheet_state(current)), 409
        return render_sheet(round_id, product_id, answers=answers, error=message, status=409)
    except (InvalidData, Conflict) as exc:
        s.rollback()
        code = status_for(exc)
        if as_json:
            return jsonify(error=_message(exc), final=isinstance(exc, Conflict)), code
        return render_sheet(round_id, product_id, answers=answers, error=_message(exc), status=code)
    submitted = saved.status == "submitted"
    message = _("Your sheet has been submitted.") if submitted else _("Draft saved.")
    target = url_for("rounds.queue") if submitted else url_for("rounds.sheet", round_id=round_id, product_id=product_id)
    if as_json:
        s.flush()
        state = _sheet_state(saved)
        if submitted:
            flash(message, "success")
        return jsonify(ok=True, message=message, redirect=target if submitted else None, **state)
    flash(message, "success")
    return redirect(target)


@bp.route("/rounds/<int:round_id>/products/<int:product_id>/recuse", methods=["POST"])
@login_required
def recuse(round_id: int, product_id: int):
    s, who, reg = db_session(), actor(), registry()
    sheet_service.sheet_view(s, reg, who, round_id, product_id)
    form = RecuseForm()
    if not form.validate():
        return render_sheet(round_id, product_id, recuse_form=form, status=422)
    try:
        sheet_service.recuse(s, reg, who, round_id, product_id, form.reason.data)
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return render_sheet(round_id, product_id, recuse_form=form, error=_message(exc), status=status_for(exc))
    flash(_("You have declined to score this product; the council will not count you for it."), "success")
    return redirect(url_for("rounds.queue"))
