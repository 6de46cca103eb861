"""The words of reminders, in Vietnamese and English, rendered in the recipient's language.

Every message exists twice: a short title and body for the in-app bell, and an e-mail
(subject and plain-text body with an absolute link). Dates are local dates of the programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..formats import format_date
from ..i18n import Text


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    subject: str
    mail_body: str
    link: str


def fmt_date(d: date, locale: str) -> str:
    """dd/mm/yyyy in both languages, as the pages and the notice's own time show it (issue #11)."""
    return format_date(d, locale)


def product_link(product_id: int) -> str:
    return f"/products/{product_id}"


def reevaluation_link(product_id: int) -> str:
    """The product page at its "apply for re-evaluation" step (the anchor is the step's trigger)."""
    return f"{product_link(product_id)}#step-apply_reevaluation"  # its form on the product page


def absolute(base_url: str, link: str) -> str:
    return base_url.rstrip("/") + link


NOTIFICATIONS_PAGE = "/notifications/"

FOOTER = Text(
    "—\nThư tự động của hệ thống OCOP Workflow (Chương trình Mỗi xã một sản phẩm).\n"
    "Bạn có thể chọn nhận một thư tóm tắt mỗi ngày hoặc không nhận thư tại trang Thông báo: {settings}",
    "—\nAn automatic message from OCOP Workflow (One Commune One Product programme).\n"
    "You can choose one daily digest or no e-mail on the Notifications page: {settings}",
)
OPEN = Text("Xem sản phẩm: {url}", "Open the product: {url}")
APPLY = Text("Đăng ký đánh giá lại: {url}", "Apply for re-evaluation: {url}")


def footer(locale: str, base_url: str) -> str:
    """The mail's last lines: what this mail is and where its reader chooses how mail comes (a link)."""
    return FOOTER.get(locale).format(settings=absolute(base_url, NOTIFICATIONS_PAGE))


def _mail(title: str, body: str, link: str, locale: str, base_url: str, action: Text = OPEN) -> tuple[str, str]:
    url = absolute(base_url, link)
    mail = f"{body}\n\n{action.get(locale).format(url=url)}\n\n{footer(locale, base_url)}\n"
    return f"[OCOP] {title}", mail


@dataclass(frozen=True)
class StallInfo:
    product_id: int
    product_name: str
    commune_name: str
    state_label: Text
    org_name: str  # the organisation that owns the state
    parent_name: str | None  # escalation target (level 1)
    since: datetime
    sla_days: int
    threshold: int  # units after which this level is due (sla, or sla + escalation)
    unit: Text
    due_at: datetime  # when this level and period became due
    now: datetime
    deadline: date  # the last day of the SLA (local)
    level: int
    period: int
    tz: ZoneInfo

    def render(self, locale: str, base_url: str, nth: int = 1) -> Message:
        """`nth`: which reminder of this stall it is for its reader (the ledger's count, from 1), not the
        period since the deadline: a product stalled for 500 days says nothing on its first reminder."""
        en = locale.startswith("en")
        name, state = self.product_name, self.state_label.get(locale)
        since_d = self.since.astimezone(self.tz).date()
        days = max(0, (self.now.astimezone(self.tz).date() - since_d).days)
        unit = self.unit.get(locale)
        if self.level == 0:
            title = f"Overdue: “{name}” at “{state}”" if en else f"Quá hạn: «{name}» ở bước «{state}»"
        else:
            title = (
                f"Escalated: “{name}” stalled at {self.org_name}"
                if en
                else f"Chuyển cấp: «{name}» chậm xử lý tại {self.org_name}"
            )
        if nth > 1:
            title += f" (reminder {nth})" if en else f" (lần nhắc {nth})"
        since = fmt_date(since_d, locale)
        if en:
            lines = [
                f"The product “{name}” (#{self.product_id}, {self.commune_name}) has been at the step “{state}” "
                f"since {since}: {days} days so far.",
                f"The time limit for this step is {self.sla_days} {unit}; it ran out on "
                f"{fmt_date(self.deadline, locale)}.",
                f"To be handled by: {self.org_name}.",
            ]
            if self.level:
                lines.append(
                    f"This reminder is escalated to {self.parent_name} because {self.org_name} has not "
                    f"moved the product on within {self.threshold} {unit}."
                )
        else:
            lines = [
                f"Sản phẩm «{name}» (#{self.product_id}, {self.commune_name}) ở bước «{state}» từ ngày {since}, "
                f"đến nay đã {days} ngày.",
                f"Thời hạn của bước này là {self.sla_days} {unit}, đã hết vào ngày {fmt_date(self.deadline, locale)}.",
                f"Đơn vị xử lý: {self.org_name}.",
            ]
            if self.level:
                lines.append(
                    f"Nhắc việc được chuyển lên {self.parent_name} vì {self.org_name} chưa xử lý "
                    f"sau {self.threshold} {unit}."
                )
        body = "\n".join(lines)
        link = product_link(self.product_id)
        subject, mail_body = _mail(title, body, link, locale, base_url)
        return Message(title, body, subject, mail_body, link)


