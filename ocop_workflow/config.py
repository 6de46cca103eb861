"""Settings read from the environment (12-factor), with defaults for a single machine.

This module is the only place that reads environment variables: the CLI, the web app and the scheduler
take a `Settings` (or the helpers below), so what the operator can set is all listed here and in README.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _shipped_dir(name: str) -> Path:
    """A data folder next to the package (source checkout) or under share/ (installed wheel)."""
    here = REPO_ROOT / name
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "ocop-workflow" / name


class ConfigError(ValueError):
    """An environment variable that cannot be read; the message names it."""


def _whole(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {value!r})") from None


def _env_int(name: str, default: str) -> int:
    return _whole(os.environ.get(name, default), name)


def _env_flag(name: str) -> bool | None:
    """A yes/no variable: 1/true/yes/on is yes, anything else no; None when unset."""
    value = os.environ.get(name)
    return None if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _env_zone(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be a time zone name such as Asia/Ho_Chi_Minh (got {value!r})") from None
    return value


def operator_locale() -> str:
    """The language of the command line's messages: OCOP_LANG, else LANG (en… → English, otherwise Vietnamese)."""
    lang = os.environ.get("OCOP_LANG") or os.environ.get("LANG", "")
    return "en" if lang.lower().startswith("en") else "vi"


def _env_certificate_format() -> str:
    """OCOP_CERTIFICATE_FORMAT, checked at start-up as a province's own format is when it is set (a bad
    format would otherwise surface only when a chair signs)."""
    from .errors import InvalidData
    from .services.certificates import DEFAULT_FORMAT, check_format

    value = os.environ.get("OCOP_CERTIFICATE_FORMAT") or DEFAULT_FORMAT
    try:
        return check_format(value)
    except InvalidData as exc:
        raise ConfigError(f"OCOP_CERTIFICATE_FORMAT: {exc.message('en')}") from None


def workflow_settings() -> tuple[str, str]:
    """(OCOP_WORKFLOWS_DIR, OCOP_DEFAULT_WORKFLOW): the two settings the default registry needs, read
    without building the whole `Settings` (an actor built without its policy asks for them)."""
    return (
        os.environ.get("OCOP_WORKFLOWS_DIR") or str(_shipped_dir("workflows")),
        # unset: each new product starts under the definition in force that day (Registry.default_definition)
        os.environ.get("OCOP_DEFAULT_WORKFLOW", ""),
    )


def instance_dir() -> Path:
    return Path(os.environ.get("OCOP_INSTANCE_DIR", Path.cwd() / "instance"))


