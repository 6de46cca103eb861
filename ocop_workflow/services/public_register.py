"""The public side of certificates: the verification of one code and the register of valid certificates.

Anyone may ask, without logging in: a consumer scanning the QR code on a label, a supermarket buyer, an
e-commerce platform checking a seller's claim (issue #10, item 6). So this module answers with
`PublicCertificate`, a value that holds ONLY what the certificate itself prints or what the public
register of a People's Committee publishes: product and producer as printed, the area (commune,
district, province), group, star, recognising body, decision number and date, validity and status.
Nothing here ever carries a database id, a document, a council's or a member's score, a user (name,
e-mail, phone) or the free-text reason of a revocation: a view cannot leak what it was never given.

The revocation reason stays private on purpose: it is free text typed by an official (up to 2000
characters), it may name people or allegations, and it is not reviewed for publication. The public sees
that the certificate is revoked, from which day and by which decision (the decision is a public legal act
that anyone can ask the issuing body for).

The register lists the certificates that count today (`certificates.valid_on`: valid or expiring). The
search ignores diacritics on the product's and the producer's name: "vai thieu" finds "Vải thiều". The
product's folded name is in the database (`products.name_folded`), the producer's is not, so a search
selects the few light columns of the filtered certificates and matches the words in Python (a province
holds at most a few thousand valid certificates); without a search, counting and paging are SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..errors import InvalidData
from ..folding import fold, search_words
from ..i18n import Text
from ..models import Certificate, Organisation, Product, RecognitionDecision
from .certificates import COUNTING, REVOKED, STATUS_LABELS, SUPERSEDED, get_certificate, status_of, valid_on

MAX_QUERY = 100  # characters of a search box; more is refused (a name is at most 200, two words suffice)
MAX_PER_PAGE = 100
AREA_CODE_MAX = 32  # organisations.code
STARS = (3, 4, 5)  # the stars a certificate recognises


@dataclass(frozen=True, slots=True)
class Place:
    """An administrative unit as the public sees it: its code (the filter's value) and name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PublicCertificate:
    """One certificate as the public may read it. See the module docstring for what it never holds."""

    code: str
    product_name: str
    producer_name: str
    product_group: str
    star: int
    level: str
    recognised_by: str  # the recognising organisation's name
    decision_number: str | None  # None for a historic certificate imported without its decision
    decision_date: date | None
    issued_on: date
    expires_on: date
    status: str  # certificates.VALID, EXPIRING, EXPIRED, SUPERSEDED, REVOKED
    commune: Place | None
    district: Place | None  # None for a commune straight under a province (after 2025)
    province: Place | None
    revoked_on: date | None = None
    revoke_decision: str | None = None
    superseded_on: date | None = None
    superseded_by: str | None = None  # the newer certificate's code

    @property
    def counts(self) -> bool:
        """The certificate is in force today (valid or expiring)."""
        return self.status in COUNTING

    @property
    def status_label(self) -> Text:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    """The register's filters. `area` is the code of a province, district or commune: the certificates
    of the products of its communes."""

    q: str = ""
    province: str | None = None
    area: str | None = None
    group: str | None = None
    star: int | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True, slots=True)
class RegisterPage:
    items: list[PublicCertificate]
    total: int
    page: int
    per_page: int
    as_of: date

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# --- one code -----------------------------------------------------------------------------------------
def lookup(session: Session, code: str, today: date, notice_days: int = 90) -> PublicCertificate:
    """The certificate numbered `code` as the public sees it on `today`; NotFound (with a clear bilingual
    message) for an unknown or malformed code: too long, unicode, slashes, anything a code never holds."""
    cert = get_certificate(session, code)
    return _public(session, [cert], today, notice_days)[0]


