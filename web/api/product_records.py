"""API routes of a product's programme records (issue #12): association support, listings, revenue.

The same service as the product page and the CLI (`services.product_records`), with the caller's Actor:
a product outside the caller's area is 404 (so are its records), a role that may not record is 403 with
the reason, a rule not met is 422 naming the field (`invalid_params`), a record already open is 409."""

from __future__ import annotations

from datetime import date

from flask import Response

from ocop_workflow.i18n import Text
from ocop_workflow.models import EcommerceListing, ProductRevenue, ProductSupport
from ocop_workflow.services import product_records as records

from ..context import db_session, registry
from .auth import api_actor
from .routes import ID, bp, reply, ser
from .serialize import json_date, when
from .spec import ok, operation, parse_json

TAG = "records"
PRODUCT = {"product_id": 1}


def _date(value: object, label: Text, field: str) -> date | None:
    return json_date(value, label, field)


def support_json(r: ProductSupport) -> dict:
    out = ser()
    return {
        "id": r.id,
        "product_id": r.product_id,
        "organisation": out.org(r.organisation),
        "officer": out.user(r.officer) if r.officer is not None else None,
        "started_on": r.started_on.isoformat(),
        "ended_on": when(r.ended_on),
        "note": r.note,
        "recorded_at": when(r.recorded_at),
    }


def listing_json(r: EcommerceListing) -> dict:
    labels = registry().catalogue.ecommerce_platforms
    return {
        "id": r.id,
        "product_id": r.product_id,
        "platform": r.platform,
        "platform_label": ser().t(labels.get(r.platform), r.platform),
        "url": r.url,
        "listed_on": r.listed_on.isoformat(),
        "removed_on": when(r.removed_on),
        "recorded_at": when(r.recorded_at),
    }


def revenue_json(r: ProductRevenue) -> dict:
    return {"product_id": r.product_id, "year": r.year, "amount": r.amount, "declared_at": when(r.declared_at)}


# --- supports -------------------------------------------------------------------------------------
@operation(
    bp,
    f"/products/<{ID}:product_id>/supports",
    "GET",
    tag=TAG,
    path_examples=PRODUCT,
    summary="The Farmers' Association's supports of a product, newest first",
    replies={200: ok("The supports", "SupportList")},
    errors=(404,),
)
def list_supports_view(product_id: int) -> Response:
    found = records.list_supports(db_session(), api_actor(), product_id)
    return reply({"items": [support_json(r) for r in found]})


@operation(
    bp,
    f"/products/<{ID}:product_id>/supports",
    "POST",
    tag=TAG,
    body="SupportCreate",
    path_examples=PRODUCT,
    summary="Record that an association unit supports the product from a day",
    description="`organisation_id`: the product's commune, district or province that the caller covers "
    "(default: the caller's own unit); `officer`: a user id or e-mail holding an association role there. "
    "No date in the future; one open support per unit (409). Roles: `record_support` in permissions.yaml.",
    replies={201: ok("The new support", "Support")},
    errors=(403, 404, 409, 422),
)
def add_support_view(product_id: int) -> Response:
    body = parse_json()
    found = records.add_support(
        db_session(),
        api_actor(),
        product_id,
        organisation_id=body.get("organisation_id"),
        officer=body.get("officer"),
        started_on=_date(body["started_on"], records.SINCE_LABEL, "started_on"),
        note=body.get("note"),
    )
    return reply(support_json(found), 201)


@operation(
    bp,
    f"/products/<{ID}:product_id>/supports/<{ID}:support_id>/end",
    "POST",
    tag=TAG,
    body="SupportEnd",
    path_examples={"product_id": 1, "support_id": 1},
    summary="End a support on a day (default today; not before it started, not in the future)",
    replies={200: ok("The support", "Support")},
    errors=(403, 404, 409, 422),
)
def end_support_view(product_id: int, support_id: int) -> Response:
    body = parse_json()
    found = records.end_support(
        db_session(),
        api_actor(),
        support_id,
        product_id=product_id,
        ended_on=_date(body.get("ended_on"), records.UNTIL_LABEL, "ended_on"),
    )
    return reply(support_json(found))


# --- listings -------------------------------------------------------------------------------------
@operation(
    bp,
    f"/products/<{ID}:product_id>/listings",
    "GET",
    tag=TAG,
    path_examples=PRODUCT,
    summary="The product's e-commerce listings (open ones first)",
    replies={200: ok("The listings", "ListingList")},
    errors=(404,),
)
def list_listings_view(product_id: int) -> Response:
    found = records.list_listings(db_session(), api_actor(), product_id)
    return reply({"items": [listing_json(r) for r in found]})


@operation(
    bp,
    f"/products/<{ID}:product_id>/listings",
    "POST",
    tag=TAG,
    body="ListingCreate",
    path_examples=PRODUCT,
    summary="Record that the product is offered at an http(s) address on a platform of the catalogue",
    description="The same address on the same platform is listed once while open (409). Roles: "
    "`record_market` (the producer's own account included).",
    replies={201: ok("The new listing", "Listing")},
    errors=(403, 404, 409, 422),
)
def add_listing_view(product_id: int) -> Response:
    body = parse_json()
    found = records.add_listing(
        db_session(),
        api_actor(),
        product_id,
        platform=body["platform"],
        url=body["url"],
        listed_on=_date(body["listed_on"], records.LISTED_LABEL, "listed_on"),
        platforms=registry().catalogue.ecommerce_platforms,
    )
    return reply(listing_json(found), 201)


@operation(
    bp,
    f"/products/<{ID}:product_id>/listings/<{ID}:listing_id>/remove",
    "POST",
    tag=TAG,
    body="ListingRemove",
    path_examples={"product_id": 1, "listing_id": 1},
    summary="Record that a listing was taken down on a day (default today)",
    replies={200: ok("The listing", "Listing")},
    errors=(403, 404, 409, 422),
)
def remove_listing_view(product_id: int, listing_id: int) -> Response:
    body = parse_json()
    found = records.remove_listing(
        db_session(),
        api_actor(),
        listing_id,
        product_id=product_id,
        removed_on=_date(body.get("removed_on"), records.REMOVED_LABEL, "removed_on"),
    )
    return reply(listing_json(found))


# --- revenue --------------------------------------------------------------------------------------
@operation(
    bp,
    f"/products/<{ID}:product_id>/revenues",
    "GET",
    tag=TAG,
    path_examples=PRODUCT,
    summary="The product's declared revenue by year (whole đồng), newest year first",
    replies={200: ok("The revenues", "RevenueList")},
    errors=(404,),
)
def list_revenues_view(product_id: int) -> Response:
    found = records.list_revenues(db_session(), api_actor(), product_id)
    return reply({"items": [revenue_json(r) for r in found]})


@operation(
    bp,
    f"/products/<{ID}:product_id>/revenues/<{ID}:year>",
    "PUT",
    tag=TAG,
    body="RevenuePut",
    path_examples={"product_id": 1, "year": 2025},
    summary="Declare the product's revenue for a year (2000 … this year); replaces an earlier declaration",
    description='`amount`: whole đồng ≥ 0, as a number or as typed ("1.250.000.000").',
    replies={200: ok("The declaration", "Revenue")},
    errors=(403, 404, 422),
)
def put_revenue_view(product_id: int, year: int) -> Response:
    body = parse_json()
    row = records.set_revenue(db_session(), api_actor(), product_id, year, body["amount"])
    return reply(revenue_json(row))
