"""The OpenAPI 3.1 description, generated from the code.

Each view is registered with `operation(...)`, which adds the Flask route and records, next to
the view, what it reads (query parameters, a JSON or multipart body, by schema) and what it
answers (status → schema). `build_document` walks the app's URL map: every rule whose endpoint
was registered this way becomes a path (its converters become path parameters) with the
recorded operation; the schemas are the dicts of `schemas.py`, completed with the catalogue's
keys (product groups, document types, workflows) of the running app. The same declarations
validate the requests (`parse_query`, `parse_json`), so the document cannot drift from the code.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, request
from jsonschema import Draft202012Validator
from werkzeug.routing import IntegerConverter, Rule

from ocop_workflow.i18n import Text
from ocop_workflow.validation import control_error, has_control

from . import messages
from . import schemas as S

TOKEN_SCHEME = "bearerToken"
JSON = "application/json"
PROBLEM = "application/problem+json"
MULTIPART = "multipart/form-data"


@dataclass
class Param:
    """A query parameter: its name, schema and meaning."""

    name: str
    schema: dict
    description: str = ""
    example: Any = None


@dataclass
class Reply:
    """One documented response: a description and, per media type, a schema."""

    description: str
    content: dict[str, dict] = field(default_factory=dict)
    headers: dict[str, dict] = field(default_factory=dict)


@dataclass
class Operation:
    endpoint: str
    method: str
    summary: str
    description: str
    tag: str
    replies: dict[int, Reply]
    query: list[Param] = field(default_factory=list)
    body: str | None = None  # a component name (JSON) or MULTIPART_BODY
    multipart: dict | None = None
    auth: bool = True
    path_examples: dict[str, Any] = field(default_factory=dict)


OPERATIONS: dict[str, Operation] = {}
ERROR_TITLES = {
    400: "The request is malformed (see invalid_params)",
    401: "No valid API token (missing, malformed, unknown, revoked or expired), or the account is deactivated",
    403: "The caller's role does not allow this",
    404: "Not found, or outside the caller's area",
    405: "Method not allowed",
    409: "Conflict: a stale version, or a step not possible in the current state",
    413: "The upload or the JSON body is too large",
    415: "The body must be JSON (Content-Type: application/json)",
    422: "Refused by the rules (for a step: `missing` lists every unmet requirement), or a control character "
    "(such as NUL) in a parameter or the body",
    429: "Too many requests for this token; see Retry-After",
}


def ok(description: str, schema: str | dict, media: str = JSON, headers: dict[str, dict] | None = None) -> Reply:
    """A success response: `schema` is a component name or a schema."""
    content = {media: {"schema": S.ref(schema) if isinstance(schema, str) else schema}}
    return Reply(description, content, headers or {})


def operation(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    description: str = "",
    tag: str,
    replies: dict[int, Reply],
    errors: tuple[int, ...] = (),
    query: list[Param] | None = None,
    body: str | None = None,
    multipart: dict | None = None,
    auth: bool = True,
    path_examples: dict[str, Any] | None = None,
) -> Callable:
    """Register a view on `bp` and describe it; `errors` are its problem responses beyond the usual ones."""

    def register(view: Callable) -> Callable:
        endpoint = f"{bp.name}.{view.__name__}"
        replies_all = dict(replies)
        usual = []
        if auth:
            usual += [401, 429]
        if query or body or multipart:
            usual += [400, 422]  # 422: a control character (NUL …) in a parameter or the body
        if body:
            usual += [413, 415]
        if multipart:
            usual.append(413)
        for code in sorted({*usual, *errors}):
            replies_all[code] = Reply(
                ERROR_TITLES[code],
                {PROBLEM: {"schema": S.ref("Problem")}},
                {"Retry-After": {"schema": {"type": "integer"}}} if code == 429 else {},
            )
        OPERATIONS[endpoint] = Operation(
            endpoint=endpoint,
            method=method.lower(),
            summary=summary,
            description=description,
            tag=tag,
            replies=replies_all,
            query=list(query or []),
            body=body,
            multipart=multipart,
            auth=auth,
            path_examples=dict(path_examples or {}),
        )
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        return view

    return register


# --- the document ---------------------------------------------------------------------------------
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def openapi_path(rule: Rule) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)


def _path_schema(rule: Rule, name: str) -> dict:
    conv = rule._converters.get(name)  # werkzeug keeps a rule's converters here
    if isinstance(conv, IntegerConverter):
        return dict(S.ID)  # database ids: 1 to 2**31 - 1
    return {"type": "string", "pattern": r"^[^/\u0000]+$", "maxLength": 100}


def _operation_object(app: Flask, rule: Rule, op: Operation) -> dict:
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _path_schema(rule, name),
            **({"example": op.path_examples[name]} if name in op.path_examples else {}),
        }
        for name in rule.arguments
    ]
    for p in op.query:
        params.append(
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "schema": p.schema,
                "description": p.description,
                **({"example": p.example} if p.example is not None else {}),
            }
        )
    out: dict = {
        "operationId": op.endpoint.split(".", 1)[1],
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {
            str(code): {
                "description": r.description,
                **({"content": r.content} if r.content else {}),
                **({"headers": r.headers} if r.headers else {}),
            }
            for code, r in sorted(op.replies.items())
        },
    }
    if op.description:
        out["description"] = op.description
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": S.ref(op.body)}}}
    if op.multipart:
        out["requestBody"] = {
            "required": True,
            "content": {
                MULTIPART: {"schema": op.multipart, "encoding": {"file": {"contentType": "application/octet-stream"}}}
            },
        }
    out["security"] = [{TOKEN_SCHEME: []}] if op.auth else []
    return out


def build_document(app: Flask) -> dict:
    """The OpenAPI 3.1 document of `app`'s registered API routes."""
    registry = app.extensions["ocop"].registry
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        paths.setdefault(openapi_path(rule), {})[op.method] = _operation_object(app, rule, op)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "OCOP Workflow API",
            "version": "1.0.0",
            "description": S.API_DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in S.TAGS],
        "paths": paths,
        "components": {
            "schemas": S.components(registry),
            "securitySchemes": {
                TOKEN_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ocop_<prefix>_<secret>",
                    "description": "A personal API token (account page → API tokens, or `ocop token create`).",
                }
            },
        },
    }