@dataclass
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("OCOP_DATABASE_URL") or f"sqlite:///{instance_dir() / 'ocop.sqlite3'}"
    )
    upload_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("OCOP_UPLOAD_DIR", instance_dir() / "uploads"))
    )
    workflows_dir: Path = field(default_factory=lambda: Path(workflow_settings()[0]))
    default_workflow: str = field(default_factory=lambda: workflow_settings()[1])
    max_upload_bytes: int = field(default_factory=lambda: _env_int("OCOP_MAX_UPLOAD_MB", "25") * 1024 * 1024)
    # DOCX/XLSX: what a zip may expand to (declared sizes summed, never decompressed) and how many
    # parts it may hold; a real 25 MB document stays far below both, a zip bomb does not
    max_unzipped_bytes: int = field(default_factory=lambda: _env_int("OCOP_MAX_UNZIPPED_MB", "200") * 1024 * 1024)
    max_zip_entries: int = field(default_factory=lambda: _env_int("OCOP_MAX_ZIP_ENTRIES", "10000"))
    # --- reminders, e-mail and the scheduler (issue #5) ---
    # local time of the programme: working days, digest hour, dates in messages, the scheduler
    timezone: str = field(default_factory=lambda: _env_zone("OCOP_TIMEZONE", "Asia/Ho_Chi_Minh"))
    sweep_minutes: int = field(default_factory=lambda: _env_int("OCOP_SWEEP_MINUTES", "5"))
    # smtp://user:pass@host:port, smtps://… for TLS, ?starttls=1; unset: mail waits in the outbox
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("OCOP_SMTP_URL") or None, repr=False)
    mail_from: str = field(
        default_factory=lambda: os.environ.get("OCOP_MAIL_FROM", "OCOP Workflow <no-reply@ocop.localhost>")
    )
    base_url: str = field(default_factory=lambda: os.environ.get("OCOP_BASE_URL", "http://127.0.0.1:5000"))
    # a stalled product is reminded again every N days (in the definition's sla_calendar)
    reminder_repeat_days: int = field(default_factory=lambda: _env_int("OCOP_REMINDER_REPEAT_DAYS", "7"))
    # escalate to the parent organisation N days after the SLA ran out; unset: the state's SLA again
    escalate_after_days: int | None = field(
        default_factory=lambda: (
            _env_int("OCOP_ESCALATE_AFTER_DAYS", "") if os.environ.get("OCOP_ESCALATE_AFTER_DAYS") else None
        )
    )
    digest_hour: int = field(default_factory=lambda: _env_int("OCOP_DIGEST_HOUR", "7"))
    mail_max_attempts: int = field(default_factory=lambda: _env_int("OCOP_MAIL_MAX_ATTEMPTS", "8"))
    mail_retry_seconds: int = field(default_factory=lambda: _env_int("OCOP_MAIL_RETRY_SECONDS", "60"))
    mail_retry_max_seconds: int = field(default_factory=lambda: _env_int("OCOP_MAIL_RETRY_MAX_SECONDS", "3600"))
    # a claim older than this is taken to belong to a crashed sender; must exceed smtp_timeout_seconds
    mail_claim_timeout_seconds: int = field(default_factory=lambda: _env_int("OCOP_MAIL_CLAIM_TIMEOUT", "600"))
    smtp_timeout_seconds: int = field(default_factory=lambda: _env_int("OCOP_SMTP_TIMEOUT", "30"))
    certificate_months: int = field(default_factory=lambda: _env_int("OCOP_CERTIFICATE_MONTHS", "36"))
    # the number format of certificates for provinces that set none (services.certificates.check_format)
    certificate_format: str = field(default_factory=lambda: _env_certificate_format())
    certificate_notice_days: tuple[int, ...] = field(
        default_factory=lambda: tuple(
            sorted(
                {
                    _whole(x, "OCOP_CERTIFICATE_NOTICE_DAYS")
                    for x in os.environ.get("OCOP_CERTIFICATE_NOTICE_DAYS", "90,30,0").split(",")
                    if x.strip()
                },
                reverse=True,
            )
        )
    )

    # --- logins (issue #8): failed logins counted in the database, so every process sees them ---
    # an account is refused after this many failures within the window; an address after the
    # second number (higher: many users may share one address behind a NAT)
    login_account_limit: int = field(default_factory=lambda: _env_int("OCOP_LOGIN_ACCOUNT_LIMIT", "10"))
    login_ip_limit: int = field(default_factory=lambda: _env_int("OCOP_LOGIN_IP_LIMIT", "100"))
    login_window_minutes: int = field(default_factory=lambda: _env_int("OCOP_LOGIN_WINDOW_MINUTES", "15"))
    # a login ends after this many hours, or days with "keep me logged in", whatever the cookies say
    session_hours: int = field(default_factory=lambda: _env_int("OCOP_SESSION_HOURS", "12"))
    remember_days: int = field(default_factory=lambda: _env_int("OCOP_REMEMBER_DAYS", "7"))
    # how many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: trust no such header);
    # the client's address (login throttling) and HTTPS (HSTS, secure cookies) come from them
    proxy_count: int = field(default_factory=lambda: _env_int("OCOP_PROXY_COUNT", "0"))
    # --- the web application ---
    instance_path: Path = field(default_factory=instance_dir)
    # the key that signs sessions; unset: a random key kept in the instance folder (see web.create_app)
    secret_key: str | None = field(default_factory=lambda: os.environ.get("OCOP_SECRET_KEY") or None, repr=False)
    # cookies only over HTTPS; None (unset) means yes, except for `ocop serve` on the loopback address
    secure_cookies: bool | None = field(default_factory=lambda: _env_flag("OCOP_SECURE_COOKIES"))


def migrations_dir() -> Path:
    return _shipped_dir("migrations")
