"""Administration: create users, give roles in organisations, deactivate and reactivate accounts;
the mail outbox (what waits, what failed and why) with a retry button."""

from __future__ import annotations

from functools import wraps
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.formats import format_number
from ocop_workflow.notify import outbox
from ocop_workflow.services import directory
from ocop_workflow.services.access import get_visible_producer
from ocop_workflow.services.accounts import (
    admin_organisations,
    get_user_for_admin,
    is_admin,
    set_user_active,
    users_for_admin,
)
from ocop_workflow.services.producers import producers_for_actor

from ..context import actor, db_session, locale, registry
from ..forms import choices
from ..inputs import int_arg
from .forms import ActiveForm, MembershipForm, RetryForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not is_admin(actor()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _choices(form) -> None:
    loc, cat = locale(), registry().catalogue
    form.organisation_id.choices = choices(
        [(o.id, f"{o.name} ({cat.levels[o.level].get(loc)})") for o in admin_organisations(db_session(), actor())]
    )
    form.role.choices = choices([(k, r.label.get(loc)) for k, r in cat.roles.items()])
    form.producer_id.choices = [("", "—")] + [
        (p.id, f"{p.name} — {p.commune.name}") for p in producers_for_actor(db_session(), actor())
    ]


def _producer(form):
    return get_visible_producer(db_session(), actor(), form.producer_id.data) if form.producer_id.data else None


def _allowed_org(org_id: int):
    for org in admin_organisations(db_session(), actor()):
        if org.id == org_id:
            return org
    abort(404)


@bp.route("/users")
@admin_required
def users():
    return render_template("admin/users.html", users=users_for_admin(db_session(), actor()))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def create_user():
    s = db_session()
    form = UserForm()
    _choices(form)
    if form.validate_on_submit():
        org = _allowed_org(form.organisation_id.data)
        try:
            user = directory.create_user(
                s, email=form.email.data, name=form.name.data, password=form.password.data, locale=form.locale.data
            )
            directory.add_membership(s, registry(), user, org, form.role.data, actor=actor(), producer=_producer(form))
        except InvalidData as exc:
            s.rollback()
            (form.password if exc.details.get("field") == "password" else form.email).errors.append(
                exc.message(locale())
            )
        else:
            flash(_("The user has been created."), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form), (422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    s = db_session()
    target = get_user_for_admin(s, actor(), user_id)
    form = MembershipForm()
    _choices(form)
    if form.validate_on_submit():
        org = _allowed_org(form.organisation_id.data)
        try:
            directory.add_membership(
                s, registry(), target, org, form.role.data, actor=actor(), producer=_producer(form)
            )
        except InvalidData as exc:
            s.rollback()
            form.role.errors.append(exc.message(locale()))
        else:
            flash(_("The role has been given."), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user.html", target=target, form=form, active_form=ActiveForm()), (
        422 if form.errors else 200
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def set_active(user_id: int):
    s, who = db_session(), actor()
    get_user_for_admin(s, who, user_id)  # 404 first, whatever the form holds
    form = ActiveForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            set_user_active(s, who, user_id, active)
        except InvalidData:
            flash(_("You cannot deactivate your own account."), "error")
        else:
            flash(
                _("The account is active again.")
                if active
                else _("The account has been deactivated; its sessions have ended."),
                "success",
            )
    return redirect(url_for("admin.user", user_id=user_id))


OUTBOX_PAGE = 25
OUTBOX_VIEWS = {
    "waiting": ("pending", "sending", "failed"),
    "failed": ("failed",),
    "sent": ("sent",),
    "cancelled": ("cancelled",),
}


@bp.route("/outbox")
@admin_required
def mail_outbox():
    """The e-mail queue of the users this admin administers: failed sends show their last error."""
    s, who = db_session(), actor()
    view = request.args.get("show", "waiting")
    if view not in OUTBOX_VIEWS:
        view = "waiting"
    counts = outbox.mail_counts(s, who)
    # 25 compact rows a page, oldest first: a phone reads a page, not thousands of rows (issue #11)
    total = sum(counts.get(status, 0) for status in OUTBOX_VIEWS[view])
    pages = max(1, -(-total // OUTBOX_PAGE))
    number = min(int_arg("page", 1) or 1, pages)
    rows = outbox.list_mail(s, who, statuses=OUTBOX_VIEWS[view], limit=OUTBOX_PAGE, offset=(number - 1) * OUTBOX_PAGE)
    page = SimpleNamespace(
        page=number,
        pages=pages,
        pages_label=format_number(pages, locale()),
        has_prev=number > 1,
        has_next=number < pages,
    )
    return render_template(
        "admin/outbox.html",
        rows=rows,
        page=page,
        counts=counts,
        view=view,
        views=list(OUTBOX_VIEWS),
        retry_form=RetryForm(),
    )


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
@admin_required
def retry_mail(outbox_id: int):
    form = RetryForm()
    if form.validate_on_submit():
        try:
            outbox.retry_mail(db_session(), outbox_id, actor())
        except NotFound:
            abort(404)
        except InvalidData as exc:
            flash(exc.message(locale()), "error")
        else:
            flash(_("The message will be sent again at the next sweep."), "success")
    return redirect(url_for("admin.mail_outbox", show=request.args.get("show", "waiting")))