def document() -> dict:
    """The current app's document, built once."""
    cached = current_app.extensions.get("ocop_openapi")
    if cached is None:
        cached = current_app.extensions["ocop_openapi"] = build_document(current_app)
    return cached


# --- request validation against the same declarations ---------------------------------------------
class RequestInvalid(Exception):
    """The request does not match its declared shape (HTTP 400); `problems` are (name, reason)."""

    def __init__(self, problems: list[tuple[str, Text]]) -> None:
        super().__init__("; ".join(f"{n}: {r.en}" for n, r in problems))
        self.problems = problems


class UnsupportedMediaType(Exception):
    pass


def _validator(schema: dict) -> Draft202012Validator:
    doc = document()
    wrapped = copy.copy(schema)
    wrapped["components"] = doc["components"]
    return Draft202012Validator(wrapped)


def _errors(schema: dict, value: Any, where: str) -> list[tuple[str, Text]]:
    """Every way `value` breaks `schema`, each as (where.path, a translated reason: web/api/messages.py)."""
    errors = sorted(_validator(schema).iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    return [messages.reason(err, where) for err in errors]


def _coerce(schema: dict, raw: str) -> Any:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
        return int(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def parse_query() -> dict[str, Any]:
    """The current operation's query parameters, typed and checked; absent ones are left out."""
    op = OPERATIONS[request.endpoint]
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for p in op.query:
        raw = request.args.get(p.name)
        if raw is None:
            continue
        value = _coerce(p.schema, raw)
        found = _errors(p.schema, value, p.name)
        if found:
            problems += found
        else:
            values[p.name] = value
    if problems:
        raise RequestInvalid(problems)
    return values


class BodyTooLarge(Exception):
    """A JSON body over `API_MAX_JSON_BYTES` (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON body over {limit} bytes")
        self.limit = limit


DEFAULT_MAX_JSON_BYTES = 256 * 1024  # a step's comment (4,000 characters) escaped is under 30 KB
MAX_JSON_DEPTH = 32  # the deepest body the API reads has 3 levels


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_body_problems(body: Any) -> str | None:
    """Walk the parsed body without recursion: too deep is a problem (400); a control character
    in a string or a key is refused as invalid data (422, ocop_workflow.validation)."""
    stack: list[tuple[Any, str, int]] = [(body, "body", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, str):
            if has_control(value, multiline=True):
                raise control_error(where)
        elif isinstance(value, dict):
            for key, item in value.items():
                if has_control(key):
                    raise control_error(where)
                stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{i}", depth + 1) for i, item in enumerate(value))
    return None


def read_json_body() -> Any:
    """The request's JSON body, parsed with limits: size (413), depth and NaN/Infinity (400)."""
    limit = int(current_app.config.get("API_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES))
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    # with a Content-Length (checked above) the body is read whole; without one, never beyond the limit
    raw = request.get_data(cache=True) if request.content_length is not None else request.stream.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge(limit)
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise RequestInvalid([("body", messages.too_deep(MAX_JSON_DEPTH))]) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError included
        raise RequestInvalid([("body", messages.NOT_JSON)]) from None
    if _json_body_problems(body) is not None:
        raise RequestInvalid([("body", messages.too_deep(MAX_JSON_DEPTH))])
    return body


def parse_json() -> dict[str, Any]:
    """The current operation's JSON body, checked against its declared schema."""
    op = OPERATIONS[request.endpoint]
    if not request.is_json:
        raise UnsupportedMediaType()
    body = read_json_body()
    problems = _errors(S.ref(op.body), body, "body")
    if problems:
        raise RequestInvalid(problems)
    return body


def multipart_schema_errors(fields: dict[str, Any]) -> list[tuple[str, Text]]:
    op = OPERATIONS[request.endpoint]
    props = {k: v for k, v in op.multipart["properties"].items() if k in fields}
    schema = {"type": "object", "properties": props}
    return _errors(schema, fields, "form")
