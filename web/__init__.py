"""The OCOP Workflow web application (Flask). Everything it does goes through ocop_workflow.services."""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import get_registry
from ocop_workflow.services.uploads import ZipLimits

from .context import OcopState, register_session_handling
from .extensions import babel, csrf, limiter, login_manager
from .i18n import TRANSLATIONS, fast_timezone, register_i18n, select_locale, select_timezone
from .inputs import register_input_checks
from .security import register_security_headers


def _secret_key(settings: Settings) -> str:
    """OCOP_SECRET_KEY, or a random key kept in the instance folder (never in the repository)."""
    if settings.secret_key:
        return settings.secret_key
    instance = settings.instance_path
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


# Flask config keys that mirror a setting. An override of one (tests, bench) changes the Settings the app is
# built from, so the app's config and the Settings it keeps never disagree.
_FROM_SETTINGS = {
    "DATABASE_URL": ("database_url", str),
    "UPLOAD_DIR": ("upload_dir", Path),
    "WORKFLOWS_DIR": ("workflows_dir", Path),
    "DEFAULT_WORKFLOW": ("default_workflow", str),
    "MAX_UPLOAD_BYTES": ("max_upload_bytes", int),
    "MAX_UNZIPPED_BYTES": ("max_unzipped_bytes", int),
    "MAX_ZIP_ENTRIES": ("max_zip_entries", int),
    "SECRET_KEY": ("secret_key", str),
    "INSTANCE_PATH": ("instance_path", Path),
    "BABEL_DEFAULT_TIMEZONE": ("timezone", str),
}


def _with_overrides(settings: Settings, overrides: dict) -> Settings:
    changes = {name: kind(overrides[key]) for key, (name, kind) in _FROM_SETTINGS.items() if key in overrides}
    return replace(settings, **changes) if changes else settings


def create_app(settings: Settings | None = None, overrides: dict | None = None) -> Flask:
    """Build the app from `settings` (read from the environment when None) and Flask config `overrides`.

    The app reads no environment variable itself: everything an operator sets comes through `Settings`.
    """
    if settings is not None and not isinstance(settings, Settings):
        raise TypeError("create_app(settings, overrides): pass a Settings, and Flask config as overrides=")
    overrides = dict(overrides or {})
    settings = _with_overrides(settings if settings is not None else Settings(), overrides)
    instance = settings.instance_path
    app = Flask(__name__, instance_path=str(instance.resolve()), instance_relative_config=False)
    max_upload = settings.max_upload_bytes
    secure = settings.secure_cookies is not False
    app.config.update(
        DATABASE_URL=settings.database_url,
        UPLOAD_DIR=str(settings.upload_dir),
        WORKFLOWS_DIR=str(settings.workflows_dir),
        DEFAULT_WORKFLOW=settings.default_workflow,
        MAX_UPLOAD_BYTES=max_upload,
        MAX_UNZIPPED_BYTES=settings.max_unzipped_bytes,
        MAX_ZIP_ENTRIES=settings.max_zip_entries,
        # the multipart envelope around the file is small; anything beyond it is refused with 413
        MAX_CONTENT_LENGTH=max_upload + 256 * 1024,
        SESSION_COOKIE_NAME="ocop_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_NAME="ocop_remember",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        # a login's server-side session ends after these (services/sessions.py), whatever the cookies say
        REMEMBER_COOKIE_DURATION=timedelta(days=settings.remember_days),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        # failed logins, counted in the database per account and per address (services/auth.py)
        LOGIN_ACCOUNT_LIMIT=settings.login_account_limit,
        LOGIN_IP_LIMIT=settings.login_ip_limit,
        LOGIN_WINDOW_MINUTES=settings.login_window_minutes,
        PROXY_COUNT=settings.proxy_count,
        PRODUCTS_PER_PAGE=25,
    )
    app.config.update({k: v for k, v in overrides.items() if k not in _FROM_SETTINGS})
    app.config["SECRET_KEY"] = _secret_key(settings)

    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:  # the client's address and scheme as the trusted proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db = Database(settings.database_url)
    registry = get_registry(settings.workflows_dir, settings.default_workflow)
    app.extensions["ocop"] = OcopState(
        db=db,
        registry=registry,
        upload_dir=settings.upload_dir,
        max_upload_bytes=settings.max_upload_bytes,
        settings=settings,
        tz=fast_timezone(settings.timezone),
        zip_limits=ZipLimits(settings.max_unzipped_bytes, settings.max_zip_entries),
    )

    register_input_checks(app)  # first: the id converter must be in place before any route is added
    register_extensions(app)
    register_session_handling(app)
    register_i18n(app)
    register_blueprints(app)
    app.add_url_rule("/favicon.ico", "favicon", _no_favicon)
    from .errors import register_error_handlers

    register_error_handlers(app)
    register_security_headers(app)
    return app


def _no_favicon():
    """Browsers ask for /favicon.ico on every site; answering with the 404 page would render a form (a CSRF
    token in a new session cookie) for a public visitor who never logged in. Nothing, cached for a day."""
    return "", 204, {"Cache-Control": "public, max-age=86400"}


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    from .auth.routes import load_user  # noqa: F401  (registers the user loader)


def register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .api import bp as api_bp
    from .api import tokens_bp
    from .auth.routes import bp as auth_bp
    from .dashboard.routes import bp as dashboard_bp
    from .documents.routes import bp as documents_bp
    from .notifications.routes import bp as notifications_bp
    from .plans.routes import bp as plans_bp
    from .process.routes import bp as process_bp
    from .product_records.routes import bp as product_records_bp
    from .products.routes import bp as products_bp
    from .programme.routes import bp as programme_bp
    from .public import bp as public_bp
    from .recognition.routes import bp as recognition_bp
    from .rounds.routes import bp as rounds_bp
    from .workflows.routes import bp as workflows_bp

    blueprints = (
        auth_bp,
        dashboard_bp,
        products_bp,
        product_records_bp,
        rounds_bp,
        recognition_bp,
        documents_bp,
        notifications_bp,
        admin_bp,
        public_bp,
        workflows_bp,
        plans_bp,
        programme_bp,
        process_bp,  # the process figures (issue #12)
    )
    for bp in (*blueprints, api_bp, tokens_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies
    from .notifications.routes import unread_for_bell

    app.jinja_env.globals["unread_for_bell"] = unread_for_bell


__all__ = ["create_app"]
