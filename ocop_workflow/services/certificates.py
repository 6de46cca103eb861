"""OCOP certificates (giấy chứng nhận): issuing, numbering, status, revocation, lists and the public lookup.

A certificate's status is computed, never stored (issue #10): the rows keep only facts with their dates
(issued, expires, superseded on, revoked on), and `status_of(cert, today)` reads them, so a certificate
becomes expired on its expiry day without any job running, and an answer "as of" any day (the sweeps'
`--at`, the tests' time travel) is the same function. "Certified" everywhere means "holds a certificate
that is valid today": `valid_on(today)` is that rule as SQL, `status_of` as Python; both live here only.

Decision 148/QĐ-TTg, Phụ lục II: a certificate is valid 36 months (`OCOP_CERTIFICATE_MONTHS`); a
successful upgrade or re-evaluation supersedes it; the recognising level may revoke it.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ..errors import Conflict, InvalidData, NotFound
from ..i18n import Text
from ..models import Certificate, CertificateCounter, Organisation, Product
from ..notify.bulk import insert_ignoring_duplicates
from ..validation import check_text, clean_line
from .authz import require

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_FORMAT = "OCOP-{province}-{year}-{seq:05d}"
# What a number format may use: the province's code, the year of issue, the sequence in the scope, the star
# and the recognising level. The code is part of the public address /xac-minh/<code>: URL-safe characters only.
CODE_FIELDS = ("province", "year", "seq", "star", "level")
CODE_CHARS = re.compile(r"^[A-Za-z0-9._-]{3,40}$")
_FIELD = re.compile(r"{(\w+)(?::0?(\d+)d)?}")
_LEVEL_CODES = {"central": "TW", "province": "T", "district": "H", "commune": "X"}

VALID, EXPIRING, EXPIRED, SUPERSEDED, REVOKED = "valid", "expiring", "expired", "superseded", "revoked"
STATUS_LABELS = {
    VALID: Text("Còn hiệu lực", "Valid"),
    EXPIRING: Text("Còn hiệu lực, sắp hết hạn", "Valid, expiring soon"),
    EXPIRED: Text("Đã hết hạn", "Expired"),
    SUPERSEDED: Text("Đã được thay thế", "Superseded"),
    REVOKED: Text("Đã bị thu hồi", "Revoked"),
}
# The statuses under which the certificate still counts (a product is "certified").
COUNTING = (VALID, EXPIRING)


def local_day(at: datetime | None = None) -> date:
    """The programme's date of a moment (a decision signed at 01:30 local time is dated that day)."""
    return (at or datetime.now(UTC)).astimezone(VN_TZ).date()


def add_months(d: date, months: int) -> date:
    """`d` plus whole months, on the same day of the month or the month's last day (31/1 + 1 → 28/2)."""
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def status_of(cert: Certificate, today: date, notice_days: int = 90) -> str:
    """valid, expiring (inside the first notice window), expired (from `expires_on` on), superseded
    (from the day a later certificate or a re-evaluation replaced it) or revoked (from the revocation's day)."""
    if cert.revoked_on is not None and cert.revoked_on <= today:
        return REVOKED
    if cert.superseded_on is not None and cert.superseded_on <= today:
        return SUPERSEDED
    if today < cert.issued_on:
        return VALID  # not yet in force: only in a what-if "as of" before the decision; treated as issued
    if today >= cert.expires_on:
        return EXPIRED
    if (cert.expires_on - today).days <= notice_days:
        return EXPIRING
    return VALID


def valid_on(today: date | object):
    """SQL: the certificate counts on `today` (a date, or a bind parameter)."""
    c = Certificate
    return and_(
        c.issued_on <= today,
        c.expires_on > today,
        or_(c.revoked_on.is_(None), c.revoked_on > today),
        or_(c.superseded_on.is_(None), c.superseded_on > today),
    )


@dataclass(frozen=True, slots=True)
class Held:
    """The certificate a product holds on a day: what an upgrade is compared with."""

    id: int
    code: str
    star: int
    level: str
    expires_on: date


