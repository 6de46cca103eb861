"""Log in and out, change the password (which ends every other session), choose the language."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ocop_workflow.errors import NotFound, PermissionDenied
from ocop_workflow.i18n import LOCALES
from ocop_workflow.models import User
from ocop_workflow.passwords import hash_password, needs_rehash, verify_password
from ocop_workflow.services.access import Actor, load_actor

from ..context import actor, db_session, read_session, registry
from ..extensions import limiter, login_manager
from .forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)
# a real hash of a random password: unknown e-mails cost the same time as wrong passwords
_DUMMY_HASH = hash_password("not-a-password-0123456789")


class WebUser:
    """What flask-login holds: the core Actor plus the session token bound to the password."""

    is_active = True
    is_anonymous = False
    is_authenticated = True

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    @property
    def user(self) -> User:
        return self.actor.user

    @property
    def locale(self) -> str:
        return self.actor.locale

    def get_id(self) -> str:
        return f"{self.user.id}:{session_token(self.user)}"


def session_token(user: User) -> str:
    """Changes whenever the password changes, so every session made with the old one stops working."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    msg = f"{user.id}:{user.password_hash or ''}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:24]


@login_manager.user_loader
def load_user(user_id: str) -> WebUser | None:
    uid, _sep, token = user_id.partition(":")
    try:
        # not the writer: a POST claims it only to write
        who = load_actor(read_session(), int(uid), policy=registry().policy)
    except (NotFound, PermissionDenied, ValueError):
        return None
    if not hmac.compare_digest(token, session_token(who.user)):
        return None
    return WebUser(who)


@login_manager.unauthorized_handler
def _unauthorized():  # noqa: ANN202
    flash(_("Please log in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None, default: str) -> str:
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        s = read_session()  # argon2 takes a while: the writer is claimed only to store a rehash
        email = form.email.data.strip().lower()
        user = s.scalars(select(User).where(User.email == email)).one_or_none()
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, form.password.data)
        if user is not None and ok and user.active:
            if needs_rehash(user.password_hash):
                rehashed = hash_password(form.password.data)
                db_session()
                user.password_hash = rehashed
            session.pop("locale", None)
            login_user(WebUser(load_actor(s, user.id, policy=registry().policy)), remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.index")))
        form.password.errors.append(_("Wrong e-mail or password, or the account is deactivated."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():  # noqa: ANN201
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():  # noqa: ANN201
    form = PasswordForm()
    if form.validate_on_submit():
        user = actor().user
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            user.password_hash = hash_password(form.new.data)
            db_session().flush()
            # this session gets the new token; every other session and remember cookie stops working
            login_user(current_user._get_current_object(), remember=False)
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, user=actor().user, memberships=actor().memberships)


@bp.route("/language", methods=["POST"])
def language():  # noqa: ANN201
    chosen = request.form.get("locale", "")
    if chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            current_user.user.locale = chosen
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.index")))
