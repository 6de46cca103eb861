"""E-mail over SMTP: the OCOP_SMTP_URL, messages with a stable Message-ID, and sending.

    smtp://host:25                      plain SMTP (a local relay)
    smtp://user:pass@host:587?starttls=1
    smtps://user:pass@host:465          SMTP over TLS

Errors are sorted into two kinds the outbox treats differently: `ConnectionFailed` (the
server cannot be reached, refuses the login, or drops the connection: every message waits
and is retried, none is given up) and `MessageRefused` (this message was refused; a 5xx
reply is permanent, a 4xx one is retried a limited number of times).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit


class MailError(Exception):
    pass


class ConnectionFailed(MailError):
    """The server is unreachable or unusable: nothing was (knowingly) delivered; retry later."""


class MessageRefused(MailError):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and self.code >= 500


_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"OCOP_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme or '?'}://")
        if not parts.hostname:
            raise ValueError("OCOP_SMTP_URL needs a host")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[-1].lower() in _TRUE
        use_ssl = parts.scheme == "smtps"
        default_port = 465 if use_ssl else (587 if starttls else 25)
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=use_ssl,
            starttls=starttls,
            timeout=timeout,
        )


def mail_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "ocop.localhost"


def message_id(outbox_id: int, created_at: datetime, mail_from: str) -> str:
    """A Message-ID derived from the outbox row only, the same on every attempt: a message sent
    twice after a crash carries the same id, so mail systems and clients can drop the copy."""
    return f"<ocop.{outbox_id}.{created_at:%Y%m%d%H%M%S}@{mail_domain(mail_from)}>"


# Python's header folding drops the space between two encoded words when it splits a long non-ASCII
# subject ("«Mỳ Chũ»: Gửi …" arrived as "«Mỳ Chũ»:Gửi …"); subjects are at most 300 characters, far below
# SMTP's 998, so they are never folded.
HEADERS_UNFOLDED = email_policy.default.clone(max_line_length=998)


def build_message(
    *,
    outbox_id: int,
    created_at: datetime,
    mail_from: str,
    to: str,
    subject: str,
    body: str,
    locale: str,
    now: datetime,
) -> EmailMessage:
    msg = EmailMessage(policy=HEADERS_UNFOLDED)
    msg["From"] = mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(outbox_id, created_at, mail_from)
    msg["Content-Language"] = locale
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-OCOP-Outbox-Id"] = str(outbox_id)
    msg.set_content(body)
    return msg


class SmtpMailer:
    """One SMTP connection, opened with `open()` (or `with`), used for a batch of messages."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpMailer:
        return cls(SmtpConfig.from_url(url, timeout))

    def open(self) -> None:
        c = self.config
        try:
            if c.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            try:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, c.password or "")
            except BaseException:
                smtp.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionFailed(f"cannot connect to {c.host}:{c.port}: {_describe(exc)}") from exc
        self._smtp = smtp

    def send(self, msg: EmailMessage) -> None:
        if self._smtp is None:
            raise ConnectionFailed("not connected")
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise MessageRefused(f"recipient refused: {code} {_text(text)}", code) from exc
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise ConnectionFailed(f"server disconnected: {_describe(exc)}") from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data error, …
            raise MessageRefused(f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp = None
            raise ConnectionFailed(_describe(exc)) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def __enter__(self) -> SmtpMailer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
