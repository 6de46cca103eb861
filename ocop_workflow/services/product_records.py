"""A product's programme records (issue #12): the Farmers' Association's support of it, its e-commerce
listings, its declared yearly revenue, and (read-only here) the raw-material areas it is tied to.

These are the facts the plan reports count (Decision 615/QĐ-UBND's "hỗ trợ ít nhất 10 sản phẩm OCOP mới
mỗi năm", "200 sản phẩm lên sàn thương mại điện tử", the 2023 plan's revenue after recognition), so they
are recorded where the work happens, with dates that let a report be computed as of any past day:

* a support names the association unit that gives it (the product's commune, its district or its
  province: a level of the roles that hold `record_support`), optionally its officer, and runs from
  `started_on` until it is ended; the same unit cannot support the product twice at once;
* a listing names a platform of the catalogue (`ecommerce_platforms`) and its http(s) address, from
  `listed_on` until `removed_on`; the same address on the same platform is listed once while open;
* a revenue is one figure a product a year, in whole đồng; a new declaration replaces the amount and
  records who made it and when.

No date lies in the future: the records say what happened. The product is loaded through `access`
(out of scope: NotFound) and every write asks `authz.require` ("record_support" / "record_market").
Services flush, callers commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..errors import Conflict, InvalidData, NotFound
from ..i18n import Text
from ..models import (
    EcommerceListing,
    MaterialArea,
    MaterialAreaProduct,
    Membership,
    Organisation,
    Product,
    ProductRevenue,
    ProductSupport,
    User,
    utcnow,
)
from ..validation import clean_line, control_error, has_control, valid_id
from .access import Actor, get_visible_product
from .authz import can, require
from .certificates import local_day
from .record_dates import end_once, past_day

MAX_URL = 500
MAX_NOTE = 1000
FIRST_YEAR = 2000
MAX_AMOUNT = 10**15  # a million billion đồng: far above any product's year, far below BIGINT

SUPPORT, MARKET = "record_support", "record_market"


# --- shared checks --------------------------------------------------------------------------------
def _day(value: object, label: Text, field_name: str, *, today: date, required: bool = True) -> date | None:
    """A date of something that happened: given (when required) and not after today."""
    return past_day(value, label, field_name, today, required=required)


def _no_control(value: str, label: Text, field_name: str, *, multiline: bool = False) -> None:
    if has_control(value, multiline=multiline):
        raise InvalidData(control_error(label).text, field=field_name)


def association_roles(actor: Actor) -> frozenset[str]:
    """The association's own roles: those that record support, except the ones of no level (admin)."""
    roles = actor.policy.roles
    return frozenset(r for r in actor.policy.actions[SUPPORT].roles if roles[r].level != "any")


def association_levels(actor: Actor) -> frozenset[str]:
    """The levels at which the association has units that support products (commune, district, province)."""
    return frozenset(actor.policy.roles[r].level for r in association_roles(actor))


# --- supports -------------------------------------------------------------------------------------
ORG_LABEL = Text("Đơn vị Hội hỗ trợ", "Supporting association unit")
OFFICER_LABEL = Text("Cán bộ Hội phụ trách", "Association officer")
SINCE_LABEL = Text("Hỗ trợ từ ngày", "Supported since")
UNTIL_LABEL = Text("Kết thúc hỗ trợ ngày", "Support ended on")
NOTE_LABEL = Text("Ghi chú", "Note")


def support_organisations(session: Session, actor: Actor, product: Product) -> list[Organisation]:
    """The association units that may be named as supporting `product`: the product's commune and the
    units above it, at an association level, that the actor records support for (nearest first)."""
    commune = product.commune
    prefixes = [commune.path[: i + 1] for i, ch in enumerate(commune.path) if ch == "/"] + [commune.path]
    stmt = select(Organisation).where(
        Organisation.path.in_(set(prefixes)), Organisation.level.in_(association_levels(actor))
    )
    found = [o for o in session.scalars(stmt) if o.contains(commune)]
    if not actor.system:
        roles = actor.policy.actions[SUPPORT].roles
        found = [o for o in found if actor.membership_for(o, roles) is not None]
    return sorted(found, key=lambda o: len(o.path), reverse=True)