_C = Certificate.__table__
_HELD = (
    select(_C.c.id, _C.c.code, _C.c.star, _C.c.level, _C.c.expires_on)
    .where(
        _C.c.product_id == bindparam("product_id"),
        _C.c.issued_on <= bindparam("today"),
        _C.c.expires_on > bindparam("today"),
        or_(_C.c.revoked_on.is_(None), _C.c.revoked_on > bindparam("today")),
        or_(_C.c.superseded_on.is_(None), _C.c.superseded_on > bindparam("today")),
    )
    .order_by(_C.c.issued_on.desc(), _C.c.id.desc())
    .limit(1)
)


def held_certificate(conn: Connection | Session, product_id: int, today: date) -> Held | None:
    """The product's certificate valid on `today` (the newest, should two overlap), or None."""
    row = conn.execute(_HELD, {"product_id": product_id, "today": today}).first()
    return Held(*row) if row is not None else None


def end_certificate(conn: Connection | Session, cert_id: int, on: date, superseded_by: int | None = None) -> None:
    """Record that a certificate stops counting from `on`: a later certificate replaced it
    (`superseded_by`), or a re-evaluation rated the product below 3★ (no successor)."""
    conn.execute(
        update(_C)
        .where(_C.c.id == cert_id, _C.c.superseded_on.is_(None))
        .values(superseded_on=on, superseded_by_id=superseded_by)
    )


# --- numbering ------------------------------------------------------------------------------------
def check_format(fmt: str) -> str:
    """A number format is valid when it names only known fields, holds {province} and {seq} (so codes
    of two provinces or two certificates never meet) and makes URL-safe codes. InvalidData otherwise."""
    fmt = (fmt or "").strip()
    names = [m.group(1) for m in _FIELD.finditer(fmt)]
    unknown = [n for n in names if n not in CODE_FIELDS]
    literal = _FIELD.sub("", fmt)
    problems = []
    if unknown:
        problems.append(Text(f"trường không biết: {', '.join(unknown)}", f"unknown fields: {', '.join(unknown)}"))
    if "province" not in names or "seq" not in names:
        problems.append(Text("phải có {province} và {seq}", "it must hold {province} and {seq}"))
    if not re.fullmatch(r"[A-Za-z0-9._-]*", literal) or "{" in literal or "}" in literal:
        problems.append(
            Text("chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang", "use only letters, digits, dots and dashes")
        )
    if len(fmt) > 80:
        problems.append(Text("dài quá 80 ký tự", "longer than 80 characters"))
    if problems:
        raise InvalidData(
            Text(
                "Mẫu số giấy chứng nhận không hợp lệ: " + "; ".join(p.vi for p in problems),
                "The certificate number format is not valid: " + "; ".join(p.en for p in problems),
            )
        )
    return fmt


def render_code(fmt: str, *, province: str, year: int, seq: int, star: int, level: str) -> str:
    values = {"province": province, "year": year, "seq": seq, "star": star, "level": _LEVEL_CODES.get(level, level)}
    return fmt.format(**values)


def province_of(session: Session, org: Organisation) -> Organisation | None:
    """The province above (or at) an organisation: whose setting numbers its products' certificates."""
    codes = [c for c in org.path.split("/") if c]
    rows = session.scalars(select(Organisation).where(Organisation.code.in_(codes), Organisation.level == "province"))
    return next(iter(rows), None)


def counter_scope(province: Organisation | None, year: int, fmt: str) -> str:
    """The numbering scope of a province's certificates: the province and year when the format holds the
    year (numbers restart each year), else the province alone."""
    code_of_province = province.code if province is not None else "VN"
    return f"{code_of_province}:{year}" if "{year" in fmt else code_of_province


def preview_code(session: Session, province: Organisation | None, fmt: str, today: date, star: int = 4) -> str:
    """The code the format would give the province's next certificate today (nothing is drawn): the
    counter's next number, past codes already taken, as `next_code` would."""
    scope = counter_scope(province, today.year, fmt)
    last = session.scalar(select(CertificateCounter.last).where(CertificateCounter.scope == scope)) or 0
    code_of_province = province.code if province is not None else "VN"
    for seq in range(last + 1, last + 1001):
        code = render_code(fmt, province=code_of_province, year=today.year, seq=seq, star=star, level="province")
        if not session.scalar(select(func.count()).select_from(Certificate).where(Certificate.code == code)):
            return code
    return render_code(fmt, province=code_of_province, year=today.year, seq=last + 1, star=star, level="province")


