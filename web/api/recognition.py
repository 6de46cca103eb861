"""/api/v1 recognition decisions and certificates (issue #10), and the public verification of a code.

The same services as the web pages and the CLI (`services.decisions`, `services.certificates`,
`services.certificate_lists`), with the caller's Actor; a signature goes through
`exports.recognition.sign_and_file_decision`, which also files the decision's DOCX in every listed
product's dossier in the same transaction. Statuses are those of today in Vietnam (`local_day`): a
certificate is expired from its expiry day without anything having run.

`GET /verify/{code}` needs no token: it answers only what the certificate prints and the public page
`/xac-minh/<code>` shows (`verification_json`), never a person, a score, a document or an internal id.
"""

from __future__ import annotations

from flask import Response, url_for
from sqlalchemy import select

from ocop_workflow.i18n import Text
from ocop_workflow.models import Certificate, RecognitionDecision
from ocop_workflow.services import certificate_lists, certificates, decisions
from ocop_workflow.services.authz import can
from ocop_workflow.services.certificates import STATUS_LABELS, local_day, status_of
from ocop_workflow.services.decisions import STATUS_LABELS as DECISION_LABELS
from ocop_workflow.services.documents import CONTENT_TYPES
from ocop_workflow.services.listing import MAX_PER_PAGE
from ocop_workflow.services.products import get_product

from ..context import db_session, registry, state
from . import schemas as S
from .auth import api_actor
from .problems import api_locale
from .rounds import _date, _download
from .routes import ID, bp, notice_days, reply, ser
from .serialize import when
from .spec import Param, Reply, ok, operation, parse_json, parse_query

DOCX = CONTENT_TYPES["docx"]
PDF = CONTENT_TYPES["pdf"]
CODE = {"code": "OCOP-BG-2026-00001"}
DECISION = {"decision_id": 1}


# --- JSON of the objects --------------------------------------------------------------------------
def verify_url(code: str) -> str:
    from ocop_workflow.exports.recognition import verify_url as url_of  # the one address the QR code holds

    return url_of(state().settings, code)


def certificate_json(c: Certificate) -> dict:
    out = ser()
    status = status_of(c, local_day(), notice_days())
    successor = c.superseded_by.code if c.superseded_by is not None else None
    decision = c.decision
    return {
        "code": c.code,
        "star": c.star,
        "level": c.level,
        "status": status,
        "status_label": out.t(STATUS_LABELS[status]),
        "issued_on": c.issued_on.isoformat(),
        "expires_on": c.expires_on.isoformat(),
        "product": {"id": c.product_id, "name": c.product.name},
        "product_name": c.product_name,
        "producer": {"id": c.producer_id, "name": c.producer.name},
        "producer_name": c.producer_name,
        "organisation": out.org(c.organisation),
        "decision": (
            {"id": decision.id, "number": decision.number, "signed_on": when(decision.signed_on)}
            if decision is not None
            else None
        ),
        "superseded_on": when(c.superseded_on),
        "superseded_by": successor,
        "revoked_on": when(c.revoked_on),
        "revoke_reason": c.revoke_reason,
        "revoke_decision": c.revoke_decision,
        "revoked_by": out.user(c.revoked_by),
        "pdf_url": url_for("api.certificate_pdf_view", code=c.code),
        "verify_url": verify_url(c.code),
    }


def decision_summary(d: RecognitionDecision) -> dict:
    out = ser()
    return {
        "id": d.id,
        "status": d.status,
        "status_label": out.t(DECISION_LABELS.get(d.status), d.status),
        "number": d.number,
        "title": d.title,
        "organisation": out.org(d.organisation),
        "level": d.level,
        "round": {"id": d.round.id, "name": d.round.name} if d.round is not None else None,
        "signed_on": when(d.signed_on),
        "drafted_at": when(d.drafted_at),
        "version": d.version,
        "products": len(d.entries),
    }


def decision_json(d: RecognitionDecision) -> dict:
    out, who = ser(), api_actor()
    rows = db_session().execute(select(Certificate.product_id, Certificate.code).where(Certificate.decision_id == d.id))
    codes = {product_id: code for product_id, code in rows}
    draft = d.status == "draft"
    body = decision_summary(d)
    body.update(
        {
            "signer": out.user(d.signer),
            "signer_title": d.signer_title,
            "signed_at": when(d.signed_at),
            "drafted_by": out.user(d.drafted_by),
            "entries": [
                {
                    "product": {"id": e.product.id, "name": e.product.name, "producer": e.product.producer.name},
                    "star": e.star,
                    "score": e.score,
                    "certificate": codes.get(e.product_id),
                }
                for e in d.entries
            ],
            "can_edit": draft and can(who, "draft_decisions", d),
            "can_sign": draft and can(who, "sign_decisions", d),
            "docx_url": url_for("api.decision_docx_view", decision_id=d.id),
        }
    )
    return body