# --- the register ---------------------------------------------------------------------------------------
def check_filter(session: Session, flt: RegisterFilter, groups: list[str] | tuple[str, ...] | None = None) -> None:
    """InvalidData (a 4xx with its reason) for a filter no form offers: a search over MAX_QUERY characters,
    a star outside 3-5, a group not in `groups`, an unknown province or area code, a page out of range."""
    if len(flt.q or "") > MAX_QUERY:
        raise InvalidData(
            Text(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự", f"The search is over {MAX_QUERY} characters"),
            field="q",
        )
    if flt.star is not None and flt.star not in STARS:
        raise InvalidData(Text("Hạng sao phải là 3, 4 hoặc 5", "The star must be 3, 4 or 5"), field="star")
    if flt.group is not None and groups is not None and flt.group not in groups:
        raise InvalidData(
            Text(f"Không có nhóm sản phẩm «{flt.group[:40]}»", f"There is no product group “{flt.group[:40]}”"),
            field="group",
        )
    if not 1 <= flt.page <= 1_000_000:
        raise InvalidData(Text("Số trang không hợp lệ", "The page number is not valid"), field="page")
    if not 1 <= flt.per_page <= MAX_PER_PAGE:
        raise InvalidData(
            Text(f"Mỗi trang từ 1 đến {MAX_PER_PAGE} mục", f"A page holds 1 to {MAX_PER_PAGE} items"),
            field="per_page",
        )
    for name, code, level in (("province", flt.province, "province"), ("area", flt.area, None)):
        if code is not None:
            _unit(session, code, level, name)


def _unit(session: Session, code: str, level: str | None, field: str) -> Organisation:
    org = None
    if 0 < len(code) <= AREA_CODE_MAX:
        org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None or (level is not None and org.level != level):
        shown = code[:AREA_CODE_MAX]
        raise InvalidData(
            Text(f"Không có đơn vị hành chính mã «{shown}»", f"There is no administrative unit coded “{shown}”"),
            field=field,
        )
    return org


def register(
    session: Session,
    flt: RegisterFilter,
    today: date,
    *,
    groups: list[str] | tuple[str, ...] | None = None,
    notice_days: int = 90,
) -> RegisterPage:
    """One page of the certificates that count on `today`, ordered by product name then code."""
    check_filter(session, flt, groups)
    commune = aliased(Organisation)
    stmt = (
        select(Certificate.id)
        .join(Product, Product.id == Certificate.product_id)
        .join(commune, commune.id == Product.commune_id)
        .where(valid_on(today))
    )
    for code in (flt.province, flt.area):
        if code is not None:
            unit = _unit(session, code, None, "area")
            stmt = stmt.where(commune.path.startswith(unit.path, autoescape=True))
    if flt.group is not None:
        stmt = stmt.where(Product.product_group == flt.group)
    if flt.star is not None:
        stmt = stmt.where(Certificate.star == flt.star)
    offset = (flt.page - 1) * flt.per_page
    words = search_words(flt.q)
    if words:
        rows = session.execute(
            stmt.with_only_columns(
                Certificate.id,
                Certificate.code,
                Certificate.product_name,
                Certificate.producer_name,
                Product.name_folded,
            )
        ).all()
        hits = []
        for cid, code, product_name, producer_name, name_folded in rows:
            haystack = f"{fold(product_name)} {fold(producer_name)} {name_folded or ''}"
            if all(w in haystack for w in words):
                hits.append((name_folded or fold(product_name), code, cid))
        hits.sort()
        total = len(hits)
        ids = [cid for _n, _c, cid in hits[offset : offset + flt.per_page]]
    else:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        ids = list(
            session.scalars(stmt.order_by(Product.name_folded, Certificate.code).offset(offset).limit(flt.per_page))
        )
    certs = {c.id: c for c in session.scalars(select(Certificate).where(Certificate.id.in_(ids)))} if ids else {}
    items = _public(session, [certs[i] for i in ids], today, notice_days)
    return RegisterPage(items, total, flt.page, flt.per_page, today)


def area_options(session: Session, province: str | None = None) -> list[tuple[str, str, str]]:
    """(code, name, level) of the provinces, districts and communes a register filter may name, in tree
    order; with `province`, only the units under it. Closed units (valid_to set) are left out."""
    stmt = select(Organisation.code, Organisation.name, Organisation.level, Organisation.path).where(
        Organisation.level.in_(("province", "district", "commune")), Organisation.valid_to.is_(None)
    )
    if province is not None:
        unit = session.scalar(select(Organisation).where(Organisation.code == province))
        if unit is None:
            return []
        stmt = stmt.where(Organisation.path.startswith(unit.path, autoescape=True))
    return [(code, name, level) for code, name, level, _path in session.execute(stmt.order_by(Organisation.path))]


# --- building the public values -----------------------------------------------------------------------------
def _public(session: Session, certs: list[Certificate], today: date, notice_days: int) -> list[PublicCertificate]:
    """The public values of `certs` with their places, recognising bodies, decisions and successors, in a
    fixed number of queries whatever their count."""
    if not certs:
        return []
    products = {
        pid: (group, path)
        for pid, group, path in session.execute(
            select(Product.id, Product.product_group, Organisation.path)
            .join(Organisation, Organisation.id == Product.commune_id)
            .where(Product.id.in_({c.product_id for c in certs}))
        )
    }
    codes = {code for _g, path in products.values() for code in path.split("/") if code}
    units = {
        code: (name, level)
        for code, name, level in session.execute(
            select(Organisation.code, Organisation.name, Organisation.level).where(Organisation.code.in_(codes))
        )
    }
    bodies = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_({c.organisation_id for c in certs}))
        ).all()
    )
    decision_ids = {c.decision_id for c in certs if c.decision_id is not None}
    decisions = (
        {
            did: (number, signed_on)
            for did, number, signed_on in session.execute(
                select(RecognitionDecision.id, RecognitionDecision.number, RecognitionDecision.signed_on).where(
                    RecognitionDecision.id.in_(decision_ids), RecognitionDecision.status == "signed"
                )
            )
        }
        if decision_ids
        else {}
    )
    successor_ids = {c.superseded_by_id for c in certs if c.superseded_by_id is not None}
    successors = (
        dict(session.execute(select(Certificate.id, Certificate.code).where(Certificate.id.in_(successor_ids))).all())
        if successor_ids
        else {}
    )
    out = []
    for c in certs:
        group, path = products[c.product_id]
        places: dict[str, Place] = {}
        for code in (x for x in path.split("/") if x):
            name, level = units.get(code, (code, ""))
            places.setdefault(level, Place(code, name))
        status = status_of(c, today, notice_days)
        number, signed_on = decisions.get(c.decision_id, (None, None))
        out.append(
            PublicCertificate(
                code=c.code,
                product_name=c.product_name,
                producer_name=c.producer_name,
                product_group=group,
                star=c.star,
                level=c.level,
                recognised_by=bodies.get(c.organisation_id, ""),
                decision_number=number,
                decision_date=signed_on,
                issued_on=c.issued_on,
                expires_on=c.expires_on,
                status=status,
                commune=places.get("commune"),
                district=places.get("district"),
                province=places.get("province"),
                revoked_on=c.revoked_on if status == REVOKED else None,
                revoke_decision=c.revoke_decision if status == REVOKED else None,
                superseded_on=c.superseded_on if status == SUPERSEDED else None,
                superseded_by=successors.get(c.superseded_by_id) if status == SUPERSEDED else None,
            )
        )
    return out


__all__ = [
    "MAX_PER_PAGE",
    "MAX_QUERY",
    "STARS",
    "Place",
    "PublicCertificate",
    "RegisterFilter",
    "RegisterPage",
    "area_options",
    "check_filter",
    "lookup",
    "register",
]