def _support_org(session: Session, actor: Actor, product: Product, organisation_id: object, acting) -> Organisation:
    if organisation_id is None or organisation_id == "":
        if acting is None:
            raise InvalidData(
                Text(f"Cần chọn «{ORG_LABEL.vi}»", f"Choose the “{ORG_LABEL.en}”"), field="organisation_id"
            )
        organisation_id = acting.organisation_id
    allowed = support_organisations(session, actor, product)
    org = next((o for o in allowed if valid_id(organisation_id) and o.id == organisation_id), None)
    if org is None:
        names_vi = ", ".join(o.name for o in allowed) or "—"
        raise InvalidData(
            Text(
                f"«{ORG_LABEL.vi}» phải là cơ sở Hội của xã, huyện hoặc tỉnh có sản phẩm mà bạn phụ trách: {names_vi}",
                f"The “{ORG_LABEL.en}” must be the association of the product's commune, district or province "
                f"that you cover: {names_vi}",
            ),
            field="organisation_id",
        )
    return org


def _officer(session: Session, actor: Actor, org: Organisation, officer: object) -> User | None:
    """The officer named: an active user holding an association role in `org` itself."""
    if officer is None or (isinstance(officer, str) and not officer.strip()):
        return None
    if isinstance(officer, str) and not officer.strip().isdigit():
        _no_control(officer, OFFICER_LABEL, "officer")
        user = session.scalars(select(User).where(User.email == officer.strip().lower())).first()
    else:
        number = int(officer) if isinstance(officer, int | str) and not isinstance(officer, bool) else 0
        user = session.get(User, number) if valid_id(number) else None
    holds = (
        user is not None
        and user.active
        and session.scalar(
            select(Membership.id)
            .where(
                Membership.user_id == user.id,
                Membership.organisation_id == org.id,
                Membership.role.in_(association_roles(actor)),
            )
            .limit(1)
        )
        is not None
    )
    if not holds:
        raise InvalidData(
            Text(
                f"«{officer}» không phải cán bộ Hội Nông dân của {org.name}",
                f"“{officer}” is not a Farmers' Association officer of {org.name}",
            ),
            field="officer",
        )
    return user


def _note(note: object) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidData(Text(f"«{NOTE_LABEL.vi}» phải là chữ", f"“{NOTE_LABEL.en}” must be text"), field="note")
    _no_control(note, NOTE_LABEL, "note", multiline=True)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidData(
            Text(f"«{NOTE_LABEL.vi}» dài quá {MAX_NOTE} ký tự", f"“{NOTE_LABEL.en}” is over {MAX_NOTE} characters"),
            field="note",
        )
    return note or None


def add_support(
    session: Session,
    actor: Actor,
    product_id: int,
    *,
    started_on: date | None,
    organisation_id: int | None = None,
    officer: int | str | None = None,
    note: str | None = None,
    today: date | None = None,
) -> ProductSupport:
    """Record that an association unit supports the product from `started_on`. Without
    `organisation_id`, the unit of the acting membership (a district officer records the district's)."""
    today = today or local_day()
    product = get_visible_product(session, actor, product_id)
    acting = require(actor, SUPPORT, product)
    org = _support_org(session, actor, product, organisation_id, acting)
    started_on = _day(started_on, SINCE_LABEL, "started_on", today=today)
    person = _officer(session, actor, org, officer)
    note = _note(note)
    open_one = session.scalar(
        select(ProductSupport).where(
            ProductSupport.product_id == product.id,
            ProductSupport.organisation_id == org.id,
            ProductSupport.ended_on.is_(None),
        )
    )
    if open_one is not None:
        raise Conflict(
            Text(
                f"{org.name} đã đang hỗ trợ sản phẩm này từ {open_one.started_on:%d/%m/%Y}: kết thúc lần hỗ trợ đó "
                "trước khi ghi một lần mới",
                f"{org.name} already supports this product since {open_one.started_on:%d/%m/%Y}: end that support "
                "before recording a new one",
            ),
            field="organisation_id",
        )
    support = ProductSupport(
        product=product,
        organisation=org,
        officer=person,
        started_on=started_on,
        note=note,
        recorded_by_id=actor.id,
    )
    session.add(support)
    session.flush()
    return support


