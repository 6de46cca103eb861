"""The OCOP Workflow web application (Flask). Everything it does goes through ocop_workflow.services."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

from ocop_workflow.config import Settings, instance_dir
from ocop_workflow.db import Database
from ocop_workflow.engine import get_registry

from .context import OcopState, register_session_handling
from .extensions import babel, csrf, limiter, login_manager
from .i18n import TRANSLATIONS, register_i18n, select_locale, select_timezone
from .inputs import register_input_checks


def _secret_key(instance: Path) -> str:
    """OCOP_SECRET_KEY, or a random key kept in the instance folder (never in the repository)."""
    given = os.environ.get("OCOP_SECRET_KEY")
    if given:
        return given
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def create_app(config: dict | None = None) -> Flask:
    """Build an app from the environment's Settings plus `config` overrides (tests, bench)."""
    config = dict(config or {})
    instance = Path(config.pop("INSTANCE_PATH", None) or instance_dir())
    app = Flask(__name__, instance_path=str(instance.resolve()), instance_relative_config=False)
    settings = Settings()
    max_upload = int(config.get("MAX_UPLOAD_BYTES", settings.max_upload_bytes))
    secure = _env_flag("OCOP_SECURE_COOKIES", True)
    app.config.update(
        DATABASE_URL=settings.database_url,
        UPLOAD_DIR=str(settings.upload_dir),
        WORKFLOWS_DIR=str(settings.workflows_dir),
        DEFAULT_WORKFLOW=settings.default_workflow,
        MAX_UPLOAD_BYTES=max_upload,
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
        REMEMBER_COOKIE_DURATION=timedelta(days=7),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_RATE_LIMIT="10 per minute; 100 per hour",
        PRODUCTS_PER_PAGE=25,
    )
    app.config.update(config)
    if "MAX_UPLOAD_BYTES" in config and "MAX_CONTENT_LENGTH" not in config:
        app.config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_BYTES"]) + 256 * 1024
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)

    db = Database(app.config["DATABASE_URL"])
    registry = get_registry(Path(app.config["WORKFLOWS_DIR"]), app.config["DEFAULT_WORKFLOW"])
    app.extensions["ocop"] = OcopState(db=db, registry=registry, upload_dir=Path(app.config["UPLOAD_DIR"]),
                                       max_upload_bytes=int(app.config["MAX_UPLOAD_BYTES"]))

    register_input_checks(app)  # first: the id converter must be in place before any route is added
    register_extensions(app)
    register_session_handling(app)
    register_i18n(app)
    register_blueprints(app)
    from .errors import register_error_handlers

    register_error_handlers(app)
    return app


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
    from .products.routes import bp as products_bp

    for bp in (auth_bp, dashboard_bp, products_bp, documents_bp, notifications_bp, admin_bp, api_bp, tokens_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies
    from .notifications.routes import unread_for_bell

    app.jinja_env.globals["unread_for_bell"] = unread_for_bell


__all__ = ["create_app"]
