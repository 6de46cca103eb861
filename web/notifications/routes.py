"""The bell: the user's in-app notifications and how they want reminder e-mails.

Everything goes through ocop_workflow.notify.inbox, which only ever touches the caller's own
rows: another user's notification is reported as not found (404), like any object out of scope.
"""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ocop_workflow.errors import NotFound
from ocop_workflow.notify import inbox

from ..auth.routes import safe_next
from ..context import actor, db_session, locale
from ..forms import choices
from ..inputs import int_arg
from .forms import EmailModeForm, MarkReadForm, OpenForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 30
# The bell's count is kept in the session for a minute: every page shows it, and the sweep that
# writes notifications runs every few minutes, so a query per page would buy nothing.
BELL_SECONDS = 60
_BELL = "ocop_bell"


def unread_for_bell() -> int:
    """The unread count shown on every page (0 when logged out)."""
    if not current_user.is_authenticated:
        return 0
    user_id = actor().id
    cached = session.get(_BELL)
    if cached and cached[0] == user_id and cached[2] > time.time():
        return int(cached[1])
    count = inbox.unread_count(db_session(), user_id)
    session[_BELL] = [user_id, count, time.time() + BELL_SECONDS]
    return count


def _forget_bell() -> None:
    session.pop(_BELL, None)


def _email_form() -> EmailModeForm:
    form = EmailModeForm()
    form.mode.choices = choices([(k, t.get(locale())) for k, t in inbox.EMAIL_MODE_LABELS.items()])
    return form


def _page(email_form: EmailModeForm, status: int = 200):
    s, who = db_session(), actor()
    rows = inbox.list_notifications(s, who.id, limit=PER_PAGE + 1, before_id=int_arg("before"))
    return render_template(
        "notifications/index.html",
        rows=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        email_form=email_form,
        read_form=MarkReadForm(),
        open_form=OpenForm(),
        unread=inbox.unread_count(s, who.id),
        notice_text=lambda n: inbox.notice_text(n, locale()),
    ), status


@bp.route("/")
@login_required
def index():
    form = _email_form()
    form.mode.data = inbox.get_email_mode(db_session(), actor().id)
    return _page(form)


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id: int):
    form = OpenForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("notifications.index"))
    try:
        n = inbox.open_notification(db_session(), actor().id, notification_id)
    except NotFound:
        abort(404)
    _forget_bell()
    # links are written by the sweep and are paths of this site; anything else stays here
    return redirect(safe_next(n.link, url_for("notifications.index")))


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    form = MarkReadForm()
    if form.validate_on_submit():
        n = inbox.mark_read(db_session(), actor().id)
        _forget_bell()
        flash(_("%(num)d notifications marked as read.", num=n), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/email", methods=["POST"])
@login_required
def email_mode():
    form = _email_form()
    if not form.validate_on_submit():
        return _page(form, 422)
    inbox.set_email_mode(db_session(), actor().id, form.mode.data)
    flash(_("Your e-mail choice has been saved."), "success")
    return redirect(url_for("notifications.index"))
