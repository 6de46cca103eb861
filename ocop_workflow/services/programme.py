"""A unit's programme records (issue #12): raw-material areas and the products tied to them, value-chain
models, OCOP sales points, training and outreach sessions.

These are the facts plan targets are counted from (reports/indicators.py), so each one keeps the dates it
holds for and the rules here keep those dates honest: nothing that records the past lies in the future,
an end never comes before its start, a product is not tied twice to the same area at once.

Scope as everywhere: lists cover the actor's area (`actor.subtree`), a record outside it is NotFound, and
every write asks `require(actor, "record_programme", …)` of the record's unit. Errors are `InvalidData`
with `field=` the name of the form field / JSON key, so the web puts the message beside the field.

**Which products an area may be tied to.** The product must be in the area's district: the district
holding the area's commune (or the province, for a commune directly under it since 2025). A raw-material
area commonly feeds processors in neighbouring communes (Lục Ngạn's lychee areas supply dryers all over
the district), so "the same commune" would refuse real chains; the whole province would let a typing
mistake tie a Yên Thế chicken to a Lục Ngạn orchard. The actor must see the product too: a commune's
association ties its own commune's products, the district's ties any in its district.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from ..engine import Registry
from ..errors import Conflict, InvalidData, NotFound
from ..formats import parse_number
from ..i18n import Text
from ..models import (
    MaterialArea,
    MaterialAreaProduct,
    Organisation,
    Producer,
    Product,
    SalesPoint,
    Training,
    TrainingAttendance,
    ValueChain,
)
from ..reminders.calendar import DEFAULT_TZ
from ..validation import clean_line, valid_id
from .access import Actor, get_visible_product
from .authz import can, require
from .listing import Page, get_visible_organisation
from .record_dates import end_once, not_before, past_day

ACTION = "record_programme"
MAX_NAME = 200
MAX_ADDRESS = 300
MAX_TOPIC = 300
MAX_CODE = 40
MAX_HECTARES = 1_000_000  # larger than any province: a typing slip, not an area
MAX_PEOPLE = 100_000
PER_PAGE = 20
GROWING_CODE = re.compile(r"^[A-Za-z0-9.\-]{1,40}$")
TRAINING_KINDS = ("training", "outreach")
KIND_LABELS = {
    "training": Text("Tập huấn", "Training"),
    "outreach": Text("Tuyên truyền", "Outreach"),
}
CHAIN_STATUS_LABELS = {
    "planned": Text("Chưa bắt đầu", "Not started"),
    "building": Text("Đang xây dựng", "Building"),
    "working": Text("Đang hoạt động", "Working"),
    "stopped": Text("Đã dừng", "Stopped"),
}
UNSET: Any = object()  # "leave as it is" for partial updates (None means "clear")
_VN = ZoneInfo(DEFAULT_TZ)


def today_vn() -> date:
    """The programme's today (Vietnam's local day): what "not in the future" is measured against."""
    return datetime.now(_VN).date()


# --- shared checks --------------------------------------------------------------------------------
def _invalid(field: str, vi: str, en: str) -> InvalidData:
    return InvalidData(Text(vi, en), field=field)


def _line(value: object, field: str, label: Text, max_length: int, *, required: bool = True) -> str | None:
    try:
        return clean_line(value, label, max_length=max_length, required=required)
    except InvalidData as exc:
        raise InvalidData(exc.text, field=field) from None


def _past_day(value: object, field: str, label: Text, today: date, *, required: bool = True) -> date | None:
    """A day that records the past: a date, not after today (`record_dates.past_day`)."""
    return past_day(value, label, field, today, required=required)


def _not_before(value: date | None, start: date, field: str, label: Text, start_label: Text) -> None:
    not_before(value, start, label, start_label, field)


def _unit(session: Session, actor: Actor, org_id: object, levels: tuple[str, ...], field: str) -> Organisation:
    """An organisation of the actor's area at one of `levels` (NotFound outside the area)."""
    if not valid_id(org_id):
        raise _invalid(field, "Cần chọn đơn vị", "Choose a unit")
    org = get_visible_organisation(session, actor, org_id)
    if org.level not in levels:
        names = {"commune": ("xã", "commune"), "district": ("huyện", "district"), "province": ("tỉnh", "province")}
        vi = " hoặc ".join(names[lv][0] for lv in levels)
        en = " or ".join(names[lv][1] for lv in levels)
        raise _invalid(field, f"«{org.name}» không phải cấp {vi}", f"“{org.name}” is not a {en}")
    return org


