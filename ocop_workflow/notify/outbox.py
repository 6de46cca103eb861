"""The mail outbox: queued in the same transaction as the reminder, sent later by whoever claims it.

Claim protocol (the same on SQLite and PostgreSQL):

1. In a short transaction, pick candidate ids — rows `pending` whose `next_attempt_at` has
   come, or rows `sending` whose claim is older than the claim timeout (the sender crashed) —
   and claim each with a conditional UPDATE::

       UPDATE mail_outbox SET status='sending', claim_token=:t, claimed_at=:now, attempts=attempts+1
        WHERE id=:id AND (status='pending' AND next_attempt_at<=:now
                          OR status='sending' AND claimed_at<:now-timeout)

   A row counts as ours only if the row count is 1. SQLite ignores FOR UPDATE, and a writer
   holds the database (BEGIN IMMEDIATE), so claims there are serial; on PostgreSQL the
   candidate query adds FOR UPDATE SKIP LOCKED so two senders pick different rows, and the
   conditional UPDATE still decides if they ever meet. The claim is committed before sending.
2. Send each claimed message over one SMTP connection.
3. Record the outcome in its own transaction, only `WHERE claim_token = :t`: sent; back to
   pending with exponential backoff (`attempts`, `next_attempt_at`, `last_error`); failed.

Delivery guarantee — at-least-once, chosen over at-most-once: a message is never lost (while
the SMTP server is down rows stay pending, retried with backoff, without limit; a sender that
crashes leaves a claim that becomes reclaimable after `mail_claim_timeout_seconds`). Two live
senders never send the same row, because a claim is exclusive and the timeout is far longer
than the SMTP timeout. The one case that can send twice is a crash (or a dropped connection)
after the SMTP server accepted a message and before `sent` was committed; the copy then
carries the same Message-ID (derived from the outbox id), so servers and clients that
de-duplicate on Message-ID show it once. At-most-once would need a human to resolve every
crashed claim, and a lost reminder is worse than a duplicate one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import Database
from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..models import MailOutbox, User
from ..services.access import Actor
from ..services.authz import managed_users, require
from .bulk import insert_ignoring_duplicates  # noqa: F401 - re-exported
from .smtp import ConnectionFailed, MessageRefused, SmtpMailer, build_message

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

T = MailOutbox.__table__
MAX_ERROR = 2000


def backoff(settings: Settings, attempts: int) -> timedelta:
    """60 s, 2 min, 4 min, … up to `mail_retry_max_seconds` (attempts counts this one)."""
    seconds = settings.mail_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    disabled: bool = False
    lost_claims: list[int] = field(default_factory=list)  # sent, but our claim had been taken over

    def summary(self, locale: str = "en") -> str:
        """One line for the operator, in `locale` (the SMTP server's own error is quoted as it came)."""
        en = locale.startswith("en")
        if self.disabled:
            if en:
                return "mail: not sent (OCOP_SMTP_URL is not set; messages wait in the outbox)"
            return "thư: chưa gửi (chưa đặt OCOP_SMTP_URL; thư chờ trong hộp thư đi)"
        sent, retry, failed, cancelled = len(self.sent), len(self.retry), len(self.failed), len(self.cancelled)
        if en:
            text = f"mail: sent {sent}, to retry {retry}, failed {failed}, cancelled {cancelled}"
        else:
            text = f"thư: đã gửi {sent}, chờ gửi lại {retry}, thất bại {failed}, đã huỷ {cancelled}"
        if self.errors:
            text += f" — {self.errors[0]}"
        return text


def _due(now: datetime, claim_timeout: int):
    stale = now - timedelta(seconds=claim_timeout)
    return or_(
        and_(T.c.status == "pending", T.c.next_attempt_at <= now),
        and_(T.c.status == "sending", T.c.claimed_at < stale),
    )


def claim(session: Session, now: datetime, *, token: str, limit: int, claim_timeout: int) -> list[int]:
    """Claim up to `limit` due rows for `token` in the caller's transaction; returns the ids won."""
    due = _due(now, claim_timeout)
    candidates = select(T.c.id).where(due).order_by(T.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    won = []
    for oid in session.scalars(candidates).all():
        result = session.execute(
            update(T)
            .where(T.c.id == oid, due)
            .values(status="sending", claim_token=token, claimed_at=now, attempts=T.c.attempts + 1)
        )
        if result.rowcount == 1:
            won.append(oid)
    return won


def _finish(db: Database, oid: int, token: str, **values: object) -> bool:
    with db.transaction() as s:
        result = s.execute(update(T).where(T.c.id == oid, T.c.claim_token == token).values(claim_token=None, **values))
        return result.rowcount == 1


MailerFactory = Callable[[], SmtpMailer]
CancelCheck = Callable[[Session, list[int]], Iterable[int]]


def deliver(
    db: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    mailer_factory: MailerFactory | None = None,
    cancel_check: CancelCheck | None = None,
    batch_size: int = 50,
    limit: int | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox. `cancel_check(session, ids)` names claimed rows that no
    longer apply (they become `cancelled` instead of being sent)."""
    report = DeliveryReport()
    if mailer_factory is None:
        if not settings.smtp_url:
            report.disabled = True
            return report
        url, timeout = settings.smtp_url, settings.smtp_timeout_seconds

        def mailer_factory() -> SmtpMailer:
            return SmtpMailer.from_url(url, timeout)

    now = now or datetime.now(UTC)
    token = uuid.uuid4().hex
    handled = 0
    while limit is None or handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - handled)
        with db.transaction() as s:
            ids = claim(s, now, token=token, limit=size, claim_timeout=settings.mail_claim_timeout_seconds)
            cancel = sorted(set(cancel_check(s, ids)) & set(ids)) if (cancel_check and ids) else []
            if cancel:
                s.execute(
                    update(T)
                    .where(T.c.id.in_(cancel), T.c.claim_token == token)
                    .values(status="cancelled", claim_token=None, last_error="no longer applies")
                )
                report.cancelled += cancel
            rows = s.execute(select(T).where(T.c.id.in_(set(ids) - set(cancel))).order_by(T.c.id)).all()
        if not ids:
            break
        handled += len(ids)
        if rows and not _send_batch(db, settings, rows, token, now, mailer_factory, report):
            break  # the server is down: everything else waits for the next sweep
    return report


def _send_batch(
    db: Database,
    settings: Settings,
    rows: list,
    token: str,
    now: datetime,
    mailer_factory: MailerFactory,
    report: DeliveryReport,
) -> bool:
    def wait(row, error: str) -> None:
        # the server could not be used: retried without limit (nothing is lost while it is down)
        _finish(
            db,
            row.id,
            token,
            status="pending",
            next_attempt_at=now + backoff(settings, row.attempts),
            last_error=error[:MAX_ERROR],
        )
        report.retry.append(row.id)

    mailer = mailer_factory()
    try:
        mailer.open()
    except ConnectionFailed as exc:
        log.warning("SMTP unavailable, %d message(s) wait: %s", len(rows), exc)
        report.errors.append(str(exc))
        for row in rows:
            wait(row, str(exc))
        return False
    try:
        for index, row in enumerate(rows):
            msg = build_message(
                outbox_id=row.id,
                created_at=row.created_at,
                mail_from=settings.mail_from,
                to=row.to_address,
                subject=row.subject,
                body=row.body,
                locale=row.locale,
                now=now,
            )
            try:
                mailer.send(msg)
            except MessageRefused as exc:
                report.errors.append(f"#{row.id}: {exc}")
                if exc.permanent or row.attempts >= settings.mail_max_attempts:
                    _finish(db, row.id, token, status="failed", last_error=str(exc)[:MAX_ERROR])
                    report.failed.append(row.id)
                else:
                    _finish(
                        db,
                        row.id,
                        token,
                        status="pending",
                        next_attempt_at=now + backoff(settings, row.attempts),
                        last_error=str(exc)[:MAX_ERROR],
                    )
                    report.retry.append(row.id)
                continue
            except ConnectionFailed as exc:
                report.errors.append(str(exc))
                for rest in rows[index:]:
                    wait(rest, str(exc))
                return False
            if _finish(db, row.id, token, status="sent", sent_at=now, last_error=None):
                report.sent.append(row.id)
            else:  # our claim timed out and someone else took the row: a possible duplicate, logged
                log.warning("outbox #%s was sent but its claim had been taken over", row.id)
                report.lost_claims.append(row.id)
                report.sent.append(row.id)
    finally:
        mailer.close()
    return True


# --- for the admin page ------------------------------------------------------------------------
ADMIN_STATUSES = ("pending", "sending", "failed")


def _scoped(stmt, actor: Actor):
    """Mail to the users the actor administers (`authz.managed_users`); the system actor sees all.
    PermissionDenied unless the permission file lets the actor read the outbox."""
    require(actor, "read_outbox")
    if actor.system:
        return stmt
    return stmt.where(MailOutbox.user_id.in_(select(User.id).where(managed_users(actor))))


def list_mail(
    session: Session, actor: Actor, *, statuses: Iterable[str] = ADMIN_STATUSES, limit: int = 100, offset: int = 0
) -> list[MailOutbox]:
    """Outbox rows for the admin page (default: everything not yet sent), oldest first: mail to the
    users the actor administers."""
    statuses = tuple(statuses)
    unknown = set(statuses) - {"pending", "sending", "sent", "failed", "cancelled"}
    if unknown:
        raise InvalidData(
            Text(
                f"Trạng thái không hợp lệ: {', '.join(sorted(unknown))}",
                f"Unknown status: {', '.join(sorted(unknown))}",
            )
        )
    stmt = select(MailOutbox).where(MailOutbox.status.in_(statuses))
    stmt = _scoped(stmt, actor)
    return list(session.scalars(stmt.order_by(MailOutbox.id).limit(limit).offset(offset)))


def mail_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Number of outbox rows per status."""
    stmt = _scoped(select(MailOutbox.status, func.count()).group_by(MailOutbox.status), actor)
    return {status: count for status, count in session.execute(stmt)}


def retry_mail(session: Session, outbox_id: int, actor: Actor, *, now: datetime | None = None) -> MailOutbox:
    """Send a failed (or waiting) message again at the next sweep, with a fresh count of attempts."""
    row = session.scalars(_scoped(select(MailOutbox).where(MailOutbox.id == outbox_id), actor)).one_or_none()
    if row is None:
        raise NotFound(Text(f"Không có thư #{outbox_id}", f"No message #{outbox_id}"))
    if row.status not in ("failed", "pending", "cancelled"):
        raise InvalidData(
            Text(f"Thư #{outbox_id} đang ở trạng thái {row.status}", f"Message #{outbox_id} is {row.status}")
        )
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now or datetime.now(UTC)
    session.flush()
    return row
