"""API routes of a unit's programme records (issue #12): material areas, value chains, sales points, trainings.

The same service (`services/programme.py`) as the web pages and the CLI, with the token's user: lists cover
the caller's area, a record outside it is 404, a write the caller's role may not make is 403, a rule not
met is 422 (translated, naming the field), a second close or link is 409, and so is a record sent twice (the
same training — unit, kind, day, topic —, an open sales point, a chain or an area of the same unit and name)."""

from __future__ import annotations

from datetime import date

from flask import Response, url_for

from ocop_workflow.i18n import Text
from ocop_workflow.models import MaterialArea, SalesPoint, Training, ValueChain
from ocop_workflow.services import programme
from ocop_workflow.services.listing import Page

from ..context import db_session, registry
from .auth import api_actor
from .routes import ID, bp, reply, ser
from .serialize import json_date, when
from .spec import Param, ok, operation, parse_json, parse_query

LIST_QUERY = [
    Param(
        "org",
        {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,32}$"},
        "only this district's or commune's: its code, as in the plans API (404 outside the caller's area)",
        "219",
    ),
    Param("page", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "page number (20 a page)"),
]
CREATED = {"Location": {"schema": {"type": "string"}}}


def _date(value: object, field: str, name: Text) -> date | None:
    return json_date(value, name, field)


def _page(found: Page, item) -> dict:
    return {
        "items": [item(x) for x in found.items],
        "page": found.page,
        "per_page": found.per_page,
        "pages": found.pages,
        "total": found.total,
    }


def _today() -> date:
    return programme.today_vn()


# --- JSON of the records ------------------------------------------------------------------------
def area_json(a: MaterialArea) -> dict:
    today = _today()
    return {
        "id": a.id,
        "name": a.name,
        "commune": ser().org(a.commune),
        "area_ha": a.area_ha,
        "growing_code": a.growing_code,
        "links": [
            {
                "id": lk.id,
                "product": {"id": lk.product.id, "name": lk.product.name},
                "linked_on": lk.linked_on.isoformat(),
                "unlinked_on": when(lk.unlinked_on),
                "linked": lk.linked_on <= today and (lk.unlinked_on is None or lk.unlinked_on > today),
            }
            for lk in a.links
        ],
    }


def chain_json(c: ValueChain) -> dict:
    out, status = ser(), c.status_on(_today())
    return {
        "id": c.id,
        "name": c.name,
        "organisation": out.org(c.organisation),
        "lead_name": c.lead_name,
        "lead_producer": {"id": c.lead_producer.id, "name": c.lead_producer.name} if c.lead_producer else None,
        "members": [{"id": p.id, "name": p.name} for p in c.members],
        "products": [{"id": p.id, "name": p.name} for p in c.products],
        "started_on": c.started_on.isoformat(),
        "working_from": when(c.working_from),
        "stopped_on": when(c.stopped_on),
        "status": status,
        "status_label": out.t(programme.CHAIN_STATUS_LABELS[status]),
    }


def point_json(p: SalesPoint) -> dict:
    today = _today()
    return {
        "id": p.id,
        "name": p.name,
        "organisation": ser().org(p.organisation),
        "address": p.address,
        "opened_on": p.opened_on.isoformat(),
        "closed_on": when(p.closed_on),
        "open": p.opened_on <= today and (p.closed_on is None or p.closed_on > today),
    }


def training_json(t: Training) -> dict:
    out = ser()
    people = {a.role: a.people for a in t.attendance}
    return {
        "id": t.id,
        "kind": t.kind,
        "kind_label": out.t(programme.KIND_LABELS[t.kind]),
        "organisation": out.org(t.organisation),
        "held_on": t.held_on.isoformat(),
        "topic": t.topic,
        "people": people,
        "total": sum(people.values()),
    }


def _list(fetch, item) -> Response:
    args = parse_query()
    s, who = db_session(), api_actor()
    org_id = programme.unit_by_code(s, who, args["org"]).id if "org" in args else None
    found = fetch(s, who, org_id=org_id, page=args.get("page", 1))
    return reply(_page(found, item))


