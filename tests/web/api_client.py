"""The API tests' client: a Flask test client whose every response must conform to the app's OpenAPI
document (a documented status, a documented content type, a body valid against the documented schema),
and small helpers (tokens, problem bodies) that several API test modules share."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import Flask
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from ocop_workflow.models import User
from ocop_workflow.services import tokens

if TYPE_CHECKING:
    from conftest import Env

API = "/api/v1"
JSON_TYPES = ("application/json", "application/problem+json")


# --- the validating client -----------------------------------------------------------------------
def _formats() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _datetime(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        return not isinstance(value, str) or bool(date.fromisoformat(value))

    @checker.checks("uri-reference")
    def _uri_ref(value: object) -> bool:
        return not isinstance(value, str) or not re.search(r"\s", value)

    return checker


FORMATS = _formats()


class ApiClient:
    """A Flask test client whose every response must conform to the app's OpenAPI document."""

    def __init__(self, app: Flask, token: str | None = None, lang: str | None = None) -> None:
        self.app = app
        self.client = app.test_client()
        self.token = token
        self.lang = lang
        self.doc = self.client.get(f"{API}/openapi.json").get_json()
        self.checked = 0

    def as_(self, token: str | None) -> ApiClient:
        other = ApiClient.__new__(ApiClient)
        other.__dict__.update(self.__dict__)
        other.token = token
        return other

    def open(
        self,
        method: str,
        path: str,
        *,
        token: str | None = ...,
        headers: dict | None = None,  # type: ignore[assignment]
        **kwargs,
    ):
        headers = dict(headers or {})
        token = self.token if token is ... else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.lang and "Accept-Language" not in headers:
            headers["Accept-Language"] = self.lang
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        response.get_data()  # buffer it (a download streams a file) and release the file
        response.close()
        validate(self.doc, method, path, response)
        self.checked += 1
        return response

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)


def _schema_validator(doc: dict, schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": doc["components"]}, format_checker=FORMATS)


def validate(doc: dict, method: str, path: str, response) -> None:
    """Assert that `response` is one the document describes for `method path`."""
    bare = path.split("?", 1)[0]
    template = next((t for t in doc["paths"] if re.fullmatch(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(t)), bare)), None)
    media = response.mimetype
    operation = doc["paths"].get(template, {}).get(method.lower()) if template else None
    if operation is None:  # an address or method the API does not have: a problem, 404 or 405
        assert response.status_code in (404, 405), (method, path, response.status_code)
        assert media == "application/problem+json"
        errors = list(_schema_validator(doc, {"$ref": "#/components/schemas/Problem"}).iter_errors(response.get_json()))
        assert not errors, errors
        return
    replies = operation["responses"]
    status = str(response.status_code)
    assert status in replies, f"{method} {template}: undocumented status {status}: {response.get_data()[:300]!r}"
    content = replies[status].get("content", {})
    assert media in content, f"{method} {template} {status}: undocumented content type {media}"
    if media in JSON_TYPES:
        body = response.get_json()
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _schema_validator(doc, content[media]["schema"]).iter_errors(body)
        ]
        assert not errors, f"{method} {template} {status}: {errors}"
    for name in replies[status].get("headers", {}):
        if name == "Location":
            assert response.headers.get("Location"), f"{method} {template}: no Location"


# --- tokens and problems -------------------------------------------------------------------------
def issue(env: Env, key: str, *, name: str = "test", days: int | None = None) -> str:
    """A fresh API token for a test user (through the core service, as the page and the CLI do)."""
    with env.db.transaction() as s:
        user = s.scalars(select(User).where(User.email == env.world.emails[key])).one()
        return tokens.create_token(s, user, name=name, expires_days=days).token


def problem_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"{API}/problems/{code}"
    return body