def _support_not_found(support_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy lần hỗ trợ #{support_id}", f"Support #{support_id} not found"))


def get_visible_support(session: Session, actor: Actor, support_id: int, product_id: int | None = None):
    """The support if its product is in the actor's scope (and is `product_id`, when given)."""
    support = session.get(ProductSupport, support_id) if valid_id(support_id) else None
    if support is None or (product_id is not None and support.product_id != product_id):
        raise _support_not_found(support_id)
    try:
        get_visible_product(session, actor, support.product_id)
    except NotFound:
        raise _support_not_found(support_id) from None
    return support


def end_support(
    session: Session,
    actor: Actor,
    support_id: int,
    *,
    ended_on: date | None = None,
    product_id: int | None = None,
    today: date | None = None,
) -> ProductSupport:
    """End a support on `ended_on` (default today): not before it started, not in the future."""
    today = today or local_day()
    support = get_visible_support(session, actor, support_id, product_id)
    require(actor, SUPPORT, support)
    end_once(
        session,
        support,
        start="started_on",
        end="ended_on",
        day=ended_on,
        today=today,
        labels=(UNTIL_LABEL, SINCE_LABEL),
        already=lambda d: Text(
            f"Lần hỗ trợ này đã kết thúc ngày {d:%d/%m/%Y}", f"This support already ended on {d:%d/%m/%Y}"
        ),
    )
    return support


def list_supports(session: Session, actor: Actor, product_id: int) -> list[ProductSupport]:
    product = get_visible_product(session, actor, product_id)
    return _supports(session, product.id)


def _supports(session: Session, product_id: int) -> list[ProductSupport]:
    stmt = (
        select(ProductSupport)
        .where(ProductSupport.product_id == product_id)
        .options(selectinload(ProductSupport.organisation), selectinload(ProductSupport.officer))
        .order_by(ProductSupport.started_on.desc(), ProductSupport.id.desc())
    )
    return list(session.scalars(stmt))


# --- listings -------------------------------------------------------------------------------------
PLATFORM_LABEL = Text("Sàn thương mại điện tử", "E-commerce platform")
URL_LABEL = Text("Địa chỉ gian hàng (URL)", "Listing address (URL)")
LISTED_LABEL = Text("Lên sàn từ ngày", "Listed since")
REMOVED_LABEL = Text("Gỡ khỏi sàn ngày", "Removed on")
_HOST = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def clean_url(value: object) -> str:
    """An http(s) address of a web page, at most 500 characters, with a real host name (a dot in it)."""
    try:
        url = clean_line(value, URL_LABEL, max_length=MAX_URL)
    except InvalidData as exc:
        raise InvalidData(exc.text, field="url") from None
    bad = InvalidData(
        Text(
            f"«{url}» không phải là địa chỉ trang web (cần dạng https://ten-mien.vn/...)",
            f"“{url}” is not a web address (it must look like https://domain.vn/...)",
        ),
        field="url",
    )
    if re.search(r"\s", url):
        raise bad
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except (ValueError, UnicodeError):
        raise bad from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidData(
            Text(
                f"Địa chỉ gian hàng phải bắt đầu bằng http:// hoặc https:// (nhận được «{parts.scheme or url}»)",
                f"The listing address must start with http:// or https:// (got “{parts.scheme or url}”)",
            ),
            field="url",
        )
    if parts.username is not None or parts.password is not None or not _HOST.fullmatch(host):
        raise bad
    return url


def add_listing(
    session: Session,
    actor: Actor,
    product_id: int,
    *,
    platform: str,
    url: str,
    listed_on: date | None,
    platforms: Mapping[str, Text],
    today: date | None = None,
) -> EcommerceListing:
    """Record that the product is offered at `url` on `platform` (a key of the catalogue's
    `ecommerce_platforms`) from `listed_on`."""
    today = today or local_day()
    product = get_visible_product(session, actor, product_id)
    require(actor, MARKET, product)
    if not isinstance(platform, str) or platform not in platforms:
        known = ", ".join(f"{k} ({v.vi})" for k, v in platforms.items())
        known_en = ", ".join(f"{k} ({v.en})" for k, v in platforms.items())
        raise InvalidData(
            Text(f"Không có sàn «{platform}»; chọn: {known}", f"Unknown platform “{platform}”; choose: {known_en}"),
            field="platform",
        )
    url = clean_url(url)
    listed_on = _day(listed_on, LISTED_LABEL, "listed_on", today=today)
    open_one = session.scalar(
        select(EcommerceListing).where(
            EcommerceListing.product_id == product.id,
            EcommerceListing.platform == platform,
            EcommerceListing.url == url,
            EcommerceListing.removed_on.is_(None),
        )
    )
    if open_one is not None:
        raise Conflict(
            Text(
                f"Địa chỉ này đã được ghi trên {platforms[platform].vi} từ {open_one.listed_on:%d/%m/%Y} và chưa gỡ",
                f"This address is already listed on {platforms[platform].en} since {open_one.listed_on:%d/%m/%Y} "
                "and not removed",
            ),
            field="url",
        )
    listing = EcommerceListing(
        product=product, platform=platform, url=url, listed_on=listed_on, recorded_by_id=actor.id
    )
    session.add(listing)
    session.flush()
    return listing


def get_visible_listing(session: Session, actor: Actor, listing_id: int, product_id: int | None = None):
    """The listing if its product is in the actor's scope (and is `product_id`, when given)."""
    listing = session.get(EcommerceListing, listing_id) if valid_id(listing_id) else None
    missing = NotFound(Text(f"Không tìm thấy gian hàng #{listing_id}", f"Listing #{listing_id} not found"))
    if listing is None or (product_id is not None and listing.product_id != product_id):
        raise missing
    try:
        get_visible_product(session, actor, listing.product_id)
    except NotFound:
        raise missing from None
    return listing


def remove_listing(
    session: Session,
    actor: Actor,
    listing_id: int,
    *,
    removed_on: date | None = None,
    product_id: int | None = None,
    today: date | None = None,
) -> EcommerceListing:
    """Record that a listing was taken down on `removed_on` (default today)."""
    today = today or local_day()
    listing = get_visible_listing(session, actor, listing_id, product_id)
    require(actor, MARKET, listing)
    end_once(
        session,
        listing,
        start="listed_on",
        end="removed_on",
        day=removed_on,
        today=today,
        labels=(REMOVED_LABEL, LISTED_LABEL),
        already=lambda d: Text(
            f"Gian hàng này đã được gỡ ngày {d:%d/%m/%Y}", f"This listing was already removed on {d:%d/%m/%Y}"
        ),
    )
    return listing


def list_listings(session: Session, actor: Actor, product_id: int) -> list[EcommerceListing]:
    product = get_visible_product(session, actor, product_id)
    return _listings(session, product.id)


def _listings(session: Session, product_id: int) -> list[EcommerceListing]:
    stmt = (
        select(EcommerceListing)
        .where(EcommerceListing.product_id == product_id)
        .order_by(EcommerceListing.removed_on.is_not(None), EcommerceListing.listed_on.desc(), EcommerceListing.id)
    )
    return list(session.scalars(stmt))


# --- revenue --------------------------------------------------------------------------------------
YEAR_LABEL = Text("Năm", "Year")
AMOUNT_LABEL = Text("Doanh thu (đồng)", "Revenue (đồng)")
_GROUPED = re.compile(r"\d{1,3}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*")


def parse_amount(value: object) -> int | None:
    """Whole đồng as people type them: "1250000000", "1.250.000.000" (Vietnamese grouping), "1,250,000,000"
    or "1 250 000 000"; None for anything else (a decimal part, a sign, letters, mixed separators)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value >= 0 and value == value.to_integral_value() else None
    if not isinstance(value, str):
        return None
    raw = value.strip().removesuffix("đ").removesuffix("đồng").strip()
    if re.fullmatch(r"\d{1,18}", raw):
        return int(raw)
    if _GROUPED.fullmatch(raw) and len(raw) <= 26:
        return int(re.sub(r"\D", "", raw))
    return None


def _year(value: object, today: date) -> int:
    year = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value):
        year = int(value)
    if year is None or not FIRST_YEAR <= year <= today.year:
        raise InvalidData(
            Text(
                f"Năm phải từ {FIRST_YEAR} đến {today.year} (nhận được «{value}»)",
                f"The year must be from {FIRST_YEAR} to {today.year} (got “{value}”)",
            ),
            field="year",
        )
    return year


def set_revenue(
    session: Session,
    actor: Actor,
    product_id: int,
    year: int | str,
    amount: int | str,
    *,
    today: date | None = None,
) -> ProductRevenue:
    """Declare the product's revenue for a calendar year (whole đồng ≥ 0). A declaration for a year
    already declared replaces the amount and records who declared it and when."""
    today = today or local_day()
    product = get_visible_product(session, actor, product_id)
    require(actor, MARKET, product)
    year = _year(year, today)
    value = parse_amount(amount)
    if value is None or value > MAX_AMOUNT:
        raise InvalidData(
            Text(
                "Doanh thu phải là số đồng nguyên, không âm (ví dụ 1.250.000.000 hoặc 1250000000; nhận được "
                f"«{amount}»)",
                f"The revenue must be a whole, non-negative number of đồng (e.g. 1,250,000,000 or 1250000000; got "
                f"“{amount}”)",
            ),
            field="amount",
        )
    row = session.scalar(
        select(ProductRevenue).where(ProductRevenue.product_id == product.id, ProductRevenue.year == year)
    )
    if row is None:
        row = ProductRevenue(product=product, year=year)
        session.add(row)
    require(actor, MARKET, row)
    row.amount = value
    row.declared_by_id = actor.id
    row.declared_at = utcnow()
    session.flush()
    return row


def list_revenues(session: Session, actor: Actor, product_id: int) -> list[ProductRevenue]:
    product = get_visible_product(session, actor, product_id)
    return _revenues(session, product.id)


def _revenues(session: Session, product_id: int) -> list[ProductRevenue]:
    stmt = select(ProductRevenue).where(ProductRevenue.product_id == product_id).order_by(ProductRevenue.year.desc())
    return list(session.scalars(stmt))


# --- raw-material areas (read-only: `record_programme` links them) ----------------------------------
def list_areas(session: Session, actor: Actor, product_id: int) -> list[MaterialAreaProduct]:
    """The raw-material areas the product is (or was) tied to, with each area and its commune."""
    product = get_visible_product(session, actor, product_id)
    return _areas(session, product.id)


def _areas(session: Session, product_id: int) -> list[MaterialAreaProduct]:
    stmt = (
        select(MaterialAreaProduct)
        .where(MaterialAreaProduct.product_id == product_id)
        .options(selectinload(MaterialAreaProduct.area).selectinload(MaterialArea.commune))
        .order_by(MaterialAreaProduct.unlinked_on.is_not(None), MaterialAreaProduct.linked_on.desc())
    )
    return list(session.scalars(stmt))


# --- everything, for the product page ---------------------------------------------------------------
@dataclass
class ProductRecords:
    """What the product page's "Support and market" section shows, and what the reader may record."""

    product: Product
    supports: list[ProductSupport]
    listings: list[EcommerceListing]
    revenues: list[ProductRevenue]
    areas: list[MaterialAreaProduct]
    people: dict[int, User] = field(default_factory=dict)  # who declared the revenues
    may_support: bool = False
    may_market: bool = False
    organisations: list[Organisation] = field(default_factory=list)  # units the reader may name

    @property
    def empty(self) -> bool:
        return not (self.supports or self.listings or self.revenues or self.areas)


def _kinds_held(session: Session, product_id: int) -> dict[str, bool]:
    """Which kinds of record the product has, in one statement: the product page reads only those (most
    products have none, and the page keeps its budget of statements)."""
    pid = bindparam("pid", product_id)
    held = [
        select(model.id).where(model.product_id == pid).exists().label(name)
        for name, model in (
            ("supports", ProductSupport),
            ("listings", EcommerceListing),
            ("revenues", ProductRevenue),
            ("areas", MaterialAreaProduct),
        )
    ]
    return dict(session.execute(select(*held)).one()._mapping)


def product_records(session: Session, actor: Actor, product: Product) -> ProductRecords:
    """All records of a product the caller already loaded through `access` (it is in scope)."""
    held = _kinds_held(session, product.id)
    revenues = _revenues(session, product.id) if held["revenues"] else []
    ids = {r.declared_by_id for r in revenues if r.declared_by_id is not None}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    may_support = can(actor, SUPPORT, product)
    return ProductRecords(
        product=product,
        supports=_supports(session, product.id) if held["supports"] else [],
        listings=_listings(session, product.id) if held["listings"] else [],
        revenues=revenues,
        areas=_areas(session, product.id) if held["areas"] else [],
        people=people,
        may_support=may_support,
        may_market=can(actor, MARKET, product),
        organisations=support_organisations(session, actor, product) if may_support else [],
    )


__all__ = [
    "ProductRecords",
    "add_listing",
    "add_support",
    "association_levels",
    "association_roles",
    "clean_url",
    "end_support",
    "get_visible_listing",
    "get_visible_support",
    "list_areas",
    "list_listings",
    "list_revenues",
    "list_supports",
    "parse_amount",
    "product_records",
    "remove_listing",
    "set_revenue",
    "support_organisations",
]