def _decision_reply(decision_id: int, status: int = 200, headers: dict | None = None) -> Response:
    found = decisions.get_visible_decision(db_session(), api_actor(), decision_id)
    return reply(decision_json(found), status, headers)


def _visible(code: str) -> Certificate:
    return certificates.get_visible_certificate(db_session(), api_actor(), code)


# --- certificates ---------------------------------------------------------------------------------
@operation(
    bp,
    "/certificates",
    "GET",
    tag="certificates",
    query=[
        Param("status", {"type": "string", "enum": list(certificate_lists.STATUSES)}, "only this status today"),
        Param("page", {"type": "integer", "minimum": 1, "maximum": S.MAX_ID}, "page number (from 1)"),
        Param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "certificates per page"),
    ],
    summary="The certificates the caller may see (its area's products, and those its level recognised), newest first",
    replies={200: ok("One page of certificates", "CertificatePage")},
)
def list_certificates_view() -> Response:
    args = parse_query()
    status = args.get("status")
    page = certificate_lists.list_certificates(
        db_session(),
        api_actor(),
        today=local_day(),
        statuses=[status] if status else None,
        page=args.get("page", 1),
        per_page=args.get("per_page", 50),
        notice_days=notice_days(),
    )
    return reply(
        {
            "items": [certificate_json(c) for c in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "total": page.total,
            "total_exact": page.exact,
            "has_next": page.has_next,
        }
    )


@operation(
    bp,
    "/certificates/<code>",
    "GET",
    tag="certificates",
    path_examples=CODE,
    summary="A certificate by its code, with its status today",
    replies={200: ok("The certificate", "Certificate")},
    errors=(404,),
)
def certificate_view(code: str) -> Response:
    return reply(certificate_json(_visible(code)))


@operation(
    bp,
    "/certificates/<code>/pdf",
    "GET",
    tag="certificates",
    path_examples=CODE,
    summary="The printable certificate (PDF, with the QR code of its public verification page)",
    replies={200: Reply("The certificate", {PDF: {"schema": {"type": "string", "contentMediaType": PDF}}})},
    errors=(404,),
)
def certificate_pdf_view(code: str) -> Response:
    from ocop_workflow.exports.recognition import certificate_pdf

    cert = _visible(code)
    name, content = certificate_pdf(db_session(), registry(), state().settings, cert, api_locale())
    return _download(content, PDF, name)


@operation(
    bp,
    "/certificates/<code>/revoke",
    "POST",
    tag="certificates",
    body="CertificateRevoke",
    path_examples=CODE,
    summary="Revoke a certificate (the level that issued it), with the reason and the revocation decision's number",
    description="409 `conflict`: the certificate no longer counts (expired, superseded or already revoked). "
    "422: no reason, or a revocation date in the future or before the issue date.",
    replies={200: ok("The revoked certificate", "Certificate")},
    errors=(403, 404, 409, 422),
)
def revoke_certificate_view(code: str) -> Response:
    body = parse_json()
    cert = certificates.revoke_certificate(
        db_session(),
        api_actor(),
        code,
        reason=body["reason"],
        decision_number=body["decision_number"],
        revoked_on=_date(body.get("revoked_on"), Text("Ngày thu hồi", "Revocation date")),
        notice_days=notice_days(),
    )
    return reply(certificate_json(cert))


@operation(
    bp,
    f"/products/<{ID}:product_id>/certificates",
    "GET",
    tag="certificates",
    path_examples={"product_id": 1},
    summary="A product's certificates, current and past, newest first",
    replies={200: ok("The certificates", "CertificateList")},
    errors=(404,),
)
def product_certificates_view(product_id: int) -> Response:
    s = db_session()
    get_product(s, api_actor(), product_id)  # out of area: 404
    return reply({"items": [certificate_json(c) for c in certificates.product_certificates(s, product_id)]})


# --- the public verification ----------------------------------------------------------------------
@operation(
    bp,
    "/verify/<code>",
    "GET",
    tag="public",
    auth=False,
    path_examples=CODE,
    summary="Check a certificate by the code on a product's label (no token): product, producer, place, star, "
    "dates, status and the recognising decision",
    description="The same answer as the public page's JSON `/xac-minh/{code}.json` (ETag, `Cache-Control: public, "
    "max-age=300`, `Access-Control-Allow-Origin: *`). 404 with a clear message for an unknown or malformed code.",
    replies={200: ok("The certificate's public facts", "CertificateVerification")},
    errors=(404, 429),
)
def verify_certificate_view(code: str) -> Response:
    from ..public.routes import verification_json  # one answer for the API and the public page's JSON

    return verification_json(code)


# --- decisions ------------------------------------------------------------------------------------
@operation(
    bp,
    "/decisions",
    "GET",
    tag="decisions",
    query=[Param("status", {"type": "string", "enum": list(DECISION_LABELS)}, "only drafts or signed ones")],
    summary="The recognition decisions the caller may see (its area's, and those listing its products), newest first",
    replies={200: ok("The decisions", "DecisionList")},
)
def list_decisions_view() -> Response:
    args = parse_query()
    found = decisions.list_decisions(db_session(), api_actor(), status=args.get("status"))
    return reply({"items": [decision_summary(d) for d in found]})


@operation(
    bp,
    "/decisions",
    "POST",
    tag="decisions",
    body="DecisionCreate",
    summary="Draft a recognition decision of an organisation over the products awaiting its recognition "
    "(a round's, the ones named, or all)",
    description="The recognising level's secretariat (permissions.yaml, `draft_decisions`). 422: no product "
    "awaits this organisation's decision, or a named one does not (or is in another draft).",
    replies={201: ok("The draft", "Decision", headers={"Location": {"schema": {"type": "string"}}})},
    errors=(403, 404, 422),
)
def create_decision_view() -> Response:
    body = parse_json()
    found = decisions.draft_decision(
        db_session(),
        registry(),
        api_actor(),
        organisation_id=body["organisation_id"],
        round_id=body.get("round_id"),
        product_ids=body.get("product_ids"),
        title=body.get("title"),
    )
    return _decision_reply(found.id, 201, {"Location": url_for("api.decision_view", decision_id=found.id)})


@operation(
    bp,
    f"/decisions/<{ID}:decision_id>",
    "GET",
    tag="decisions",
    path_examples=DECISION,
    summary="A decision: its products and stars, and once signed its number, date, signer and certificates",
    replies={200: ok("The decision", "Decision")},
    errors=(404,),
)
def decision_view(decision_id: int) -> Response:
    return _decision_reply(decision_id)


@operation(
    bp,
    f"/decisions/<{ID}:decision_id>",
    "DELETE",
    tag="decisions",
    path_examples=DECISION,
    query=[Param("version", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}, "the draft's version as read")],
    summary="Delete a draft (its products await a decision again)",
    description="409: `conflict` (the decision is signed) or `stale_version`.",
    replies={200: ok("Deleted", "DecisionDeleted")},
    errors=(403, 404, 409),
)
def delete_decision_view(decision_id: int) -> Response:
    args = parse_query()
    decisions.delete_draft(db_session(), api_actor(), decision_id, expected_version=args.get("version"))
    return reply({"id": decision_id, "deleted": True})


