"""JSON Schemas of recognition decisions, certificates and the public verification (issue #10), merged
into `schemas.components`.

What the verification answers is public (no token): `CertificateVerification` holds only what the
certificate itself prints and the public page shows, never a person, a score, a document or an id.
"""

from __future__ import annotations

from ocop_workflow.levels import LEVELS
from ocop_workflow.models import DECISION_STATUSES
from ocop_workflow.services.certificate_lists import STATUSES
from ocop_workflow.services.decisions import MAX_NUMBER, MAX_TITLE

from .schemas import BOOL, DATETIME, ID, INT, STR, items_of, nullable, obj, ref, text

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
VERSION = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
STAR = {"type": "integer", "minimum": 3, "maximum": 5}
LEVEL = {"type": "string", "enum": list(LEVELS)}
STATUS = {"type": "string", "enum": list(STATUSES)}
MAX_REASON = 2000
MAX_PRODUCTS = 500  # a decision lists a round's products: tens, at most a few hundred


def recognition_components() -> dict:
    certificate_ref = {
        "code": STR,
        "star": STAR,
        "level": LEVEL,
        "status": {**STATUS, "description": "on today's date (Vietnam): valid, expiring, expired, superseded, revoked"},
        "status_label": STR,
        "issued_on": DATE,
        "expires_on": {**DATE, "description": "the certificate is expired from this day on"},
    }
    decision_summary = {
        "id": ID,
        "status": {"type": "string", "enum": list(DECISION_STATUSES)},
        "status_label": STR,
        "number": nullable({**STR, "description": "set when signed"}),
        "title": STR,
        "organisation": ref("OrganisationRef"),
        "level": LEVEL,
        "round": nullable(obj({"id": ID, "name": STR})),
        "signed_on": nullable(DATE),
        "drafted_at": DATETIME,
        "version": {**VERSION, "description": "send it back with a change or the signature (optimistic locking)"},
        "products": {**INT, "description": "how many products the decision lists"},
    }
    return {
        "CertificateRef": obj(certificate_ref),
        "Certificate": obj(
            {
                **certificate_ref,
                "product": obj({"id": ID, "name": STR}),
                "product_name": {**STR, "description": "as printed on the certificate"},
                "producer": obj({"id": ID, "name": STR}),
                "producer_name": {**STR, "description": "as printed on the certificate"},
                "organisation": {**ref("OrganisationRef"), "description": "the recognising organisation"},
                "decision": nullable(obj({"id": ID, "number": nullable(STR), "signed_on": nullable(DATE)})),
                "superseded_on": nullable(DATE),
                "superseded_by": nullable({**STR, "description": "the code of the certificate that replaced it"}),
                "revoked_on": nullable(DATE),
                "revoke_reason": nullable(STR),
                "revoke_decision": nullable(STR),
                "revoked_by": nullable(ref("UserRef")),
                "pdf_url": STR,
                "verify_url": {**STR, "description": "the public verification page (its QR code)"},
            }
        ),
        "CertificateList": items_of("Certificate"),
        "CertificatePage": obj(
            {
                "items": {"type": "array", "items": ref("Certificate")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "total": {**INT, "description": "exact when total_exact, else a lower bound"},
                "total_exact": BOOL,
                "has_next": BOOL,
            }
        ),
        "CertificateRevoke": obj(
            {
                "reason": text(MAX_REASON, 1),
                "decision_number": text(MAX_NUMBER, 1),
                "revoked_on": nullable({**DATE, "description": "default: today; not in the future nor before issue"}),
            },
            ["reason", "decision_number"],
            closed=True,
        ),
        # the same answer as the public page's JSON (/xac-minh/{code}.json: web.public.verification_json)
        "CertificateVerification": obj({"as_of": DATE, "certificate": ref("PublicCertificate")}),
        "PublicCertificate": obj(
            {
                "code": STR,
                "verify_url": STR,
                "product_name": STR,
                "producer_name": STR,
                "group": obj({"key": STR, "vi": STR, "en": STR}),
                "star": STAR,
                "status": STATUS,
                "status_label": obj({"vi": STR, "en": STR}),
                "valid": BOOL,
                "issued_on": DATE,
                "expires_on": DATE,
                "recognised_by": obj({"level": LEVEL, "level_label": obj({"vi": STR, "en": STR}), "name": STR}),
                "decision": nullable(obj({"number": nullable(STR), "date": nullable(DATE)})),
                "commune": nullable(obj({"code": STR, "name": STR})),
                "district": nullable(obj({"code": STR, "name": STR})),
                "province": nullable(obj({"code": STR, "name": STR})),
                "revoked": nullable(obj({"on": DATE, "decision_number": nullable(STR)})),
                "superseded": nullable(obj({"on": DATE, "by_code": nullable(STR), "by_url": nullable(STR)})),
            }
        ),
        "DecisionSummary": obj(decision_summary),
        "DecisionList": items_of("DecisionSummary"),
        "DecisionEntry": obj(
            {
                "product": obj({"id": ID, "name": STR, "producer": STR}),
                "star": STAR,
                "score": nullable({"type": "number"}),
                "certificate": nullable({**STR, "description": "the code issued by the signature"}),
            }
        ),
        "Decision": obj(
            {
                **decision_summary,
                "signer": nullable(ref("UserRef")),
                "signer_title": nullable(STR),
                "signed_at": nullable(DATETIME),
                "drafted_by": nullable(ref("UserRef")),
                "entries": {"type": "array", "items": ref("DecisionEntry")},
                "can_edit": {**BOOL, "description": "the caller may change or delete this draft"},
                "can_sign": {**BOOL, "description": "the caller may sign this draft"},
                "docx_url": STR,
            }
        ),
        "DecisionDeleted": obj({"id": ID, "deleted": BOOL}),
        "DecisionCreate": obj(
            {
                "organisation_id": {**ID, "description": "the recognising organisation (its level's decision)"},
                "round_id": nullable({**ID, "description": "only the products this round closed"}),
                "product_ids": nullable(
                    {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_PRODUCTS, "uniqueItems": True}
                ),
                "title": nullable(text(MAX_TITLE, 1)),
            },
            ["organisation_id"],
            closed=True,
        ),
        "DecisionRemoveProduct": obj({"product_id": ID, "version": nullable(VERSION)}, ["product_id"], closed=True),
        "DecisionSign": obj(
            {
                "number": text(MAX_NUMBER, 1),
                "signed_on": nullable({**DATE, "description": "default: today; not in the future"}),
                "signer_title": nullable(text(200, 1)),
                "version": nullable(VERSION),
            },
            ["number"],
            closed=True,
        ),
    }