def _same_name(a: str | None, b: str | None) -> bool:
    """Two names typed for the same thing: case and runs of spaces do not make a second record."""
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def _duplicate(kind: Text, found: object, vi: str, en: str, field: str = "name") -> Conflict:
    """A second record of what is already recorded (a form sent twice, a list typed in again): plan
    figures count each record, so the copy is refused, naming the record that holds it."""
    return Conflict(
        Text(f"Đã có {kind.vi} #{found.id} {vi}", f"{kind.en} #{found.id} {en} is already recorded"),
        field=field,
        existing=found.id,
    )


def unit_by_code(session: Session, actor: Actor, code: object) -> Organisation:
    """The unit of the actor's area with `code` — how people name a commune or district ("07444", "219"),
    as the plans API and every CLI command do. NotFound names the code that was typed (an internal id
    means nothing to the one who typed the code), and says nothing of units outside the area."""
    text = str(code or "").strip()
    org = session.scalars(select(Organisation).where(Organisation.code == text)).one_or_none() if text else None
    if org is None or not actor.can_see(org):
        raise NotFound(
            Text(f"Không tìm thấy đơn vị mã «{text}» trong phạm vi của bạn", f"No unit with code “{text}” in your area")
        )
    return org


def _paged(session: Session, stmt: Select, page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, total, page, per_page)


def _scoped(actor: Actor, stmt: Select, column, session: Session, org_id: int | None) -> Select:
    """`stmt` limited to the actor's area and, with `org_id` (a district or commune filter), to that unit's
    subtree (NotFound when the unit lies outside the area)."""
    stmt = stmt.where(actor.subtree(column))
    if org_id is not None:
        org = get_visible_organisation(session, actor, org_id)
        stmt = stmt.where(actor.subtree(column, [org.path]))
    return stmt