@operation(
    bp,
    f"/decisions/<{ID}:decision_id>/remove-product",
    "POST",
    tag="decisions",
    body="DecisionRemoveProduct",
    path_examples=DECISION,
    summary="Take a product out of a draft (it keeps awaiting a decision); not the last one",
    replies={200: ok("The draft", "Decision")},
    errors=(403, 404, 409, 422),
)
def remove_decision_product_view(decision_id: int) -> Response:
    body = parse_json()
    decisions.remove_product(
        db_session(), api_actor(), decision_id, body["product_id"], expected_version=body.get("version")
    )
    return _decision_reply(decision_id)


@operation(
    bp,
    f"/decisions/<{ID}:decision_id>/sign",
    "POST",
    tag="decisions",
    body="DecisionSign",
    path_examples=DECISION,
    summary="Sign a draft (the chair of the level's People's Committee): every listed product is recognised "
    "and receives its certificate; the DOCX goes into each dossier",
    description="409: `conflict` (already signed, the number is taken, or a product no longer awaits "
    "recognition) or `stale_version`. 422: a date in the future or before the council's result.",
    replies={200: ok("The signed decision", "Decision")},
    errors=(403, 404, 409, 422),
)
def sign_decision_view(decision_id: int) -> Response:
    from ocop_workflow.exports.recognition import sign_and_file_decision

    body = parse_json()
    sign_and_file_decision(
        db_session(),
        registry(),
        state().settings,
        api_actor(),
        decision_id,
        number=body["number"],
        signed_on=_date(body.get("signed_on"), Text("Ngày ký", "Signing date")),
        signer_title=body.get("signer_title"),
        expected_version=body.get("version"),
    )
    return _decision_reply(decision_id)


@operation(
    bp,
    f"/decisions/<{ID}:decision_id>/docx",
    "GET",
    tag="decisions",
    path_examples=DECISION,
    summary="The decision with its annex table as a Word document, in Vietnamese (the legal text, whatever the "
    "caller's language)",
    replies={200: Reply("The decision", {DOCX: {"schema": {"type": "string", "contentMediaType": DOCX}}})},
    errors=(404,),
)
def decision_docx_view(decision_id: int) -> Response:
    from ocop_workflow.exports.recognition import decision_docx

    found = decisions.get_visible_decision(db_session(), api_actor(), decision_id)
    name, content = decision_docx(db_session(), registry(), state().settings, found)  # the legal text: Vietnamese
    return _download(content, DOCX, name)


__all__ = ["certificate_json", "decision_json"]
