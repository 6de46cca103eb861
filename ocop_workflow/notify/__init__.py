"""Notifications: in-app (the bell), the mail outbox and SMTP delivery.

Service functions for the web (it never needs more than these):

* `list_notifications`, `unread_count`, `mark_read`, `open_notification` — a user's own bell;
* `get_email_mode`, `set_email_mode` — one mail per reminder, a daily digest, or none;
* `list_mail`, `mail_counts`, `retry_mail` — the admin page of pending and failed mail.
"""

from .inbox import (
    EMAIL_MODE_LABELS,
    get_email_mode,
    list_notifications,
    mark_read,
    notice_text,
    open_notification,
    set_email_mode,
    unread_count,
)
from .outbox import DeliveryReport, deliver, list_mail, mail_counts, retry_mail

__all__ = [
    "EMAIL_MODE_LABELS",
    "DeliveryReport",
    "deliver",
    "get_email_mode",
    "list_mail",
    "list_notifications",
    "mail_counts",
    "mark_read",
    "notice_text",
    "open_notification",
    "retry_mail",
    "set_email_mode",
    "unread_count",
]
