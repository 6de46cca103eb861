"""Certificates as lists for the signed-in (the web's /certificates, the API's `GET /certificates`,
`ocop certificate list`) and the province's certificate number format (its form, `ocop certificate format`).

Why a module of its own: `services.certificates` holds the rules of one certificate (numbering, status,
revocation); a list needs the same status rule as SQL, so a status filter and paging run in the
database instead of reading every certificate of a province to keep one page. `status_condition` is
`certificates.status_of` written as SQL, branch for branch (tests compare the two on every status).
Scope is the one of `certificates.get_visible_certificate`: the product is in the actor's area, or the
actor's area covers the organisation that recognised it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session

from ..errors import InvalidData
from ..folding import search_words
from ..i18n import Text
from ..models import Certificate, Organisation, Product
from .access import Actor
from .authz import require
from .certificates import (
    EXPIRED,
    EXPIRING,
    REVOKED,
    SHOWN_WITH,
    STATUS_LABELS,
    SUPERSEDED,
    VALID,
    check_format,
    preview_code,
    status_of,
)
from .listing import MAX_PER_PAGE, Page

STATUSES = (VALID, EXPIRING, EXPIRED, SUPERSEDED, REVOKED)
COUNT_CAP = 10_000  # beyond it a total is "10000+", as in the product list


def visible_certificates(actor: Actor) -> ColumnElement[bool]:
    """SQL on Certificate: the actor sees it (its product is in the actor's area, or the recognising
    organisation is)."""
    if actor.system:
        return Certificate.id.is_not(None)
    own_product = Certificate.product_id.in_(
        select(Product.id).where(actor.object_filter(Product.commune_id, Product.producer_id))
    )
    return or_(own_product, actor.subtree(Certificate.organisation_id))


def status_condition(status: str, today: date, notice_days: int = 90) -> ColumnElement[bool]:
    """SQL on Certificate: `certificates.status_of(cert, today, notice_days) == status`."""
    c = Certificate
    revoked = and_(c.revoked_on.is_not(None), c.revoked_on <= today)
    superseded = and_(c.superseded_on.is_not(None), c.superseded_on <= today)
    ended = or_(revoked, superseded)
    in_force = c.issued_on <= today  # before its issue day status_of calls a certificate valid
    if status == REVOKED:
        return revoked
    if status == SUPERSEDED:
        return and_(not_(revoked), superseded)
    if status == EXPIRED:
        return and_(not_(ended), in_force, c.expires_on <= today)
    if status == EXPIRING:
        return and_(not_(ended), in_force, c.expires_on > today, c.expires_on <= today + timedelta(days=notice_days))
    if status == VALID:
        return and_(not_(ended), or_(not_(in_force), c.expires_on > today + timedelta(days=notice_days)))
    return false()


def list_certificates(
    session: Session,
    actor: Actor,
    *,
    today: date,
    statuses: list[str] | tuple[str, ...] | None = None,
    product_id: int | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
    notice_days: int = 90,
) -> Page:
    """One page of the certificates the actor sees, newest issue first; `statuses` keeps those whose
    status on `today` is one of them, `q` those whose product name (with or without diacritics) or code
    holds every word. An unknown status is InvalidData (with the known ones)."""
    wrong = [s for s in statuses or () if s not in STATUSES]
    if wrong:
        known = ", ".join(STATUSES)
        raise InvalidData(
            Text(
                f"Trạng thái không hợp lệ: {', '.join(wrong)} (chọn trong: {known})",
                f"Unknown status: {', '.join(wrong)} (one of: {known})",
            ),
            field="status",
        )
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    where = [visible_certificates(actor)]
    if statuses:
        where.append(or_(*[status_condition(s, today, notice_days) for s in dict.fromkeys(statuses)]))
    if product_id is not None:
        where.append(Certificate.product_id == product_id)
    for word in search_words((q or "")[:100])[:8]:
        pattern = "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        named = select(Product.id).where(Product.name_folded.like(pattern, escape="/"))
        where.append(or_(Certificate.product_id.in_(named), func.lower(Certificate.code).like(pattern, escape="/")))
    counted = select(Certificate.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    exact = total <= COUNT_CAP
    rows = session.scalars(
        select(Certificate)
        .where(*where)
        .options(*SHOWN_WITH)
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(rows), min(total, COUNT_CAP), page, per_page, exact)


def status_label(status: str) -> Text:
    return STATUS_LABELS[status]


@dataclass(frozen=True)
class CertificateRow:
    """A certificate with its status on the day a page shows it."""

    certificate: Certificate
    status: str

    @property
    def label(self) -> Text:
        return STATUS_LABELS[self.status]


def with_status(certs, today: date, notice_days: int = 90) -> list[CertificateRow]:
    return [CertificateRow(c, status_of(c, today, notice_days)) for c in certs]


# --- the province's number format ---------------------------------------------------------------
def format_preview(session: Session, fmt: str, province: Organisation, today: date) -> str:
    """The code the format gives the province's next certificate this year (the counter's next number)."""
    return preview_code(session, province, fmt, today)


def set_certificate_format(session: Session, actor: Actor, province: Organisation, fmt: str | None) -> str | None:
    """Set (or with None/"" clear, back to the default setting) the format of a province's certificate
    numbers. Only a province has one; the format is checked (`certificates.check_format`)."""
    if province.level != "province":
        raise InvalidData(
            Text(
                f"{province.name} không phải là tỉnh: chỉ tỉnh mới có mẫu số giấy chứng nhận",
                f"{province.name} is not a province: only a province has a certificate number format",
            )
        )
    require(actor, "set_certificate_format", province)
    value = check_format(fmt) if (fmt or "").strip() else None
    province.certificate_format = value
    session.flush()
    return value


__all__ = [
    "STATUSES",
    "CertificateRow",
    "format_preview",
    "with_status",
    "list_certificates",
    "set_certificate_format",
    "status_condition",
    "status_label",
    "visible_certificates",
]
