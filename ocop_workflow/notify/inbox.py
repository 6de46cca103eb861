"""In-app notifications (the bell) and each user's e-mail preference, for the web and the CLI.

A user only ever sees and marks their own notifications. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..models import EMAIL_MODES, Notification, NotificationPreference

EMAIL_MODE_LABELS = {
    "single": Text("Gửi từng thư", "One e-mail per reminder"),
    "digest": Text("Một thư tóm tắt mỗi ngày", "One daily digest"),
    "off": Text("Không gửi thư (chỉ thông báo trong ứng dụng)", "No e-mail (in-app notifications only)"),
}


def list_notifications(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 20, before_id: int | None = None
) -> list[Notification]:
    """The user's notifications, newest first; `before_id` pages further back."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(max(1, min(limit, 200)))))


def notice_text(n: Notification, locale: str | None) -> tuple[str, str]:
    """(title, body) of a notification in the reader's language: its `texts` in that language when the
    row has them (issue #11), otherwise the text it was written in."""
    texts = n.texts or {}
    mine = texts.get("en" if (locale or "vi").startswith("en") else "vi")
    if isinstance(mine, dict) and mine.get("title"):
        return mine["title"], mine.get("body") or ""
    return n.title, n.body


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Mark the given notifications (default: all) of this user as read; returns how many changed.
    Ids of other users' notifications are ignored."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    result = session.execute(
        stmt.values(read_at=now or datetime.now(UTC)).execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def open_notification(
    session: Session, user_id: int, notification_id: int, *, now: datetime | None = None
) -> Notification:
    """The user's notification, marked as read (for a click on the bell that follows its link).
    Another user's notification is reported as not found."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        raise NotFound(Text(f"Không có thông báo #{notification_id}", f"No notification #{notification_id}"))
    if n.read_at is None:
        n.read_at = now or datetime.now(UTC)
        session.flush()
    return n


def get_email_mode(session: Session, user_id: int) -> str:
    """'single' (default), 'digest' or 'off'."""
    pref = session.get(NotificationPreference, user_id)
    return pref.email_mode if pref else "single"


def set_email_mode(session: Session, user_id: int, mode: str, *, now: datetime | None = None) -> str:
    if mode not in EMAIL_MODES:
        raise InvalidData(Text(f"Cách nhận thư không hợp lệ: {mode}", f"Unknown e-mail preference: {mode}"))
    pref = session.get(NotificationPreference, user_id)
    if pref is None:
        session.add(NotificationPreference(user_id=user_id, email_mode=mode, updated_at=now or datetime.now(UTC)))
    else:
        pref.email_mode, pref.updated_at = mode, now or datetime.now(UTC)
    session.flush()
    return mode
