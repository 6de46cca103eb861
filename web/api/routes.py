"""/api/v1: the JSON API. Every view calls the same core service functions as the web pages, with
the caller's Actor (from the bearer token), inside the same per-request transaction (web.context)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_file, url_for
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from ocop_workflow.engine.diagram import to_mermaid
from ocop_workflow.errors import InvalidData, NotFound, OcopError
from ocop_workflow.i18n import Text
from ocop_workflow.notify import list_notifications
from ocop_workflow.services.certificates import local_day
from ocop_workflow.services.documents import (
    CONTENT_TYPES,
    attach_document,
    check_attach,
    document_path,
    download_name,
    get_document,
    list_documents,
    store_upload,
)
from ocop_workflow.services.listing import MAX_PER_PAGE, SORTS, ProductFilter, list_products
from ocop_workflow.services.product_page import product_view
from ocop_workflow.services.products import advance, create_product, get_product, history

from ..context import db_session, read_session, registry, release_reads, state
from ..extensions import limiter
from . import messages, problems
from . import schemas as S
from .auth import api_actor, api_token, rate_limit_key, require_actor
from .problems import api_locale, localized, problem
from .serialize import Serializer
from .spec import (
    BodyTooLarge,
    Param,
    Reply,
    RequestInvalid,
    UnsupportedMediaType,
    document,
    multipart_schema_errors,
    ok,
    operation,
    parse_json,
    parse_query,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ID = "int"  # web.inputs.IdConverter: ids outside 1 .. S.MAX_ID do not match the route (404)
DEFAULT_RATE_LIMIT = "600 per minute"
PUBLIC = {"api.openapi", "api.problem_type", "api.not_found", "api.verify_certificate_view"}


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


limiter.limit(_rate_limit, key_func=rate_limit_key)(bp)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC:
        require_actor()


def notice_days() -> int:
    """The first expiry notice (days before expiry): inside it a certificate is "expiring"."""
    return max(state().settings.certificate_notice_days, default=0)


def ser() -> Serializer:
    """The JSON of this request: the caller's language, certification as of today (Vietnam's date)."""
    return Serializer(registry(), api_locale(), db_session, local_day(), notice_days())


def reply(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return localized(response)


# --- errors: problem details for everything under /api/v1 ---------------------------------------
@bp.errorhandler(RequestInvalid)
def _invalid(exc: RequestInvalid) -> Response:
    loc = api_locale()
    reasons = [(n, r.get(loc)) for n, r in exc.problems]
    detail = "; ".join(r for _n, r in reasons)
    return problem("invalid_request", detail, invalid_params=[{"name": n, "reason": r} for n, r in reasons])


@bp.errorhandler(UnsupportedMediaType)
def _media(exc: UnsupportedMediaType) -> Response:
    return problem("unsupported_media_type")


@bp.errorhandler(BodyTooLarge)
def _body_too_large(exc: BodyTooLarge) -> Response:
    kb = exc.limit // 1024
    return problem("too_large", Text(f"Nội dung JSON được tối đa {kb} KB", f"A JSON body may be at most {kb} KB"))


bp.register_error_handler(OcopError, problems.from_ocop_error)
bp.register_error_handler(HTTPException, problems.from_http_exception)
for _code in (400, 401, 403, 404, 405, 406, 409, 410, 411, 412, 413, 414, 415, 416, 422, 429, 500, 501):
    bp.register_error_handler(_code, problems.from_http_exception)
bp.register_error_handler(Exception, problems.from_unexpected)


def not_found(rest: str = "") -> Response:
    """Any other address under /api/v1: 405 with Allow when the path exists for other methods, else 404."""
    routes = current_app.extensions.get("ocop_api_routes")
    if routes is None:
        routes = current_app.extensions["ocop_api_routes"] = Map(
            [
                Rule(r.rule, endpoint=r.endpoint, methods=r.methods)
                for r in current_app.url_map.iter_rules()
                if r.endpoint.startswith("api.") and r.endpoint != "api.not_found"
            ],
            converters=dict(current_app.url_map.converters),
        )  # the same id range as the real routes
    try:
        routes.bind("api").match(request.path, method=request.method)
    except MethodNotAllowed as exc:
        raise MethodNotAllowed(valid_methods=exc.valid_methods) from None
    except (HTTPNotFound, RequestRedirect):
        pass
    raise HTTPNotFound()


@bp.record
def _catch_all(setup: BlueprintSetupState) -> None:
    """Rules for every method (Flask's own rules list theirs), so any request under /api/v1 gets a problem."""
    prefix = setup.url_prefix or ""
    setup.app.view_functions["api.not_found"] = not_found
    setup.app.url_map.add(Rule(f"{prefix}/", endpoint="api.not_found", defaults={"rest": ""}))
    setup.app.url_map.add(Rule(f"{prefix}/<path:rest>", endpoint="api.not_found"))


# --- meta -----------------------------------------------------------------------------------------
@operation(
    bp,
    "/openapi.json",
    "GET",
    tag="meta",
    auth=False,
    summary="This OpenAPI 3.1 description",
    replies={200: ok("The OpenAPI document", {"type": "object"})},
)
def openapi() -> Response:
    return jsonify(document())


@operation(
    bp,
    "/problems/<code>",
    "GET",
    tag="meta",
    auth=False,
    summary="What a problem type means",
    replies={200: ok("The problem type", "ProblemType")},
    errors=(404,),
    path_examples={"code": "guard_failed"},
)
def problem_type(code: str) -> Response:
    kind = problems.PROBLEMS.get(code)
    if kind is None:
        raise NotFound(Text(f"Không có loại lỗi {code}", f"No problem type {code}"))
    loc = api_locale()
    return reply(
        {
            "type": request.path,
            "code": code,
            "status": kind.status,
            "title": kind.title.get(loc),
            "description": kind.description.get(loc),
        }
    )


@operation(
    bp,
    "/me",
    "GET",
    tag="account",
    summary="The caller: user, roles and the token in use",
    replies={200: ok("The caller", "Me")},
)
def me() -> Response:
    who, token, s = api_actor(), api_token(), ser()
    roles = registry().catalogue.roles
    return reply(
        {
            "id": who.user.id,
            "email": who.user.email,
            "name": who.user.name,
            "locale": who.locale,
            "roles": [
                {
                    "role": m.role,
                    "role_label": s.t(roles[m.role].label) if m.role in roles else m.role,
                    "organisation": s.org(m.organisation),
                }
                for m in who.memberships
            ],
            "token": {
                "id": token.id,
                "name": token.name,
                "prefix": f"ocop_{token.prefix}_",
                "created_at": token.created_at.isoformat(),
                "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            },
        }
    )


# --- products -------------------------------------------------------------------------------------
LIST_PARAMS = [
    Param("state", S.text(40), "only products in this state (a state key of their workflow)", "idea"),
    Param("org", S.ID, "only products of communes under this organisation (id)"),
    Param("group", S.ref("ProductGroup"), "only this product group"),
    Param("star", {"type": "integer", "minimum": 1, "maximum": 5}, "only products with this star"),
    Param("q", S.text(100), "words of the name, with or without diacritics"),
    Param("waiting", {"type": "boolean"}, "only products waiting for one of the caller's roles"),
    Param("late", {"type": "boolean"}, "only products past their state's time limit (as the reminders count it)"),
    Param(
        "sort",
        {"type": "string", "enum": list(SORTS)},
        "the order: by name, state (the cycle's order), district and commune, waiting (longest first) or "
        "deadline (most overdue first); the most recently moved first without it",
        "deadline",
    ),
    Param("page", {"type": "integer", "minimum": 1, "maximum": S.MAX_ID}, "page number (from 1)"),
    Param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "products per page"),
]


@operation(
    bp,
    "/products",
    "GET",
    tag="products",
    query=LIST_PARAMS,
    summary="Products in the caller's area, with the filters of the web list",
    description="The same query as the web list (services.listing.list_products): the most recently moved first "
    "unless `sort` says otherwise.",
    replies={200: ok("One page of products", "ProductPage")},
    errors=(404,),
)
def list_products_view() -> Response:
    args = parse_query()
    flt = ProductFilter(
        state=args.get("state") or None,
        org_id=args.get("org"),
        group=args.get("group"),
        star=args.get("star"),
        q=(args.get("q") or "").strip()[:100] or None,
        waiting=bool(args.get("waiting")),
        page=args.get("page", 1),
        late=bool(args.get("late")),
        sort=args.get("sort"),
        tz=state().settings.timezone,
    )
    per_page = args.get("per_page", int(current_app.config["PRODUCTS_PER_PAGE"]))
    page = list_products(db_session(), registry(), api_actor(), flt, per_page=per_page)
    return reply(ser().page(page))


@operation(
    bp,
    "/products",
    "POST",
    tag="products",
    body="ProductCreate",
    summary="Register a product for a producer; it starts in the workflow's first state",
    replies={201: ok("The new product", "ProductDetail", headers={"Location": {"schema": {"type": "string"}}})},
    errors=(403, 404, 422),
)
def create_product_view() -> Response:
    body = parse_json()
    s, reg, who = db_session(), registry(), api_actor()
    product = create_product(
        s,
        reg,
        who,
        name=body["name"],
        product_group=body["product_group"],
        producer_id=body["producer_id"],
        subgroup=body.get("subgroup"),
        workflow_key=body.get("workflow_key"),
        check_in_force=True,  # as the web form: a definition not in force today only by the province's choice
    )
    view = product_view(s, reg, who, product.id)
    return reply(ser().detail(view), 201, {"Location": url_for("api.get_product_view", product_id=product.id)})


@operation(
    bp,
    f"/products/<{ID}:product_id>",
    "GET",
    tag="products",
    path_examples={"product_id": 1},
    summary="A product: state, star, workflow, the steps the caller may take now, current documents",
    replies={200: ok("The product", "ProductDetail")},
    errors=(404,),
)
def get_product_view(product_id: int) -> Response:
    return reply(ser().detail(product_view(db_session(), registry(), api_actor(), product_id)))


@operation(
    bp,
    f"/products/<{ID}:product_id>/transitions",
    "POST",
    tag="products",
    body="TransitionRequest",
    path_examples={"product_id": 1},
    summary="Take a step (fire a trigger) with the product's version as last read",
    description="403: the caller's role may not take this step. 404: no such product in the caller's "
    "area. 409: `stale_version` (someone changed the product) or `invalid_trigger` (no such "
    "step from the current state). 422: `guard_failed` with `missing` (documents, comment, "
    "score, star) or `invalid_data`.",
    replies={200: ok("The step was taken; the product's new state", "TransitionResult")},
    errors=(403, 404, 409, 422),
)
def transition_view(product_id: int) -> Response:
    body = parse_json()
    s, reg, who = db_session(), registry(), api_actor()
    get_product(s, who, product_id)  # out of area: 404 before anything else, as on the web
    event = advance(
        s,
        reg,
        product_id,
        body["trigger"],
        who,
        comment=body.get("comment"),
        data=dict(body.get("data") or {}),
        expected_version=body["version"],
    )
    view = product_view(s, reg, who, product_id)
    out = ser()
    detail = out.detail(view)
    return reply(
        {
            "state": detail["state"],
            "state_label": detail["state_label"],
            "version": detail["version"],
            "star": detail["star"],
            "event": out.event(event),
            "product": detail,
        }
    )


@operation(
    bp,
    f"/products/<{ID}:product_id>/history",
    "GET",
    tag="products",
    path_examples={"product_id": 1},
    summary="The product's history, oldest first",
    replies={200: ok("The history", "History")},
    errors=(404,),
)
def history_view(product_id: int) -> Response:
    out = ser()
    return reply({"items": [out.event(e) for e in history(db_session(), api_actor(), product_id)]})


@operation(
    bp,
    f"/products/<{ID}:product_id>/documents",
    "GET",
    tag="products",
    path_examples={"product_id": 1},
    summary="Every version of the product's documents (newest first within each type)",
    replies={200: ok("The documents", "DocumentList")},
    errors=(404,),
)
def list_documents_view(product_id: int) -> Response:
    out = ser()
    return reply({"items": [out.document(d) for d in list_documents(db_session(), api_actor(), product_id)]})


UPLOAD = {
    "type": "object",
    "required": ["doc_type", "file"],
    "properties": {"doc_type": S.ref("DocumentType"), "file": {"type": "string", "format": "binary"}},
}


@operation(
    bp,
    f"/products/<{ID}:product_id>/documents",
    "POST",
    tag="products",
    multipart=UPLOAD,
    path_examples={"product_id": 1},
    summary="Upload a dossier document (PDF, JPEG, PNG, DOCX or XLSX, checked by content); "
    "it supersedes the current one of its type",
    replies={201: ok("The stored document", "Document")},
    errors=(403, 404, 422),
)
def upload_document_view(product_id: int) -> Response:
    reg, st, who = registry(), state(), api_actor()
    get_product(read_session(), who, product_id)
    release_reads()  # the body may arrive slowly
    storage = request.files.get("file")
    fields = {"doc_type": request.form.get("doc_type")}
    problems_found = [
        (name, messages.required(name)) for name, value in (*fields.items(), ("file", storage)) if value is None
    ]
    problems_found += multipart_schema_errors({k: v for k, v in fields.items() if v is not None})
    if problems_found:
        raise RequestInvalid(problems_found)
    known = reg.catalogue.document_types
    # reads only until the file is received and checked; the writer is claimed for the INSERT alone
    check_attach(read_session(), who, product_id, fields["doc_type"], known, reg)
    release_reads()
    stored = store_upload(
        storage.stream, upload_dir=st.upload_dir, max_bytes=st.max_upload_bytes, zip_limits=st.zip_limits
    )
    doc = attach_document(
        db_session(),
        who,
        product_id,
        fields["doc_type"],
        storage.filename or "",
        stored,
        upload_dir=st.upload_dir,
        max_bytes=st.max_upload_bytes,
        known_types=known,
        registry=reg,
    )
    return reply(ser().document(doc), 201, {"Location": url_for("api.document_view", document_id=doc.id)})


@operation(
    bp,
    f"/documents/<{ID}:document_id>",
    "GET",
    tag="products",
    path_examples={"document_id": 1},
    summary="A document's metadata",
    replies={200: ok("The document", "Document")},
    errors=(404,),
)
def document_view(document_id: int) -> Response:
    return reply(ser().document(get_document(db_session(), api_actor(), document_id)))


BINARY = {ct: {"schema": {"type": "string", "contentMediaType": ct}} for ct in sorted(set(CONTENT_TYPES.values()))}


@operation(
    bp,
    f"/documents/<{ID}:document_id>/content",
    "GET",
    tag="products",
    path_examples={"document_id": 1},
    summary="Download a document (its bytes, under its original name with the extension of its "
    "detected type: `poly.html` holding a PDF is served as `poly.pdf`)",
    replies={200: Reply("The file, in one of the accepted types", BINARY)},
    errors=(404,),
)
def document_content(document_id: int) -> Response:
    doc = get_document(db_session(), api_actor(), document_id)
    path = document_path(state().upload_dir, doc)
    if not path.is_file():
        raise NotFound(Text("Tệp không còn trên máy chủ", "The file is missing on the server"))
    name = download_name(doc.original_name, doc.content_type)
    response = send_file(
        path,
        mimetype=doc.content_type,
        as_attachment=True,
        download_name=name,
        etag=doc.sha256,
        max_age=0,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- workflows ------------------------------------------------------------------------------------
@operation(
    bp,
    "/workflows",
    "GET",
    tag="workflows",
    summary="Every workflow definition and version",
    replies={200: ok("The workflows", "WorkflowList")},
)
def workflows_view() -> Response:
    reg, out = registry(), ser()
    return reply({"items": [out.workflow_summary(d) for _key, d in sorted(reg.definitions.items())]})


VERSION = Param("version", {"type": "integer", "minimum": 1, "maximum": S.MAX_ID}, "a version (default: the newest)")
KEY = {"key": "ocop-148"}


@operation(
    bp,
    "/workflows/<key>",
    "GET",
    tag="workflows",
    query=[VERSION],
    path_examples=KEY,
    summary="A workflow definition: states, transitions, roles, required documents, ratings",
    replies={200: ok("The definition", "Workflow")},
    errors=(404,),
)
def workflow_view(key: str) -> Response:
    args = parse_query()
    return reply(ser().workflow(registry().get(key, args.get("version"))))


@operation(
    bp,
    "/workflows/<key>/diagram",
    "GET",
    tag="workflows",
    path_examples=KEY,
    query=[VERSION, Param("current", S.text(40), "a state to highlight")],
    summary="The workflow as a Mermaid state diagram (text)",
    replies={200: ok("Mermaid source", {"type": "string"}, "text/plain")},
    errors=(404, 422),
)
def workflow_diagram(key: str) -> Response:
    args = parse_query()
    definition = registry().get(key, args.get("version"))
    current = args.get("current")
    if current is not None and current not in definition.states:
        raise InvalidData(
            Text(
                f"«{current}» không phải là một bước của {definition.ident}",
                f"“{current}” is not a state of {definition.ident}",
            )
        )
    response = Response(to_mermaid(definition, api_locale(), current), mimetype="text/plain")
    return localized(response)


# --- notifications --------------------------------------------------------------------------------
@operation(
    bp,
    "/notifications",
    "GET",
    tag="account",
    summary="The caller's notifications, newest first",
    query=[
        Param("unread", {"type": "boolean"}, "only unread ones"),
        Param("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "how many (default 20)"),
        Param("before", S.ID, "only those older than this notification id (the next page)"),
    ],
    replies={200: ok("The notifications", "NotificationList")},
)
def notifications_view() -> Response:
    args = parse_query()
    rows = list_notifications(
        db_session(),
        api_actor().id,
        unread_only=bool(args.get("unread")),
        limit=args.get("limit", 20),
        before_id=args.get("before"),
    )
    out = ser()
    return reply({"items": [out.notification(n) for n in rows]})


__all__ = ["bp"]
