"""JSON Schemas of a product's programme records in the API (merged into `schemas.components`).

The platform is an enumeration of the catalogue's keys; the year, the amount and the address are checked
by `services.product_records`, so a wrong value gets its translated refusal (422 naming the field)."""

from __future__ import annotations

from ocop_workflow.engine import Registry
from ocop_workflow.services.product_records import MAX_AMOUNT, MAX_NOTE, MAX_URL

from .schemas import DATETIME, ID, STR, items_of, nullable, obj, ref, text

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def product_records_components(registry: Registry) -> dict:
    platforms = sorted(registry.catalogue.ecommerce_platforms)
    amount = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}
    return {
        "Support": obj(
            {
                "id": ID,
                "product_id": ID,
                "organisation": ref("OrganisationRef"),
                "officer": nullable(ref("UserRef")),
                "started_on": DATE,
                "ended_on": nullable(DATE),
                "note": nullable(STR),
                "recorded_at": nullable(DATETIME),
            }
        ),
        "SupportList": items_of("Support"),
        "SupportCreate": obj(
            {
                "organisation_id": nullable({**ID, "description": "default: the caller's own unit"}),
                "officer": nullable(
                    {"anyOf": [ID, text(254, 1)], "description": "the officer's user id or e-mail (optional)"}
                ),
                "started_on": DATE,
                "note": nullable(text(MAX_NOTE)),
            },
            ["started_on"],
            closed=True,
        ),
        "SupportEnd": obj({"ended_on": nullable({**DATE, "description": "default: today"})}, [], closed=True),
        "Listing": obj(
            {
                "id": ID,
                "product_id": ID,
                "platform": {"type": "string", "enum": platforms},
                "platform_label": STR,
                "url": STR,
                "listed_on": DATE,
                "removed_on": nullable(DATE),
                "recorded_at": nullable(DATETIME),
            }
        ),
        "ListingList": items_of("Listing"),
        "ListingCreate": obj(
            {
                "platform": {"type": "string", "enum": platforms},
                "url": {**text(MAX_URL, 1), "description": "an http(s) address"},
                "listed_on": DATE,
            },
            closed=True,
        ),
        "ListingRemove": obj({"removed_on": nullable({**DATE, "description": "default: today"})}, [], closed=True),
        "Revenue": obj({"product_id": ID, "year": {"type": "integer"}, "amount": amount, "declared_at": DATETIME}),
        "RevenueList": items_of("Revenue"),
        "RevenuePut": obj(
            {"amount": {"anyOf": [amount, text(32, 1)], "description": 'whole đồng: 1250000000 or "1.250.000.000"'}},
            closed=True,
        ),
    }
