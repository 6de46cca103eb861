"""Log in and out, change the password, choose the language: thin views over services.auth and
services.sessions (which say why a login is a server-side session that logout really ends).

flask-login's user id is the login's session token, so the session cookie and the remember cookie
both carry it, and both die with the row. Failed logins are throttled per account and per address
in the database (services.auth); the API's per-token rate limit stays in Flask-Limiter's memory.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from ocop_workflow.errors import InvalidData
from ocop_workflow.i18n import LOCALES
from ocop_workflow.models import User
from ocop_workflow.passwords import MIN_LENGTH
from ocop_workflow.services import auth as auth_service
from ocop_workflow.services import sessions as login_sessions
from ocop_workflow.services.access import Actor, load_actor

from ..context import READ_METHODS, actor, db_session, locale, read_session, registry, state
from ..extensions import login_manager
from .forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


class WebUser:
    """What flask-login holds: the core Actor and the server-side session of this login."""

    is_active = True
    is_anonymous = False
    is_authenticated = True

    def __init__(self, actor: Actor, session_id: int, token: str) -> None:
        self.actor = actor
        self.session_id = session_id
        self._token = token

    @property
    def user(self) -> User:
        return self.actor.user

    @property
    def locale(self) -> str:
        return self.actor.locale

    def get_id(self) -> str:
        return self._token


@login_manager.user_loader
def load_user(token: str) -> WebUser | None:
    # not the writer: a POST claims it only when its view writes (web.context)
    live = login_sessions.load_login(read_session(), token, policy=registry().policy)
    if live is None:
        return None
    if request.method not in READ_METHODS:  # reads stay read-only; a write notes the use
        _record_use(live)
    return WebUser(live.actor, live.session_id, token)


def _record_use(live: login_sessions.LiveLogin) -> None:
    """Note the login's use (at most every few minutes) in a short transaction of its own, skipped
    when another writer is busy: authentication never claims the request's writer."""
    if not login_sessions.due_for_touch(live.last_seen_at):
        return
    st = state()
    lock = st.write_lock if st.db.is_sqlite else None
    if lock is not None and not lock.acquire(blocking=False):
        return
    try:
        with st.db.transaction() as s:
            login_sessions.touch(s, live.session_id, live.last_seen_at)
    except SQLAlchemyError as exc:
        log.warning("could not record the use of session #%s: %s", live.session_id, type(exc).__name__)
    finally:
        if lock is not None:
            lock.release()


@login_manager.unauthorized_handler
def _unauthorized():
    flash(_("Please log in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None, default: str) -> str:
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _limits() -> auth_service.LoginLimits:
    c = current_app.config
    return auth_service.LoginLimits(
        account_limit=int(c["LOGIN_ACCOUNT_LIMIT"]),
        ip_limit=int(c["LOGIN_IP_LIMIT"]),
        window=timedelta(minutes=int(c["LOGIN_WINDOW_MINUTES"])),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        limits = _limits()
        try:
            # read and verify outside the write transaction: argon2 never holds SQLite's writer lock
            with state().db.session() as read:
                check = auth_service.check_login(
                    read, form.email.data, form.password.data, ip=request.remote_addr, limits=limits
                )
            s = db_session()
            user = auth_service.finish_login(s, check, limits=limits)
        except auth_service.LoginThrottled as exc:
            form.password.errors.append(exc.message(locale()))
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except auth_service.LoginFailed:
            form.password.errors.append(_("Wrong e-mail or password, or the account is deactivated."))
        else:
            remember = bool(form.remember.data)
            config = current_app.config
            lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]
            started = login_sessions.start_session(
                s,
                user,
                lifetime=lifetime,
                remember=remember,
                user_agent=request.user_agent.string,
                ip=request.remote_addr,
            )
            session.pop("locale", None)
            who = load_actor(s, user.id, policy=registry().policy)
            login_user(
                WebUser(who, started.row.id, started.token), remember=remember, duration=lifetime if remember else None
            )
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # the row ends here: a copy of this session's cookies is refused from now on
        login_sessions.end_session(db_session(), current_user.session_id)
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            changed = auth_service.change_password(
                db_session(),
                actor(),
                form.current.data,
                form.new.data,
                revoke_tokens=bool(form.revoke_tokens.data),
                keep_session=current_user.session_id,
            )
        except InvalidData as exc:
            field = form.current if exc.details.get("field") == "current" else form.new
            field.errors.append(exc.message(locale()))
        else:
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            if changed.tokens_revoked:
                flash(_("Your API tokens have been revoked (%(n)s).", n=changed.tokens_revoked), "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=form, user=actor().user, memberships=actor().memberships, min_length=MIN_LENGTH
    )


@bp.route("/language", methods=["POST"])
def language():
    chosen = request.form.get("locale", "")
    if current_user.is_authenticated:
        auth_service.set_locale(db_session(), actor(), chosen)  # refuses an unknown language (422)
    elif chosen not in LOCALES:
        raise auth_service.unknown_locale()
    session["locale"] = chosen
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.index")))