def next_code(session: Session, province: Organisation | None, *, year: int, star: int, level: str, fmt: str) -> str:
    """The next unused code in the province's scope. The counter only goes up, under a row lock (a
    conditional UPDATE on PostgreSQL, the writer lock on SQLite), so two signings never draw one number;
    a code already taken (a format changed back and forth) is skipped, never given twice."""
    code_of_province = province.code if province is not None else "VN"
    scope = counter_scope(province, year, fmt)
    session.flush()
    for _ in range(1000):
        bumped = session.execute(
            update(CertificateCounter)
            .where(CertificateCounter.scope == scope)
            .values(last=CertificateCounter.last + 1)
            .returning(CertificateCounter.last)
        ).scalar()
        if bumped is None:  # the scope's first number: make its counter (a concurrent maker wins), then bump
            session.execute(
                insert_ignoring_duplicates(session, CertificateCounter.__table__).values(scope=scope, last=0)
            )
            continue
        code = render_code(fmt, province=code_of_province, year=year, seq=bumped, star=star, level=level)
        taken = session.scalar(select(func.count()).select_from(Certificate).where(Certificate.code == code))
        if not taken:
            return code
    raise RuntimeError(f"no free certificate number in scope {scope}")  # a thousand taken in a row: a bug


def format_for(province: Organisation | None, default: str = DEFAULT_FORMAT) -> str:
    return (province.certificate_format if province is not None else None) or default


# --- reading ---------------------------------------------------------------------------------------
def get_certificate(session: Session, code: str) -> Certificate:
    """A certificate by its code, whoever asks (the public lookup); NotFound for an unknown or malformed code."""
    code = (code or "").strip()
    if not CODE_CHARS.match(code):
        raise certificate_not_found(code)
    cert = session.scalar(select(Certificate).where(Certificate.code == code))
    if cert is None and code != code.upper():  # typed from a label in lower case: codes are upper case
        cert = session.scalar(select(Certificate).where(Certificate.code == code.upper()))
    if cert is None:
        raise certificate_not_found(code)
    return cert


def certificate_not_found(code: str) -> NotFound:
    shown = code if CODE_CHARS.match(code or "") else (code or "")[:40].encode("ascii", "replace").decode()
    return NotFound(
        Text(
            f"Không có giấy chứng nhận OCOP nào mang số «{shown}». Hãy kiểm tra lại số trên nhãn sản phẩm.",
            f"There is no OCOP certificate numbered “{shown}”. Check the number on the product's label.",
        )
    )


# What a list of certificates shows of each, loaded per list rather than per row.
SHOWN_WITH = (
    selectinload(Certificate.organisation),
    selectinload(Certificate.decision),
    selectinload(Certificate.producer),
    selectinload(Certificate.superseded_by),
    selectinload(Certificate.revoked_by),
    selectinload(Certificate.product).selectinload(Product.commune),
)


def product_certificates(session: Session, product_id: int) -> list[Certificate]:
    """A product's certificates, newest first (current and past)."""
    stmt = select(Certificate).where(Certificate.product_id == product_id).options(*SHOWN_WITH)
    return list(session.scalars(stmt.order_by(Certificate.issued_on.desc(), Certificate.id.desc())))


def expiry_window(today: date, notice_days: int) -> tuple[date, date]:
    return today, today + timedelta(days=notice_days)


__all__ = [
    "COUNTING",
    "DEFAULT_FORMAT",
    "EXPIRED",
    "EXPIRING",
    "REVOKED",
    "STATUS_LABELS",
    "Standing",
    "SUPERSEDED",
    "VALID",
    "Held",
    "add_months",
    "certificate_not_found",
    "check_format",
    "end_certificate",
    "format_for",
    "get_certificate",
    "get_visible_certificate",
    "revoke_certificate",
    "standings",
    "held_certificate",
    "local_day",
    "next_code",
    "preview_code",
    "product_certificates",
    "province_of",
    "render_code",
    "status_of",
    "valid_on",
]