@dataclass(frozen=True)
class CertificateInfo:
    product_id: int
    product_name: str
    commune_name: str
    star: int
    org_name: str
    rated_on: date
    expires_on: date
    days_left: int
    months: int
    code: str = ""

    def render(self, locale: str, base_url: str) -> Message:
        en = locale.startswith("en")
        name, expiry = self.product_name, fmt_date(self.expires_on, locale)
        if self.days_left > 0:
            title = (
                f"The OCOP certificate of “{name}” expires in {self.days_left} days ({expiry})"
                if en
                else f"Giấy chứng nhận OCOP của «{name}» hết hạn sau {self.days_left} ngày ({expiry})"
            )
        elif self.days_left == 0:
            title = (
                f"The OCOP certificate of “{name}” expires today ({expiry})"
                if en
                else f"Giấy chứng nhận OCOP của «{name}» hết hạn hôm nay ({expiry})"
            )
        else:
            title = (
                f"The OCOP certificate of “{name}” expired on {expiry}"
                if en
                else f"Giấy chứng nhận OCOP của «{name}» đã hết hạn ngày {expiry}"
            )
        rated = fmt_date(self.rated_on, locale)
        code = f" {self.code}" if self.code else ""
        if en:
            body = (
                f"“{name}” (#{self.product_id}, {self.commune_name}) was recognised with {self.star} stars by "
                f"{self.org_name} on {rated}. The certificate{code} is valid for {self.months} months, "
                f"until {expiry}.\n"
                "To keep its stars the producer has to apply for re-evaluation; the recognising authority must "
                "tell the producer at least 30 days before the certificate expires."
            )
        else:
            body = (
                f"Sản phẩm «{name}» (#{self.product_id}, {self.commune_name}) được {self.org_name} công nhận "
                f"{self.star} sao ngày {rated}. Giấy chứng nhận{code} có hiệu lực {self.months} tháng, "
                f"đến ngày {expiry}.\n"
                "Để giữ hạng sao, chủ thể cần đăng ký đánh giá lại; cơ quan công nhận phải thông báo cho chủ thể "
                "ít nhất 30 ngày trước khi giấy chứng nhận hết hạn."
            )
        link = reevaluation_link(self.product_id)
        subject, mail_body = _mail(title, body, link, locale, base_url, APPLY)
        return Message(title, body, subject, mail_body, link)


def digest(items: list[tuple[str, str | None]], day: date, locale: str, base_url: str) -> tuple[str, str]:
    """Subject and body of a daily digest; items are (title, link)."""
    en = locale.startswith("en")
    when = fmt_date(day, locale)
    subject = (
        f"[OCOP] Daily digest for {when}: {len(items)} reminder(s)"
        if en
        else f"[OCOP] Tóm tắt nhắc việc ngày {when}: {len(items)} mục"
    )
    head = "Reminders since the last digest:" if en else "Các nhắc việc từ lần tóm tắt trước:"
    lines = [head, ""]
    for title, link in items:
        lines.append(f"• {title}")
        if link:
            lines.append(f"  {absolute(base_url, link)}")
    return subject, "\n".join(lines) + f"\n\n{footer(locale, base_url)}\n"