# --- material areas -----------------------------------------------------------------------------
@operation(
    bp,
    "/material-areas",
    "GET",
    tag="programme",
    query=LIST_QUERY,
    summary="The raw-material areas of the caller's area, with the products linked to them",
    replies={200: ok("A page of areas", "MaterialAreaPage")},
    errors=(404,),
)
def list_areas_view() -> Response:
    return _list(programme.list_areas, area_json)


@operation(
    bp,
    "/material-areas",
    "POST",
    tag="programme",
    body="MaterialAreaCreate",
    summary="Record a raw-material area in a commune (hectares > 0, growing-area code: letters, digits, '-', '.')",
    replies={201: ok("The new area", "MaterialArea", headers=CREATED)},
    errors=(403, 404, 409, 422),
)
def create_area_view() -> Response:
    body = parse_json()
    found = programme.create_area(
        db_session(),
        api_actor(),
        commune_id=body["commune_id"],
        name=body["name"],
        area_ha=body.get("area_ha"),
        growing_code=body.get("growing_code"),
    )
    return reply(area_json(found), 201, {"Location": url_for("api.list_areas_view", org=found.commune.code)})


@operation(
    bp,
    f"/material-areas/<{ID}:area_id>/links",
    "POST",
    tag="programme",
    body="AreaLinkCreate",
    path_examples={"area_id": 1},
    summary="Tie a product (of the area's district, in the caller's area) to the area from a day",
    replies={201: ok("The area with its links", "MaterialArea")},
    errors=(403, 404, 409, 422),
)
def link_area_view(area_id: int) -> Response:
    body = parse_json()
    s, who = db_session(), api_actor()
    programme.link_product(
        s,
        who,
        area_id,
        product_id=body["product_id"],
        linked_on=_date(body["linked_on"], "linked_on", programme.L_LINKED),
    )
    return reply(area_json(programme.get_area(s, who, area_id)), 201)


@operation(
    bp,
    f"/material-areas/<{ID}:area_id>/links/<{ID}:link_id>/end",
    "POST",
    tag="programme",
    body="AreaLinkEnd",
    path_examples={"area_id": 1, "link_id": 1},
    summary="End a product's link to the area on a day (not before it began, not in the future)",
    replies={200: ok("The area with its links", "MaterialArea")},
    errors=(403, 404, 409, 422),
)
def end_link_view(area_id: int, link_id: int) -> Response:
    body = parse_json()
    s, who = db_session(), api_actor()
    area = programme.get_area(s, who, area_id)
    if all(lk.id != link_id for lk in area.links):
        raise programme.link_not_found(link_id)
    programme.unlink_product(
        s, who, link_id, unlinked_on=_date(body["unlinked_on"], "unlinked_on", programme.L_UNLINKED)
    )
    return reply(area_json(area))


# --- value chains -------------------------------------------------------------------------------
@operation(
    bp,
    "/value-chains",
    "GET",
    tag="programme",
    query=LIST_QUERY,
    summary="The value-chain models of the caller's area with their status today",
    replies={200: ok("A page of chains", "ValueChainPage")},
    errors=(404,),
)
def list_chains_view() -> Response:
    return _list(programme.list_chains, chain_json)


@operation(
    bp,
    "/value-chains",
    "POST",
    tag="programme",
    body="ValueChainCreate",
    summary="Record a value-chain model of a commune or district: lead (a producer of the unit, or a name), "
    "member producers of the unit, products of the lead or the members",
    replies={201: ok("The new chain", "ValueChain", headers=CREATED)},
    errors=(403, 404, 409, 422),
)
def create_chain_view() -> Response:
    body = parse_json()
    found = programme.create_chain(
        db_session(),
        api_actor(),
        organisation_id=body["organisation_id"],
        name=body["name"],
        lead_producer_id=body.get("lead_producer_id"),
        lead_name=body.get("lead_name"),
        members=body.get("members", []),
        products=body.get("products", []),
        started_on=_date(body["started_on"], "started_on", programme.L_STARTED),
        working_from=_date(body.get("working_from"), "working_from", programme.L_WORKING),
    )
    return reply(chain_json(found), 201, {"Location": url_for("api.list_chains_view", org=found.organisation.code)})


