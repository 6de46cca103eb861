"""The page where users manage their own API tokens: create (the token is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.errors import InvalidData
from ocop_workflow.services import tokens

from ..context import actor, db_session, locale
from ..forms import choices
from .forms import LIFETIMES, RevokeForm, TokenForm

bp = Blueprint("api_tokens", __name__)


def _lifetimes() -> list:
    return choices([(d, _("%(num)d days", num=d) if d else _("Until revoked")) for d in LIFETIMES])


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    who = actor()
    rows = tokens.list_tokens(db_session(), who.id)
    response = render_template("api/tokens.html", form=form, rows=rows, status_of=tokens.status, new_token=new_token)
    headers = {"Cache-Control": "no-store"} if new_token else {}
    return response, status, headers


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    form.expires.choices = _lifetimes()
    if form.validate_on_submit():
        try:
            issued = tokens.create_token(
                db_session(), actor().user, name=form.name.data, expires_days=form.expires.data or None
            )
        except InvalidData as exc:
            form.name.errors.append(exc.message(locale()))
        else:
            fresh = TokenForm(formdata=None)
            fresh.expires.choices = _lifetimes()
            return _page(fresh, new_token=issued.token)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    if RevokeForm().validate_on_submit():
        row = tokens.revoke_token(db_session(), token_id, user_id=actor().id)
        flash(_("The token “%(name)s” has been revoked; it no longer works.", name=row.name), "success")
    return redirect(url_for("api_tokens.index"))
