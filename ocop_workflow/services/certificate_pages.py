"""What the signed-in certificate pages read and set (issue #10): the certificates in an actor's scope
with a status filter and a search, and a province's certificate number format.

Why here and not in the web: the status of a certificate is computed (services.certificates.status_of),
and a list filtered by status must use the same rule as SQL, so it lives next to `valid_on`'s users,
in the core, where the API and the CLI can list the same way. Scope: a certificate is visible when its
product is (the commune and the producer, as for products) or when the actor's organisation issued it
(`certificates.get_visible_certificate` reads one the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, selectinload

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
    STATUS_LABELS,
    SUPERSEDED,
    VALID,
    check_format,
    render_code,
    status_of,
)
from .listing import get_visible_organisation

STATUSES = (VALID, EXPIRING, EXPIRED, SUPERSEDED, REVOKED)
MAX_PER_PAGE = 100


def visible_certificates(actor: Actor):
    """SQL on Certificate joined to its Product: the product is in the actor's scope, or the actor's
    organisation issued the certificate."""
    if actor.system:
        return Certificate.id.is_not(None)
    return or_(
        actor.object_filter(Product.commune_id, Product.producer_id), actor.subtree(Certificate.organisation_id)
    )


def status_condition(status: str, today: date, notice_days: int):
    """SQL: the certificate's status on `today` is `status`, by the same rule as `status_of`."""
    c = Certificate
    revoked = and_(c.revoked_on.is_not(None), c.revoked_on <= today)
    superseded = and_(c.superseded_on.is_not(None), c.superseded_on <= today)
    live = and_(not_(revoked), not_(superseded))
    in_force = c.issued_on <= today
    soon = today + timedelta(days=notice_days)
    if status == REVOKED:
        return revoked
    if status == SUPERSEDED:
        return and_(not_(revoked), superseded)
    if status == EXPIRED:
        return and_(live, in_force, c.expires_on <= today)
    if status == EXPIRING:
        return and_(live, in_force, c.expires_on > today, c.expires_on <= soon)
    if status == VALID:
        return and_(live, or_(c.issued_on > today, c.expires_on > soon))
    raise ValueError(status)


@dataclass
class CertificateRow:
    certificate: Certificate
    status: str

    @property
    def label(self) -> Text:
        return STATUS_LABELS[self.status]


@dataclass
class CertificatePage:
    items: list[CertificateRow] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def pages_label(self) -> str:
        return str(self.pages)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_certificates(
    session: Session,
    actor: Actor,
    *,
    today: date,
    notice_days: int = 90,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> CertificatePage:
    """The certificates in the actor's scope, newest first; `status` one of STATUSES (others ignored),
    `q` words found (without diacritics too) in the product's name or in the code."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    conds = [visible_certificates(actor)]
    if status in STATUSES:
        conds.append(status_condition(status, today, notice_days))
    for word in search_words((q or "")[:100])[:8]:
        pattern = "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        conds.append(
            or_(Product.name_folded.like(pattern, escape="/"), func.lower(Certificate.code).like(pattern, escape="/"))
        )
    base = select(Certificate).join(Product, Product.id == Certificate.product_id).where(*conds)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.options(selectinload(Certificate.organisation), selectinload(Certificate.decision))
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    items = [CertificateRow(c, status_of(c, today, notice_days)) for c in rows]
    return CertificatePage(items, total, page, per_page)


# --- a province's number format ---------------------------------------------------------------------
def format_preview(fmt: str, province: Organisation, today: date) -> str:
    """The code the format gives a first 4★ certificate of the province this year."""
    return render_code(fmt, province=province.code, year=today.year, seq=1, star=4, level="province")


def set_certificate_format(session: Session, actor: Actor, organisation_id: int, fmt: str | None) -> Organisation:
    """Set a province's certificate number format (empty: back to the default setting). Only for a
    province (whose format numbers the certificates of every commune under it); InvalidData with the
    reasons for a format that `check_format` refuses."""
    org = get_visible_organisation(session, actor, organisation_id)
    require(actor, "set_certificate_format", org)
    if org.level != "province":
        raise InvalidData(
            Text(
                f"Chỉ tỉnh mới có mẫu số giấy chứng nhận; {org.name} không phải là tỉnh",
                f"Only a province has a certificate number format; {org.name} is not a province",
            ),
            field="format",
        )
    fmt = (fmt or "").strip()
    org.certificate_format = check_format(fmt) if fmt else None
    session.flush()
    return org


__all__ = [
    "STATUSES",
    "CertificatePage",
    "CertificateRow",
    "format_preview",
    "list_certificates",
    "set_certificate_format",
    "status_condition",
    "visible_certificates",
]