# --- scope and revocation ---------------------------------------------------------------------------
REASON_LABEL = Text("Lý do thu hồi", "Reason for revocation")
REVOKE_NUMBER_LABEL = Text("Số quyết định thu hồi", "Revocation decision number")


def get_visible_certificate(session: Session, actor, code: str) -> Certificate:
    """A certificate for a signed-in user: its product must be in the actor's scope, or its recognising
    organisation (the level that issued it); NotFound otherwise, as for any object out of scope."""
    cert = get_certificate(session, code)
    if actor.system:
        return cert
    product = cert.product
    if actor.can_see(product.commune, product.producer_id) or actor.can_see(cert.organisation):
        return cert
    raise certificate_not_found(code)


def revoke_certificate(
    session: Session,
    actor,
    code: str,
    *,
    reason: str,
    decision_number: str,
    revoked_on: date | None = None,
    now: datetime | None = None,
    notice_days: int = 90,
) -> Certificate:
    """Revoke a certificate (thu hồi) by the level that issued it, with the reason and the number of the
    revocation decision; from `revoked_on` (today by default, never in the future nor before the issue)
    it no longer counts. A certificate that no longer counts (expired, superseded, revoked) is refused."""
    cert = get_visible_certificate(session, actor, code)
    require(actor, "revoke_certificates", cert)
    today = local_day(now)
    on = revoked_on or today
    status = status_of(cert, today, notice_days)
    if status not in COUNTING:
        label = STATUS_LABELS[status]
        raise Conflict(
            Text(
                f"Giấy chứng nhận {cert.code} không còn hiệu lực ({label.vi}): không thu hồi được",
                f"Certificate {cert.code} no longer counts ({label.en}): it cannot be revoked",
            )
        )
    check_text(reason, REASON_LABEL, multiline=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData(Text("Cần ghi lý do thu hồi", "A reason for the revocation is required"), field="reason")
    if len(reason) > 2000:
        raise InvalidData(Text("Lý do dài quá 2000 ký tự", "The reason is over 2000 characters"), field="reason")
    number = clean_line(decision_number, REVOKE_NUMBER_LABEL, max_length=40)
    if on > today or on < cert.issued_on:
        raise InvalidData(
            Text(
                f"Ngày thu hồi phải từ ngày cấp ({cert.issued_on:%d/%m/%Y}) đến hôm nay ({today:%d/%m/%Y})",
                f"The revocation date must lie between the issue date ({cert.issued_on:%d/%m/%Y}) and today "
                f"({today:%d/%m/%Y})",
            ),
            field="revoked_on",
        )
    cert.revoked_on = on
    cert.revoke_reason = reason
    cert.revoke_decision = number
    cert.revoked_by_id = actor.id
    session.flush()
    return cert


@dataclass(frozen=True, slots=True)
class Standing:
    """What a product's page and list show of its certification on a day: its current (or latest)
    certificate and that certificate's status there. `certified` is the one meaning of the word."""

    code: str
    star: int
    level: str
    issued_on: date
    expires_on: date
    status: str

    @property
    def certified(self) -> bool:
        return self.status in COUNTING

    @property
    def label(self) -> Text:
        return STATUS_LABELS[self.status]


def standings(session: Session, product_ids: list[int], today: date, notice_days: int = 90) -> dict[int, Standing]:
    """For each product that ever had a certificate: the one that counts today, else its latest. One query."""
    if not product_ids:
        return {}
    rows = session.scalars(
        select(Certificate)
        .where(Certificate.product_id.in_(product_ids))
        .order_by(Certificate.product_id, Certificate.issued_on.desc(), Certificate.id.desc())
    )
    out: dict[int, Standing] = {}
    for cert in rows:
        if cert.issued_on > today:
            continue  # as of a day before its decision the certificate does not exist yet (as in valid_on)
        status = status_of(cert, today, notice_days)
        known = out.get(cert.product_id)
        if known is None or (not known.certified and status in COUNTING):
            out[cert.product_id] = Standing(cert.code, cert.star, cert.level, cert.issued_on, cert.expires_on, status)
    return out
