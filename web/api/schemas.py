"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of what the API reads and answers.

Limits and enumerations come from the core (its constants, the catalogue, the workflow
registry), so the description follows the rules instead of restating them.
"""

from __future__ import annotations

from ocop_workflow.engine import Registry
from ocop_workflow.engine.definition import LOWER_SCORE_POLICIES
from ocop_workflow.levels import LEVELS
from ocop_workflow.models import APPLICATION_TYPES, PRODUCER_KINDS
from ocop_workflow.services.documents import CONTENT_TYPES
from ocop_workflow.services.products import MAX_COMMENT, MAX_NAME
from ocop_workflow.validation import MAX_ID  # an INTEGER column on PostgreSQL

NO_NUL = r"^[^\u0000]*$"  # PostgreSQL text cannot hold NUL characters

API_DESCRIPTION = """\
JSON API of OCOP Workflow for integrations.

**Authentication:** `Authorization: Bearer ocop_<prefix>_<secret>`, a personal API token created on the
account page (API tokens) or with `ocop token create --user EMAIL`. A token acts as its user, with the
user's roles and area of that day: the same service functions and the same access rules as the web
interface. Out-of-area objects are answered 404, never 403.

**Errors** are problem details (RFC 9457, `application/problem+json`) with `type`, `title`, `status`,
`detail`, a stable `code`, `missing` (every unmet requirement, for a refused step) and `invalid_params`
(for a malformed request). Texts are in Vietnamese or English by `Accept-Language` (default: the
token user's language, else Vietnamese).

**Optimistic locking:** a product's `version` changes with every change; send the version you read with
a step, and a 409 `stale_version` tells you someone was faster.

**Rate limit:** per token (see the `X-RateLimit-*` headers); 429 with `Retry-After` beyond it.
"""

TAGS = [
    ("products", "Products, their steps, history and dossier documents"),
    ("workflows", "Workflow definitions and diagrams"),
    ("account", "The caller and their notifications"),
    ("councils", "Evaluation councils (hội đồng) and their members"),
    ("rounds", "Evaluation rounds (đợt đánh giá): products, closing, minutes and score tables"),
    ("sheets", "A council member's own score sheet (phiếu đánh giá)"),
    ("decisions", "Recognition decisions (quyết định công nhận): drafting, signing, the DOCX"),
    ("certificates", "OCOP certificates (giấy chứng nhận): lists, status, revocation, the PDF"),
    ("records", "A product's programme records: association support, e-commerce listings, revenue (issue #12)"),
    ("plans", "Plans, their targets and progress reports (issue #12)"),
    ("reports", "Process figures: per stage, the share of stays finished within the time limit (issue #12)"),
    ("programme", "A unit's programme records: raw-material areas, value chains, sales points, trainings"),
    ("public", "Public verification of a certificate by its code (no token)"),
    ("meta", "This description and the problem types"),
]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def text(max_length: int, min_length: int = 0) -> dict:
    schema = {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    if min_length:
        schema["minLength"] = min_length
    return schema


def obj(properties: dict, required: list[str] | None = None, *, closed: bool = False) -> dict:
    schema: dict = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def items_of(name: str) -> dict:
    return obj({"items": {"type": "array", "items": ref(name)}})


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
STRINGS = {"type": "array", "items": STR}


def components(registry: Registry) -> dict:
    from .product_records_schemas import product_records_components
    from .programme_schemas import programme_components  # issue #12: a unit's programme records
    from .recognition_schemas import recognition_components  # these build on the helpers above
    from .round_schemas import round_components

    cat = registry.catalogue
    groups = sorted(cat.product_groups)
    doc_types = sorted(cat.document_types)
    workflow_keys = registry.keys()
    range_ = obj({"min": nullable({"type": "number"}), "below": nullable({"type": "number"})})
    summary = {
        "id": ID,
        "name": STR,
        "product_group": {"type": "string", "enum": groups},
        "product_group_label": STR,
        "subgroup": nullable(STR),
        "producer": ref("ProducerRef"),
        "commune": ref("OrganisationRef"),
        "workflow": ref("WorkflowRef"),
        "state": STR,
        "state_label": STR,
        "state_entered_at": DATETIME,
        "star": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
        "certified": {**BOOL, "description": "holds a certificate valid today (valid or expiring)"},
        "certificate": nullable(
            {**ref("CertificateRef"), "description": "the certificate valid today, else the latest one; null: none"}
        ),
        "application_type": {"type": "string", "enum": list(APPLICATION_TYPES)},
        "version": {**INT, "description": "send it back with a step (optimistic locking)"},
    }
    return {
        "Problem": obj(
            {
                "type": {
                    "type": "string",
                    "format": "uri-reference",
                    "description": "identifies the problem type; GET it for a description",
                },
                "title": STR,
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": STR,
                "code": {"type": "string", "description": "stable, for programs"},
                "missing": {**STRINGS, "description": "for guard_failed: every unmet requirement"},
                "invalid_params": {"type": "array", "items": obj({"name": STR, "reason": STR})},
            },
            ["type", "title", "status", "detail", "code"],
        ),
        "ProblemType": obj({"type": STR, "code": STR, "status": INT, "title": STR, "description": STR}),
        "OrganisationRef": obj({"id": ID, "code": STR, "name": STR, "level": {"type": "string", "enum": list(LEVELS)}}),
        "UserRef": obj({"id": ID, "name": STR}),
        "ProducerRef": obj(
            {"id": ID, "name": STR, "kind": {"type": "string", "enum": list(PRODUCER_KINDS)}, "kind_label": STR}
        ),
        "WorkflowRef": obj({"key": STR, "version": INT}),
        "ProductSummary": obj(summary),
        "ProductPage": obj(
            {
                "items": {"type": "array", "items": ref("ProductSummary")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "total": {**INT, "description": "exact when total_exact, else a lower bound"},
                "total_exact": BOOL,
                "has_next": BOOL,
            }
        ),
        "TriggerOption": obj(
            {
                "trigger": STR,
                "label": STR,
                "available": {**BOOL, "description": "nothing is missing: the caller may take this step now"},
                "missing": STRINGS,
                "needs_score": BOOL,
                "needs_comment": BOOL,
                "destinations": STRINGS,
                "allowed_roles": STRINGS,
            }
        ),
        "Rating": obj(
            {"level": STR, "score": {"type": "number"}, "star": {"type": "integer"}, "final": BOOL, "at": DATETIME}
        ),
        "Document": obj(
            {
                "id": ID,
                "product_id": ID,
                "doc_type": STR,
                "doc_type_label": STR,
                "original_name": STR,
                "size": INT,
                "sha256": STR,
                "content_type": {"type": "string", "enum": sorted(set(CONTENT_TYPES.values()))},
                "uploaded_at": DATETIME,
                "uploaded_by": nullable(ref("UserRef")),
                "current": BOOL,
                "replaces_id": nullable(ID),
                "content_url": STR,
            }
        ),
        "DocumentList": items_of("Document"),
        "ProductDetail": obj(
            {
                **summary,
                "triggers": {
                    "type": "array",
                    "items": ref("TriggerOption"),
                    "description": "the steps of the current state the caller's roles may take",
                },
                "documents": {"type": "array", "items": ref("Document"), "description": "the current dossier"},
                "ratings": {"type": "array", "items": ref("Rating")},
            }
        ),
        "ProductCreate": obj(
            {
                "name": text(MAX_NAME, 1),
                "product_group": {"type": "string", "enum": groups},
                "producer_id": ID,
                "subgroup": nullable(text(100)),
                "workflow_key": nullable({"type": "string", "enum": workflow_keys}),
            },
            ["name", "product_group", "producer_id"],
            closed=True,
        ),
        "Event": obj(
            {
                "seq": INT,
                "at": DATETIME,
                "trigger": STR,
                "from_state": nullable(STR),
                "to_state": STR,
                "actor": nullable(ref("UserRef")),
                "comment": nullable(STR),
                "score": nullable({"type": "number"}),
                "data": {"type": "object"},
                "workflow": ref("WorkflowRef"),
                "dossier_fingerprint": STR,
            }
        ),
        "History": items_of("Event"),
        "TransitionRequest": obj(
            {
                "trigger": text(60, 1),
                "comment": nullable(text(MAX_COMMENT)),
                "data": obj({"score": nullable({"type": "number", "minimum": 0, "maximum": 100})}, [], closed=True),
                "version": {**ID, "description": "the product's version as last read"},
            },
            ["trigger", "version"],
            closed=True,
        ),
        "TransitionResult": obj(
            {
                "state": STR,
                "state_label": STR,
                "version": INT,
                "star": nullable(INT),
                "event": ref("Event"),
                "product": ref("ProductDetail"),
            }
        ),
        "WorkflowSummary": obj(
            {
                "key": STR,
                "version": INT,
                "ident": STR,
                "title": STR,
                "legal_basis": STR,
                "effective_from": nullable({"type": "string", "format": "date"}),
                "latest": BOOL,
                "default": BOOL,
            }
        ),
        "WorkflowList": items_of("WorkflowSummary"),
        "Range": range_,
        "State": obj({"key": STR, "label": STR, "level": STR, "sla_days": nullable(INT), "final": BOOL}),
        "Transition": obj(
            {
                "trigger": STR,
                "label": STR,
                "sources": STRINGS,
                "dest": STR,
                "on_upgrade": nullable(STR),
                "roles": STRINGS,
                "fields": STRINGS,
                "needs_score": BOOL,
                "documents": nullable(
                    obj(
                        {
                            "all": STRINGS,
                            "by_group": {"type": "object", "additionalProperties": STRINGS},
                            "by_producer_kind": {"type": "object", "additionalProperties": STRINGS},
                        }
                    )
                ),
                "score": nullable(ref("Range")),
                "star": nullable(ref("Range")),
                "rating": nullable(obj({"level": STR, "max_star": INT, "min_star": INT, "final": BOOL})),
                "sets": {"type": "object", "additionalProperties": STR},
            }
        ),
        "Workflow": obj(
            {
                "key": STR,
                "version": INT,
                "ident": STR,
                "title": STR,
                "legal_basis": STR,
                "effective_from": nullable({"type": "string", "format": "date"}),
                "initial": STR,
                "sla_calendar": STR,
                "states": {"type": "array", "items": ref("State")},
                "transitions": {"type": "array", "items": ref("Transition")},
                "evaluation": obj(
                    {
                        "lower_score": {"type": "string", "enum": list(LOWER_SCORE_POLICIES)},
                        "quorum": {**STR, "description": "share of the council's members, e.g. 2/3"},
                        "rounding": STR,
                        "decimals": INT,
                        "criteria_set": STR,
                        "source": STR,
                    }
                ),
            }
        ),
        "Notification": obj(
            {
                "id": ID,
                "kind": STR,
                "title": STR,
                "body": STR,
                "link": nullable(STR),
                "product_id": nullable(ID),
                "created_at": DATETIME,
                "read_at": nullable(DATETIME),
            }
        ),
        "NotificationList": items_of("Notification"),
        "Me": obj(
            {
                "id": ID,
                "email": STR,
                "name": STR,
                "locale": STR,
                "roles": {
                    "type": "array",
                    "items": obj({"role": STR, "role_label": STR, "organisation": ref("OrganisationRef")}),
                },
                "token": obj(
                    {"id": ID, "name": STR, "prefix": STR, "created_at": DATETIME, "expires_at": nullable(DATETIME)}
                ),
            }
        ),
        **round_components(),
        **recognition_components(),
        **product_records_components(registry),
        **programme_components(),
        "DocumentType": {"type": "string", "enum": doc_types},
        "ProductGroup": {"type": "string", "enum": groups},
    }