def _not_found(kind: Text, record_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy {kind.vi} #{record_id}", f"{kind.en} #{record_id} not found"))


def _load(session: Session, actor: Actor, model, record_id: object, column, kind: Text, *options):
    if not valid_id(record_id):
        raise _not_found(kind, record_id)
    stmt = select(model).where(model.id == record_id, actor.subtree(column)).options(*options)
    found = session.scalars(stmt).first()
    if found is None:
        raise _not_found(kind, record_id)
    return found


# --- raw-material areas ---------------------------------------------------------------------------
AREA = Text("vùng nguyên liệu", "Raw-material area")
LINK = Text("liên kết vùng nguyên liệu", "Area link")
L_NAME = Text("Tên", "Name")
L_HECTARES = Text("Diện tích (ha)", "Area (ha)")
L_CODE = Text("Mã số vùng trồng", "Growing-area code")
L_LINKED = Text("Ngày liên kết", "Linked on")
L_UNLINKED = Text("Ngày kết thúc liên kết", "Link ended on")


_GROUPED_HA = (  # (pattern, grouping symbol, decimal symbol): "1.250,5" (vi), "1,250.5" (en), "1 250,5"
    (re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d{1,15})?"), ".", ","),
    (re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d{1,15})?"), ",", "."),
    (re.compile(r"-?\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,]\d{1,15})?"), None, None),
)


def parse_hectares(value: object) -> Decimal | None:
    """A size as people type it: "12,5", "12.5", and with thousands grouped as the pages show them —
    "1.250,5" (Vietnamese), "1,250.5" (English), "1 250,5". A single separator is the decimal one
    (`formats.parse_number`: "1.250" is 1.25), so only an unambiguous grouping is read as one. A sign is
    kept (the rule, not the reader, refuses "-5"); None when it is not a number at all."""
    if isinstance(value, Decimal):
        return value
    number = parse_number(value, allow_negative=True)
    if number is not None or not isinstance(value, str):
        return number
    raw = value.strip()
    for pattern, group, point in _GROUPED_HA:
        if pattern.fullmatch(raw):
            if group is None:
                raw = re.sub(r"[ \u00a0]", "", raw).replace(",", ".")
            else:
                raw = raw.replace(group, "").replace(point, ".")
            return Decimal(raw)
    return None


def _hectares(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_hectares(value)
    if number is None or not number.is_finite() or number <= 0 or number > MAX_HECTARES:
        raise _invalid(
            "area_ha",
            f"Diện tích phải là số héc-ta lớn hơn 0 và không quá 1.000.000 ha (ví dụ 12,5), nhận được «{value}»",
            f"The area must be a number of hectares above 0 and at most 1,000,000 ha (e.g. 12.5), got “{value}”",
        )
    return float(number)


def _growing_code(value: object) -> str | None:
    code = _line(value, "growing_code", L_CODE, MAX_CODE, required=False)
    if code is not None and not GROWING_CODE.fullmatch(code):
        raise _invalid(
            "growing_code",
            f"Mã số vùng trồng «{code}» chỉ gồm chữ, số, dấu «-» và «.» (tối đa {MAX_CODE} ký tự)",
            f"The growing-area code “{code}” may hold only letters, digits, '-' and '.' (at most {MAX_CODE})",
        )
    return code


def create_area(
    session: Session,
    actor: Actor,
    *,
    commune_id: int,
    name: str,
    area_ha: object = None,
    growing_code: str | None = None,
) -> MaterialArea:
    """Record a raw-material area in a commune of the actor's area."""
    commune = _unit(session, actor, commune_id, ("commune",), "commune_id")
    require(actor, ACTION, commune)
    area = MaterialArea(
        commune_id=commune.id,
        commune=commune,
        name=_line(name, "name", L_NAME, MAX_NAME),
        area_ha=_hectares(area_ha),
        growing_code=_growing_code(growing_code),
        recorded_by_id=actor.id,
    )
    for other in session.scalars(select(MaterialArea).where(MaterialArea.commune_id == commune.id)):
        if _same_name(other.name, area.name):
            raise _duplicate(AREA, other, f"«{other.name}» ở {commune.name}", f"“{other.name}” in {commune.name}")
    session.add(area)
    session.flush()
    return area


def get_area(session: Session, actor: Actor, area_id: object) -> MaterialArea:
    return _load(
        session,
        actor,
        MaterialArea,
        area_id,
        MaterialArea.commune_id,
        AREA,
        selectinload(MaterialArea.commune),
        selectinload(MaterialArea.links).selectinload(MaterialAreaProduct.product),
    )


def edit_area(
    session: Session,
    actor: Actor,
    area_id: int,
    *,
    name: object = UNSET,
    area_ha: object = UNSET,
    growing_code: object = UNSET,
) -> MaterialArea:
    """Correct an area's name, size or growing-area code (its commune stays: a new place is a new area)."""
    area = get_area(session, actor, area_id)
    require(actor, ACTION, area)
    new_name = area.name if name is UNSET else _line(name, "name", L_NAME, MAX_NAME)
    new_ha = area.area_ha if area_ha is UNSET else _hectares(area_ha)
    new_code = area.growing_code if growing_code is UNSET else _growing_code(growing_code)
    area.name, area.area_ha, area.growing_code = new_name, new_ha, new_code
    session.flush()
    return area


def list_areas(
    session: Session, actor: Actor, *, org_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    stmt = select(MaterialArea).options(
        selectinload(MaterialArea.commune),
        selectinload(MaterialArea.links).selectinload(MaterialAreaProduct.product),
    )
    stmt = _scoped(actor, stmt, MaterialArea.commune_id, session, org_id)
    return _paged(session, stmt.order_by(MaterialArea.name, MaterialArea.id), page, per_page)


def area_district(session: Session, area: MaterialArea) -> Organisation:
    """The unit whose products may be tied to the area: its commune's parent (district, or the province)."""
    commune = area.commune
    parent = session.get(Organisation, commune.parent_id) if commune.parent_id else None
    return parent or commune


def link_product(
    session: Session,
    actor: Actor,
    area_id: int,
    *,
    product_id: int,
    linked_on: date,
    today: date | None = None,
) -> MaterialAreaProduct:
    """Tie a product's production chain to the area from `linked_on` (see the module's rule on which products)."""
    today = today or today_vn()
    area = get_area(session, actor, area_id)
    require(actor, ACTION, area)
    if not valid_id(product_id):
        raise _invalid("product_id", "Cần chọn sản phẩm", "Choose a product")
    product = get_visible_product(session, actor, product_id)
    district = area_district(session, area)
    if not district.contains(product.commune):
        raise _invalid(
            "product_id",
            f"Sản phẩm «{product.name}» ({product.commune.name}) không thuộc {district.name}, nơi có vùng nguyên liệu",
            f"The product “{product.name}” ({product.commune.name}) is not in {district.name}, where the area lies",
        )
    linked_on = _past_day(linked_on, "linked_on", L_LINKED, today)
    if any(link.product_id == product.id and link.unlinked_on is None for link in area.links):
        raise Conflict(
            Text(
                f"Sản phẩm «{product.name}» đang liên kết với vùng này: kết thúc liên kết cũ trước",
                f"The product “{product.name}” is already linked to this area: end that link first",
            ),
            field="product_id",
        )
    last_end = max((link.unlinked_on for link in area.links if link.product_id == product.id), default=None)
    if last_end is not None and linked_on < last_end:
        raise _invalid(
            "linked_on",
            f"Liên kết trước của sản phẩm này kết thúc ngày {last_end:%d/%m/%Y}: liên kết mới bắt đầu từ ngày đó",
            f"This product's previous link ended on {last_end:%d/%m/%Y}: a new link starts on that day or later",
        )
    link = MaterialAreaProduct(
        area=area, product_id=product.id, product=product, linked_on=linked_on, recorded_by_id=actor.id
    )
    session.add(link)
    session.flush()
    return link


def link_not_found(link_id: object) -> NotFound:
    return _not_found(LINK, link_id)


def unlink_product(
    session: Session, actor: Actor, link_id: int, *, unlinked_on: date, today: date | None = None
) -> MaterialAreaProduct:
    """End a product's link to an area on `unlinked_on` (on or after the day it began, not in the future)."""
    today = today or today_vn()
    if not valid_id(link_id):
        raise _not_found(LINK, link_id)
    link = session.scalars(
        select(MaterialAreaProduct)
        .join(MaterialArea, MaterialArea.id == MaterialAreaProduct.area_id)
        .where(MaterialAreaProduct.id == link_id, actor.subtree(MaterialArea.commune_id))
        .options(selectinload(MaterialAreaProduct.area).selectinload(MaterialArea.commune))
    ).first()
    if link is None:
        raise _not_found(LINK, link_id)
    require(actor, ACTION, link.area)
    end_once(
        session,
        link,
        start="linked_on",
        end="unlinked_on",
        day=unlinked_on,
        today=today,
        labels=(L_UNLINKED, L_LINKED),
        already=lambda d: Text(
            f"Liên kết này đã kết thúc ngày {d:%d/%m/%Y}", f"This link already ended on {d:%d/%m/%Y}"
        ),
    )
    return link


def linkable_products(session: Session, actor: Actor, area: MaterialArea) -> list[tuple[int, str]]:
    """(id, name) of the products the actor could tie to the area: in the area's district and the actor's area."""
    district = area_district(session, area)
    stmt = (
        select(Product.id, Product.name)
        .where(
            actor.object_filter(Product.commune_id, Product.producer_id),
            actor.subtree(Product.commune_id, [district.path]),
        )
        .order_by(Product.name, Product.id)
        .limit(500)
    )
    return [(i, n) for i, n in session.execute(stmt)]


# --- value chains ---------------------------------------------------------------------------------
CHAIN = Text("mô hình liên kết chuỗi giá trị", "Value chain")
L_STARTED = Text("Ngày bắt đầu", "Started on")
L_WORKING = Text("Hoạt động từ ngày", "Working from")
L_STOPPED = Text("Ngày dừng", "Stopped on")
L_LEAD = Text("Đơn vị chủ trì", "Lead")


def _producers_in(session: Session, unit: Organisation, ids: Iterable[object], field: str) -> list[Producer]:
    wanted = list(dict.fromkeys(ids))
    if not all(valid_id(i) for i in wanted):
        raise _invalid(field, "Mã chủ thể không hợp lệ", "Invalid producer id")
    if not wanted:
        return []
    found = {
        p.id: p
        for p in session.scalars(
            select(Producer).where(Producer.id.in_(wanted)).options(selectinload(Producer.commune))
        )
    }
    for pid in wanted:
        producer = found.get(pid)
        if producer is None or not unit.contains(producer.commune):
            raise _invalid(
                field,
                f"Chủ thể #{pid} không thuộc {unit.name}",
                f"Producer #{pid} is not in {unit.name}",
            )
    return [found[pid] for pid in wanted]


def _chain_products(session: Session, ids: Iterable[object], producer_ids: set[int]) -> list[Product]:
    wanted = list(dict.fromkeys(ids))
    if not all(valid_id(i) for i in wanted):
        raise _invalid("products", "Mã sản phẩm không hợp lệ", "Invalid product id")
    if not wanted:
        return []
    found = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    for pid in wanted:
        product = found.get(pid)
        if product is None or product.producer_id not in producer_ids:
            raise _invalid(
                "products",
                f"Sản phẩm #{pid} không phải của đơn vị chủ trì hay thành viên của chuỗi",
                f"Product #{pid} is not a product of the chain's lead or member producers",
            )
    return [found[pid] for pid in wanted]


def _chain_dates(started_on: object, working_from: object, stopped_on: object, today: date) -> None:
    """started ≤ working ≤ stopped, none in the future (checked before anything is written)."""
    started_on = _past_day(started_on, "started_on", L_STARTED, today)
    working_from = _past_day(working_from, "working_from", L_WORKING, today, required=False)
    stopped_on = _past_day(stopped_on, "stopped_on", L_STOPPED, today, required=False)
    _not_before(working_from, started_on, "working_from", L_WORKING, L_STARTED)
    _not_before(stopped_on, started_on, "stopped_on", L_STOPPED, L_STARTED)
    if working_from is not None:
        _not_before(stopped_on, working_from, "stopped_on", L_STOPPED, L_WORKING)


def create_chain(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int,
    name: str,
    started_on: date,
    lead_producer_id: int | None = None,
    lead_name: str | None = None,
    members: Iterable[int] = (),
    products: Iterable[int] = (),
    working_from: date | None = None,
    today: date | None = None,
) -> ValueChain:
    """Record a value-chain model of a commune or district: its lead (a producer of the unit, or a name),
    member producers of the unit, and products of the lead or the members."""
    today = today or today_vn()
    unit = _unit(session, actor, organisation_id, ("commune", "district"), "organisation_id")
    require(actor, ACTION, unit)
    name = _line(name, "name", L_NAME, MAX_NAME)
    _chain_dates(started_on, working_from, None, today)
    lead = None
    if lead_producer_id is not None:
        lead = _producers_in(session, unit, [lead_producer_id], "lead_producer_id")[0]
        lead_name = lead.name
    else:
        lead_name = _line(lead_name, "lead_name", L_LEAD, MAX_NAME)
    member_rows = _producers_in(session, unit, members, "members")
    owners = {p.id for p in member_rows} | ({lead.id} if lead else set())
    for other in session.scalars(select(ValueChain).where(ValueChain.organisation_id == unit.id)):
        # a chain stopped before this one starts may be started again under its old name
        if _same_name(other.name, name) and (other.stopped_on is None or other.stopped_on > started_on):
            raise _duplicate(
                CHAIN,
                other,
                f"«{other.name}» của {unit.name} (từ ngày {other.started_on:%d/%m/%Y})",
                f"“{other.name}” of {unit.name} (since {other.started_on:%d/%m/%Y})",
            )
    chain = ValueChain(
        name=name,
        organisation_id=unit.id,
        organisation=unit,
        lead_producer_id=lead.id if lead else None,
        lead_name=lead_name,
        started_on=started_on,
        working_from=working_from,
        recorded_by_id=actor.id,
    )
    chain.members = member_rows
    chain.products = _chain_products(session, products, owners)
    session.add(chain)
    session.flush()
    return chain


def get_chain(session: Session, actor: Actor, chain_id: object) -> ValueChain:
    return _load(
        session,
        actor,
        ValueChain,
        chain_id,
        ValueChain.organisation_id,
        CHAIN,
        selectinload(ValueChain.organisation),
        selectinload(ValueChain.members),
        selectinload(ValueChain.products),
        selectinload(ValueChain.lead_producer),
    )


def update_chain(
    session: Session,
    actor: Actor,
    chain_id: int,
    *,
    name: object = UNSET,
    working_from: object = UNSET,
    stopped_on: object = UNSET,
    members: object = UNSET,
    products: object = UNSET,
    today: date | None = None,
) -> ValueChain:
    """Mark a chain working from a day, stopped on a day (None clears a mistaken date), or change its name,
    members and products. The dates stay ordered: started ≤ working ≤ stopped, none in the future."""
    today = today or today_vn()
    chain = get_chain(session, actor, chain_id)
    require(actor, ACTION, chain)
    new_name = chain.name if name is UNSET else _line(name, "name", L_NAME, MAX_NAME)
    working = chain.working_from if working_from is UNSET else working_from
    stopped = chain.stopped_on if stopped_on is UNSET else stopped_on
    _chain_dates(chain.started_on, working, stopped, today)
    new_members = (
        chain.members if members is UNSET else _producers_in(session, chain.organisation, members or (), "members")
    )
    new_products = chain.products
    if members is not UNSET or products is not UNSET:
        owners = {p.id for p in new_members} | ({chain.lead_producer_id} if chain.lead_producer_id else set())
        wanted = products if products is not UNSET else [p.id for p in chain.products]
        new_products = _chain_products(session, wanted or (), owners)
    # every check passed: now write (a refusal above leaves the chain as it was)
    chain.name, chain.working_from, chain.stopped_on = new_name, working, stopped
    chain.members, chain.products = list(new_members), list(new_products)
    session.flush()
    return chain


def list_chains(
    session: Session,
    actor: Actor,
    *,
    org_id: int | None = None,
    at: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """The chains of the actor's area; with `at`, only those that existed on that day (a list as of a
    day before a chain started does not show it, as the report as of that day does not count it)."""
    stmt = select(ValueChain).options(
        selectinload(ValueChain.organisation),
        selectinload(ValueChain.members),
        selectinload(ValueChain.products),
    )
    stmt = _scoped(actor, stmt, ValueChain.organisation_id, session, org_id)
    if at is not None:
        stmt = stmt.where(ValueChain.started_on <= at)
    return _paged(session, stmt.order_by(ValueChain.started_on.desc(), ValueChain.id.desc()), page, per_page)


def chain_choices(session: Session, actor: Actor, unit: Organisation | None = None) -> tuple[list, list]:
    """(producers, products) as (id, name) the actor may pick for a chain (in `unit` when given)."""
    paths = [unit.path] if unit is not None else None
    producers = [
        (i, n)
        for i, n in session.execute(
            select(Producer.id, Producer.name)
            .where(actor.subtree(Producer.commune_id, paths), actor.subtree(Producer.commune_id))
            .order_by(Producer.name)
            .limit(500)
        )
    ]
    products = [
        (i, n)
        for i, n in session.execute(
            select(Product.id, Product.name)
            .where(actor.subtree(Product.commune_id, paths), actor.subtree(Product.commune_id))
            .order_by(Product.name)
            .limit(500)
        )
    ]
    return producers, products


# --- sales points ---------------------------------------------------------------------------------
SALES_POINT = Text("điểm bán", "Sales point")
L_ADDRESS = Text("Địa chỉ", "Address")
L_OPENED = Text("Ngày mở", "Opened on")
L_CLOSED = Text("Ngày đóng", "Closed on")


def create_sales_point(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int,
    name: str,
    address: str,
    opened_on: date,
    closed_on: date | None = None,
    today: date | None = None,
) -> SalesPoint:
    """Record an OCOP sales point of a district or commune, open from `opened_on`."""
    today = today or today_vn()
    unit = _unit(session, actor, organisation_id, ("commune", "district"), "organisation_id")
    require(actor, ACTION, unit)
    point = SalesPoint(
        name=_line(name, "name", L_NAME, MAX_NAME),
        organisation_id=unit.id,
        organisation=unit,
        address=_line(address, "address", L_ADDRESS, MAX_ADDRESS),
        opened_on=_past_day(opened_on, "opened_on", L_OPENED, today),
        closed_on=_past_day(closed_on, "closed_on", L_CLOSED, today, required=False),
        recorded_by_id=actor.id,
    )
    _not_before(point.closed_on, point.opened_on, "closed_on", L_CLOSED, L_OPENED)
    for other in session.scalars(select(SalesPoint).where(SalesPoint.organisation_id == unit.id)):
        overlap = (other.closed_on is None or other.closed_on > point.opened_on) and (
            point.closed_on is None or point.closed_on > other.opened_on
        )
        if overlap and _same_name(other.name, point.name):
            raise _duplicate(
                SALES_POINT,
                other,
                f"«{other.name}» của {unit.name}, mở từ ngày {other.opened_on:%d/%m/%Y}",
                f"“{other.name}” of {unit.name}, open since {other.opened_on:%d/%m/%Y},",
            )
    session.add(point)
    session.flush()
    return point


def get_sales_point(session: Session, actor: Actor, point_id: object) -> SalesPoint:
    return _load(
        session,
        actor,
        SalesPoint,
        point_id,
        SalesPoint.organisation_id,
        SALES_POINT,
        selectinload(SalesPoint.organisation),
    )


def close_sales_point(
    session: Session, actor: Actor, point_id: int, *, closed_on: date, today: date | None = None
) -> SalesPoint:
    """Close a sales point on `closed_on` (not before it opened, not in the future, not twice)."""
    today = today or today_vn()
    point = get_sales_point(session, actor, point_id)
    require(actor, ACTION, point)
    end_once(
        session,
        point,
        start="opened_on",
        end="closed_on",
        day=closed_on,
        today=today,
        labels=(L_CLOSED, L_OPENED),
        already=lambda d: Text(
            f"Điểm bán đã đóng ngày {d:%d/%m/%Y}", f"The sales point already closed on {d:%d/%m/%Y}"
        ),
    )
    return point


def list_sales_points(
    session: Session, actor: Actor, *, org_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    stmt = select(SalesPoint).options(selectinload(SalesPoint.organisation))
    stmt = _scoped(actor, stmt, SalesPoint.organisation_id, session, org_id)
    return _paged(session, stmt.order_by(SalesPoint.opened_on.desc(), SalesPoint.id.desc()), page, per_page)


# --- trainings ------------------------------------------------------------------------------------
TRAINING = Text("buổi tập huấn", "Training")
L_HELD = Text("Ngày tổ chức", "Held on")
L_TOPIC = Text("Chủ đề", "Topic")


def _attendance(value: Mapping[str, object], roles: Mapping[str, Text]) -> dict[str, int]:
    """Role -> number of people: known roles (catalogue `trainee_roles`), positive whole numbers, at least one."""
    out: dict[str, int] = {}
    for role, raw in dict(value or {}).items():
        if role not in roles:
            known = ", ".join(sorted(roles))
            raise _invalid(
                "people", f"Không có đối tượng «{role}»; chọn: {known}", f"Unknown role “{role}”; choose: {known}"
            )
        number = parse_number(raw) if not isinstance(raw, bool) else None
        if raw in (None, "", 0, "0"):
            continue
        if number is None or number != number.to_integral_value() or number < 1 or number > MAX_PEOPLE:
            label = roles[role]
            raise _invalid(
                "people",
                f"Số người «{label.vi}» phải là số nguyên dương, nhận được «{raw}»",
                f"The number of “{label.en}” must be a positive whole number, got “{raw}”",
            )
        out[role] = int(number)
    if not out:
        raise _invalid(
            "people",
            "Cần nhập số người tham dự của ít nhất một đối tượng",
            "Enter how many people of at least one kind attended",
        )
    return out


def create_training(
    session: Session,
    registry: Registry,
    actor: Actor,
    *,
    organisation_id: int,
    kind: str,
    held_on: date,
    topic: str,
    people: Mapping[str, object],
    today: date | None = None,
) -> Training:
    """Record a training or outreach session a unit held, with its attendance by trainee role."""
    today = today or today_vn()
    unit = _unit(session, actor, organisation_id, ("commune", "district", "province"), "organisation_id")
    require(actor, ACTION, unit)
    if kind not in TRAINING_KINDS:
        raise _invalid("kind", f"Loại «{kind}» không có; chọn: training, outreach", f"Unknown kind “{kind}”")
    training = Training(
        kind=kind,
        organisation_id=unit.id,
        organisation=unit,
        held_on=_past_day(held_on, "held_on", L_HELD, today),
        topic=_line(topic, "topic", L_TOPIC, MAX_TOPIC),
        recorded_by_id=actor.id,
    )
    counts = _attendance(people, registry.catalogue.trainee_roles)
    same_day = select(Training).where(
        Training.organisation_id == unit.id, Training.kind == kind, Training.held_on == training.held_on
    )
    for other in session.scalars(same_day):
        if _same_name(other.topic, training.topic):
            raise _duplicate(
                TRAINING,
                other,
                f"«{other.topic}» của {unit.name} ngày {other.held_on:%d/%m/%Y}",
                f"“{other.topic}” of {unit.name} on {other.held_on:%d/%m/%Y}",
                field="topic",
            )
    training.attendance = [TrainingAttendance(role=r, people=n) for r, n in sorted(counts.items())]
    session.add(training)
    session.flush()
    return training


def get_training(session: Session, actor: Actor, training_id: object) -> Training:
    return _load(
        session,
        actor,
        Training,
        training_id,
        Training.organisation_id,
        TRAINING,
        selectinload(Training.organisation),
        selectinload(Training.attendance),
    )


def edit_training(
    session: Session,
    registry: Registry,
    actor: Actor,
    training_id: int,
    *,
    held_on: object = UNSET,
    topic: object = UNSET,
    people: object = UNSET,
    today: date | None = None,
) -> Training:
    """Correct a session's day, topic or attendance."""
    today = today or today_vn()
    training = get_training(session, actor, training_id)
    require(actor, ACTION, training)
    new_day = training.held_on if held_on is UNSET else _past_day(held_on, "held_on", L_HELD, today)
    new_topic = training.topic if topic is UNSET else _line(topic, "topic", L_TOPIC, MAX_TOPIC)
    new_people = None if people is UNSET else _attendance(people, registry.catalogue.trainee_roles)
    training.held_on, training.topic = new_day, new_topic
    if new_people is not None:
        training.attendance = []
        session.flush()  # the old rows go before the new ones take their (training, role) keys
        training.attendance = [TrainingAttendance(role=r, people=n) for r, n in sorted(new_people.items())]
    session.flush()
    return training


def list_trainings(
    session: Session, actor: Actor, *, org_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    stmt = select(Training).options(selectinload(Training.organisation), selectinload(Training.attendance))
    stmt = _scoped(actor, stmt, Training.organisation_id, session, org_id)
    return _paged(session, stmt.order_by(Training.held_on.desc(), Training.id.desc()), page, per_page)


# --- the index ------------------------------------------------------------------------------------
def counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many records of each kind the actor's area holds (the programme page's index)."""
    return {
        "areas": session.scalar(select(func.count(MaterialArea.id)).where(actor.subtree(MaterialArea.commune_id))) or 0,
        "chains": session.scalar(select(func.count(ValueChain.id)).where(actor.subtree(ValueChain.organisation_id)))
        or 0,
        "sales_points": session.scalar(
            select(func.count(SalesPoint.id)).where(actor.subtree(SalesPoint.organisation_id))
        )
        or 0,
        "trainings": session.scalar(select(func.count(Training.id)).where(actor.subtree(Training.organisation_id)))
        or 0,
    }


def units(session: Session, actor: Actor, levels: tuple[str, ...]) -> list[Organisation]:
    """The units of the actor's area at `levels` on which it may record (form choosers), in tree order."""
    found = session.scalars(
        select(Organisation)
        .where(actor.subtree(Organisation.id), Organisation.level.in_(levels))
        .order_by(Organisation.path)
    )
    return [o for o in found if can(actor, ACTION, o)]


__all__ = [
    "CHAIN_STATUS_LABELS",
    "KIND_LABELS",
    "TRAINING_KINDS",
    "UNSET",
    "area_district",
    "chain_choices",
    "close_sales_point",
    "counts",
    "create_area",
    "create_chain",
    "create_sales_point",
    "create_training",
    "edit_area",
    "edit_training",
    "get_area",
    "get_chain",
    "get_sales_point",
    "get_training",
    "link_not_found",
    "link_product",
    "parse_hectares",
    "linkable_products",
    "list_areas",
    "list_chains",
    "list_sales_points",
    "list_trainings",
    "today_vn",
    "unit_by_code",
    "units",
    "unlink_product",
    "update_chain",
]