@operation(
    bp,
    f"/value-chains/<{ID}:chain_id>",
    "PATCH",
    tag="programme",
    body="ValueChainPatch",
    path_examples={"chain_id": 1},
    summary="Mark a chain working from a day or stopped on a day (null clears), change its members or products",
    description="Only the keys sent change. Dates stay ordered (started ≤ working ≤ stopped), none in the future.",
    replies={200: ok("The chain", "ValueChain")},
    errors=(403, 404, 422),
)
def patch_chain_view(chain_id: int) -> Response:
    body = parse_json()
    changes: dict = {}
    if "name" in body:
        changes["name"] = body["name"]
    if "working_from" in body:
        changes["working_from"] = _date(body["working_from"], "working_from", programme.L_WORKING)
    if "stopped_on" in body:
        changes["stopped_on"] = _date(body["stopped_on"], "stopped_on", programme.L_STOPPED)
    for key in ("members", "products"):
        if key in body:
            changes[key] = body[key]
    found = programme.update_chain(db_session(), api_actor(), chain_id, **changes)
    return reply(chain_json(found))


# --- sales points -------------------------------------------------------------------------------
@operation(
    bp,
    "/sales-points",
    "GET",
    tag="programme",
    query=LIST_QUERY,
    summary="The OCOP sales points of the caller's area, open and closed",
    replies={200: ok("A page of sales points", "SalesPointPage")},
    errors=(404,),
)
def list_sales_points_view() -> Response:
    return _list(programme.list_sales_points, point_json)


@operation(
    bp,
    "/sales-points",
    "POST",
    tag="programme",
    body="SalesPointCreate",
    summary="Record an OCOP sales point of a district or commune, open from a day",
    replies={201: ok("The new sales point", "SalesPoint", headers=CREATED)},
    errors=(403, 404, 409, 422),
)
def create_sales_point_view() -> Response:
    body = parse_json()
    found = programme.create_sales_point(
        db_session(),
        api_actor(),
        organisation_id=body["organisation_id"],
        name=body["name"],
        address=body["address"],
        opened_on=_date(body["opened_on"], "opened_on", programme.L_OPENED),
        closed_on=_date(body.get("closed_on"), "closed_on", programme.L_CLOSED),
    )
    location = url_for("api.list_sales_points_view", org=found.organisation.code)
    return reply(point_json(found), 201, {"Location": location})


@operation(
    bp,
    f"/sales-points/<{ID}:point_id>/close",
    "POST",
    tag="programme",
    body="SalesPointClose",
    path_examples={"point_id": 1},
    summary="Close a sales point on a day (not before it opened, not in the future; 409 when already closed)",
    replies={200: ok("The sales point", "SalesPoint")},
    errors=(403, 404, 409, 422),
)
def close_sales_point_view(point_id: int) -> Response:
    body = parse_json()
    found = programme.close_sales_point(
        db_session(),
        api_actor(),
        point_id,
        closed_on=_date(body["closed_on"], "closed_on", programme.L_CLOSED),
    )
    return reply(point_json(found))


# --- trainings ----------------------------------------------------------------------------------
@operation(
    bp,
    "/trainings",
    "GET",
    tag="programme",
    query=LIST_QUERY,
    summary="The training and outreach sessions of the caller's area, latest first, with attendance by role",
    replies={200: ok("A page of sessions", "TrainingPage")},
    errors=(404,),
)
def list_trainings_view() -> Response:
    return _list(programme.list_trainings, training_json)


@operation(
    bp,
    "/trainings",
    "POST",
    tag="programme",
    body="TrainingCreate",
    summary="Record a training or outreach session with how many people of each trainee role attended",
    description="`people` maps the catalogue's trainee roles (`trainee_roles`) to positive whole numbers.",
    replies={201: ok("The new session", "Training", headers=CREATED)},
    errors=(403, 404, 409, 422),
)
def create_training_view() -> Response:
    body = parse_json()
    found = programme.create_training(
        db_session(),
        registry(),
        api_actor(),
        organisation_id=body["organisation_id"],
        kind=body["kind"],
        held_on=_date(body["held_on"], "held_on", programme.L_HELD),
        topic=body["topic"],
        people=body["people"],
    )
    return reply(
        training_json(found), 201, {"Location": url_for("api.list_trainings_view", org=found.organisation.code)}
    )
