"""JSON Schemas of a unit's programme records (issue #12), merged into `schemas.components`.

Hectares are a number or the text a person typed ("12,5"): the service reads both as the web form does.
How many people of a trainee role attended is checked by the service against the catalogue's roles, so an
unknown role is a translated 422 naming the known ones rather than a JSON-Schema message in English."""

from __future__ import annotations

from ocop_workflow.services.programme import (
    MAX_ADDRESS,
    MAX_CODE,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_TOPIC,
    TRAINING_KINDS,
)

from .schemas import BOOL, ID, INT, STR, nullable, obj, ref, text

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
IDS = {"type": "array", "items": ID, "maxItems": 500, "uniqueItems": True}
HECTARES = {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000}, text(32, 1)]}
PEOPLE = {
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_PEOPLE},
    "propertyNames": {"type": "string", "maxLength": 32, "pattern": r"^[a-z_]+$"},
    "minProperties": 1,
    "maxProperties": 20,
}
CHAIN_STATUSES = ["planned", "building", "working", "stopped"]


def _page(item: str) -> dict:
    return obj(
        {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "total": INT,
        }
    )


def programme_components() -> dict:
    named = obj({"id": ID, "name": STR})
    return {
        "AreaLink": obj(
            {
                "id": ID,
                "product": named,
                "linked_on": DATE,
                "unlinked_on": nullable(DATE),
                "linked": {**BOOL, "description": "the link holds today"},
            }
        ),
        "MaterialArea": obj(
            {
                "id": ID,
                "name": STR,
                "commune": ref("OrganisationRef"),
                "area_ha": nullable({"type": "number"}),
                "growing_code": nullable(STR),
                "links": {"type": "array", "items": ref("AreaLink")},
            }
        ),
        "MaterialAreaPage": _page("MaterialArea"),
        "MaterialAreaCreate": obj(
            {
                "commune_id": ID,
                "name": text(MAX_NAME, 1),
                "area_ha": nullable(HECTARES),
                "growing_code": nullable(text(MAX_CODE)),
            },
            ["commune_id", "name"],
            closed=True,
        ),
        "AreaLinkCreate": obj({"product_id": ID, "linked_on": DATE}, closed=True),
        "AreaLinkEnd": obj({"unlinked_on": DATE}, closed=True),
        "ValueChain": obj(
            {
                "id": ID,
                "name": STR,
                "organisation": ref("OrganisationRef"),
                "lead_name": STR,
                "lead_producer": nullable(named),
                "members": {"type": "array", "items": named},
                "products": {"type": "array", "items": named},
                "started_on": DATE,
                "working_from": nullable(DATE),
                "stopped_on": nullable(DATE),
                "status": {"type": "string", "enum": CHAIN_STATUSES, "description": "today"},
                "status_label": STR,
            }
        ),
        "ValueChainPage": _page("ValueChain"),
        "ValueChainCreate": obj(
            {
                "organisation_id": ID,
                "name": text(MAX_NAME, 1),
                "lead_producer_id": nullable(ID),
                "lead_name": nullable(text(MAX_NAME)),
                "members": IDS,
                "products": IDS,
                "started_on": DATE,
                "working_from": nullable(DATE),
            },
            ["organisation_id", "name", "started_on"],
            closed=True,
        ),
        "ValueChainPatch": obj(
            {
                "name": text(MAX_NAME, 1),
                "working_from": nullable(DATE),
                "stopped_on": nullable(DATE),
                "members": IDS,
                "products": IDS,
            },
            [],
            closed=True,
        ),
        "SalesPoint": obj(
            {
                "id": ID,
                "name": STR,
                "organisation": ref("OrganisationRef"),
                "address": STR,
                "opened_on": DATE,
                "closed_on": nullable(DATE),
                "open": {**BOOL, "description": "open today"},
            }
        ),
        "SalesPointPage": _page("SalesPoint"),
        "SalesPointCreate": obj(
            {
                "organisation_id": ID,
                "name": text(MAX_NAME, 1),
                "address": text(MAX_ADDRESS, 1),
                "opened_on": DATE,
                "closed_on": nullable(DATE),
            },
            ["organisation_id", "name", "address", "opened_on"],
            closed=True,
        ),
        "SalesPointClose": obj({"closed_on": DATE}, closed=True),
        "Training": obj(
            {
                "id": ID,
                "kind": {"type": "string", "enum": list(TRAINING_KINDS)},
                "kind_label": STR,
                "organisation": ref("OrganisationRef"),
                "held_on": DATE,
                "topic": STR,
                "people": {"type": "object", "additionalProperties": INT},
                "total": INT,
            }
        ),
        "TrainingPage": _page("Training"),
        "TrainingCreate": obj(
            {
                "organisation_id": ID,
                "kind": {"type": "string", "enum": list(TRAINING_KINDS)},
                "held_on": DATE,
                "topic": text(MAX_TOPIC, 1),
                "people": PEOPLE,
            },
            closed=True,
        ),
    }
