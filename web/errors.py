"""Friendly error pages: the core's typed errors and HTTP errors, in the reader's language."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ocop_workflow.errors import (
    Conflict,
    GuardFailed,
    InvalidData,
    InvalidTrigger,
    NotFound,
    OcopError,
    PermissionDenied,
    StaleVersion,
)
from ocop_workflow.services.documents import UploadTooLarge

from .context import locale, rollback_request_session
from .inputs import StaleForm

log = logging.getLogger(__name__)

STATUS = [
    (UploadTooLarge, 413),
    (NotFound, 404),
    (PermissionDenied, 403),
    (StaleVersion, 409),
    (InvalidTrigger, 409),
    (Conflict, 409),
    (GuardFailed, 422),
    (InvalidData, 422),
]


def status_for(exc: OcopError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def http_title(code: int) -> str:
    titles = {
        400: _("The request could not be understood"),
        401: _("Please log in"),
        403: _("You are not allowed to do this"),
        404: _("Not found"),
        405: _("This action is not possible here"),
        409: _("This product has changed"),
        413: _("The file is too large"),
        422: _("This cannot be done yet"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
    }
    return titles.get(code, _("Something went wrong"))


def render_error(code: int, message: str | None = None, back: str | None = None):
    # The request's transaction is over (an error is never committed): roll it back before the page
    # is rendered, since the page itself reads (the bell, the user's name) and a failed statement
    # leaves the session unusable (PendingRollbackError, or an aborted transaction on PostgreSQL).
    rollback_request_session()
    return render_template(
        "errors/error.html", code=code, title=http_title(code), message=message, back=back or request.referrer
    ), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(OcopError)
    def _ocop(exc: OcopError):
        return render_error(status_for(exc), exc.message(locale()))

    @app.errorhandler(CSRFError)
    @app.errorhandler(StaleForm)
    def _stale_form(exc: HTTPException):
        return render_error(
            400, _("The form has expired or was not sent from this site. Reload the page and try again.")
        )

    @app.errorhandler(413)
    def _too_large(exc):
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        return render_error(
            413,
            _(
                "Files may be at most %(mb)s MB. Split the scan into several files "
                "or reduce its resolution, then upload again.",
                mb=limit,
            ),
        )

    @app.errorhandler(429)
    def _too_many(exc):
        # failed logins answer 429 from the login view itself (with when to retry); this is any other limit
        return render_error(429, _("Too many requests. Wait a minute and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        messages = {
            403: _("Your role does not allow this action."),
            404: _("The page or item does not exist, or it is outside your area."),
            405: _("This address does not accept this kind of request."),
        }
        return render_error(code, messages.get(code))

    if app.testing:
        return  # let tests see the traceback

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        return render_error(500, _("The error has been logged. Try again later."))
