"""Issue #8, build 5: bad input is a 4xx, never a 500, on every route of the web and the API.

The walk takes every rule of the app's URL map (a route added later is walked too) and sends,
logged in as a user holding every role (CSRF off, so requests reach the views) and anonymously:

- each URL variable replaced by hostile values (2**31, 2**63, 2**64, -1, 0, 'abc', NUL …), with
  every method the rule allows and the route's normal form or JSON body;
- each query argument a view reads, one at a time, with hostile values;
- each field of each form, one at a time, with hostile values (NUL, control characters, 100 KB,
  'abc' and huge numbers in numeric and hidden fields, NaN);
- JSON bodies nested 100,000 deep, 2 MB long, with NUL strings and wrong types in each field.

It runs on SQLite and on PostgreSQL (where ids are 32-bit and text cannot hold NUL) and
asserts that no answer is 500 or above; with TESTING on, an unhandled exception reaches the test
and counts as a 500 too. A few exact answers follow, as a user or an integrator would see them.
"""

from __future__ import annotations

import io
import json
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from conftest import PDF
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from ocop_workflow import passwords
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.errors import InvalidData
from ocop_workflow.models import Notification, Plan, PlanTarget, Producer, Product, User
from ocop_workflow.services import directory, tokens
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.products import advance, create_product
from tests.world import build_world

SECRET = "bad-input-secret"
BIG = 2**63
URL_VALUES = ["2147483647", str(2**31), str(BIG), str(2**64), "-1", "0", "abc", "%00"]
QUERY_VALUES = [str(2**31), str(BIG), "-1", "abc", "a\x00b", "\x1f", "NaN", "x" * 10_000, ""]
FIELD_VALUES = ["a\x00b", "\x1f", "x" * 100_000, "abc", str(2**31), str(BIG), "-1", "NaN", "sNaN", ""]
JSON_FIELD_VALUES = ["a\x00b", "\x1f", "x" * 100_000, "", 2**31, BIG, -1, 1e300, True, None, [], {"a": [1]}]
OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# The query arguments each view reads (the others get every argument at once).
QUERY_ARGS = {
    "products.index": ["state", "org", "group", "star", "q", "waiting", "page"],
    "products.create": ["producer"],
    "plans.show": ["at", "org"],
    "plans.target": ["at", "org"],
    "plans.xlsx": ["at", "org"],
    "plans.csv_zip": ["at", "org"],
    "dashboard.inbox": ["page"],
    "notifications.index": ["before"],
    "admin.mail_outbox": ["show", "page"],
    "admin.retry_mail": ["show"],
    "auth.login": ["next"],
    "api.list_products_view": ["state", "org", "group", "star", "q", "waiting", "page", "per_page"],
    "api.notifications_view": ["unread", "limit", "before"],
    "api.workflow_view": ["version"],
    "api.workflow_diagram": ["version", "current"],
    "api.list_certificates_view": ["status", "page", "per_page"],
    "api.list_decisions_view": ["status"],
    "api.delete_decision_view": ["version"],
    "public.verify_form": ["code", "lang"],
    "public.verify": ["lang"],
    "public.register_page": ["q", "province", "area", "group", "star", "page", "lang"],
    "public.register_feed": ["q", "province", "area", "group", "star", "page", "per_page", "lang"],
}
ALL_QUERY_ARGS = sorted({a for args in QUERY_ARGS.values() for a in args})


@dataclass
class Target:
    """The app under test and the valid values its routes are walked around."""

    app: Flask
    user_id: int
    api_token: str
    ids: dict[str, str]
    forms: dict[str, dict]
    json: dict[str, dict]
    sent: int = 0
    failures: list[str] = field(default_factory=list)
    sections: dict[str, tuple[int, float]] = field(default_factory=dict)

    def section(self, name: str, sent: int, started: float) -> None:
        self.sections[name] = (self.sent - sent, time.monotonic() - started)


def _fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: the walk sends hundreds of logins and password forms."""
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", fast)
    import ocop_workflow.services.auth as auth_service

    monkeypatch.setattr(auth_service, "DUMMY_HASH", fast.hash("not-a-password"))


@pytest.fixture
def target(db: Database, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    _fast_hasher(monkeypatch)
    world = build_world(db, registry)
    upload_dir = tmp_path / "uploads"
    cat = registry.catalogue
    levels = {"central": "VN", "province": "P", "district": "D1", "commune": "C1", "any": "P"}
    with db.transaction() as s:
        orgs = {code: directory.get_org(s, code) for code in ("VN", "P", "D1", "C1")}
        broad = directory.create_user(s, email="broad@test.ocop.vn", name="Every role", password=None)
        broad.password_hash = passwords.hash_password("mat-khau-123")
        own = s.get(Producer, world.producers["cooperative_group"])
        for role, role_def in cat.roles.items():  # every role of the catalogue, each at its own level
            directory.add_membership(
                s,
                registry,
                broad,
                orgs[levels[role_def.level]],
                role,
                actor=Actor.system_actor(registry.policy),
                producer=own if role in registry.policy.acts_for_producer else None,
            )
        s.flush()
        who = load_actor(s, broad.id)
        product = create_product(
            s,
            registry,
            who,
            name="Vải thiều",
            product_group="tourism",
            producer_id=world.producers["cooperative_group"],
        )
        doc = attach_document(
            s,
            who,
            product.id,
            "idea_registration",
            "y-tuong.pdf",
            PDF,
            upload_dir=upload_dir,
            max_bytes=1024 * 1024,
            known_types=cat.document_types,
        )
        advance(s, registry, product.id, "accept_idea", who)
        api_token = tokens.create_token(s, broad, name="walk").token
        other_token = tokens.create_token(s, broad, name="to revoke").row.id
        s.add(
            Notification(
                user_id=broad.id,
                product_id=product.id,
                kind="reminder",
                title="Nhắc việc",
                body="Sản phẩm đang chờ",
                link=f"/products/{product.id}",
            )
        )
        s.flush()
        # issue #12 (plan pages): a plan with one target, so its pages read their query (at, org)
        plan = Plan(
            name="Kế hoạch thử",
            basis_number="1/KH-UBND",
            basis_date=date(2024, 1, 1),
            organisation_id=world.orgs["P"],
            body="office",
            first_year=2024,
            last_year=2025,
        )
        plan.targets.append(
            PlanTarget(
                position=1, indicator="new_supported", organisation_id=world.orgs["P"], comparison="at_least", low=10
            )
        )
        s.add(plan)
        s.flush()
        other_user = s.scalars(select(User.id).where(User.email == world.user("commune_officer", "C2"))).one()
        notification = s.scalars(select(Notification.id)).first()
        user_id, product_id = broad.id, product.id
        version = s.scalar(select(Product.version).where(Product.id == product_id))
        trigger = registry.latest(product.workflow_key).triggers_from(product.state)[0]
        ids = {
            "product_id": str(product_id),
            "document_id": str(doc.id),
            "producer_id": str(world.producers["cooperative"]),
            "user_id": str(other_user),
            "token_id": str(other_token),
            "notification_id": str(notification),
            "outbox_id": "1",
            "code": "guard_failed",
            "key": registry.default_key,
            "version": "2",  # /workflows/<key>/<int:version>
            "rest": "nothing/here",
            "filename": "style.css",
            "council_id": "1",
            "round_id": "1",
            "decision_id": "1",
            "support_id": "1",  # a product's records (issue #12): none exists, so the lookups answer 404
            "listing_id": "1",
            "year": "2025",
            "org_id": str(world.orgs["P"]),
            "plan_id": str(plan.id),
            "target_id": str(plan.targets[0].id),
            # a unit's programme records (issue #12, helper "programme"): none exists, the lookups answer 404
            "area_id": "1",
            "link_id": "1",
            "chain_id": "1",
            "point_id": "1",
            "what": "working",
        }
    group = sorted(cat.product_groups)[0]
    forms = {
        "products.create": {
            "name": "Sản phẩm mới",
            "product_group": group,
            "subgroup": "",
            "producer_id": str(world.producers["cooperative"]),
            "workflow_key": registry.default_key,
        },
        "products.edit": {
            "name": "Vải thiều Lục Ngạn",
            "product_group": group,
            "subgroup": "",
            "expected_version": str(version),
        },
        "products.advance_view": {
            "trigger": trigger,
            "expected_version": str(version),
            "comment": "Đạt",
            "score": "75",
            "confirm": "y",
        },
        "products.create_producer": {
            "name": "HTX mới",
            "kind": "cooperative",
            "tax_code": "0101234567",
            "commune_id": str(world.orgs["C1"]),
        },
        "products.edit_producer": {"name": "HTX cũ", "kind": "cooperative", "tax_code": "0101234567"},
        "documents.upload": {"doc_type": "business_plan"},
        "plans.load": {},  # the plan file is the upload (issue #12)
        "admin.create_user": {
            "email": "moi@test.ocop.vn",
            "name": "Người mới",
            "password": "mat-khau-dai-123",
            "locale": "vi",
            "organisation_id": str(world.orgs["C1"]),
            "role": sorted(cat.roles)[0],
        },
        "admin.user": {"organisation_id": str(world.orgs["C1"]), "role": sorted(cat.roles)[0]},
        "admin.set_active": {"active": "1"},
        "admin.retry_mail": {},
        "api_tokens.index": {"name": "Tích hợp", "expires": "30"},
        "api_tokens.revoke": {},
        "auth.account": {"current": "sai-mat-khau", "new": "mat-khau-moi-123", "confirm": "mat-khau-moi-123"},
        "auth.login": {"email": "khong-co@test.ocop.vn", "password": "sai-mat-khau", "remember": "y"},
        "auth.language": {"locale": "en", "next": "/products"},
        "auth.logout": {},
        "notifications.open_one": {},
        "notifications.read_all": {},
        "notifications.email_mode": {"mode": "digest"},
        # councils, rounds and score sheets on the web (issue #9): no council or round exists, so the
        # walk reaches the form checks and the lookups (404)
        "rounds.create_council": {
            "organisation_id": str(world.orgs["D1"]),
            "name": "Hội đồng",
            "decision_number": "1/QĐ",
            "decision_date": "05/01/2026",
            "valid_from": "",
            "valid_until": "",
        },
        "rounds.set_member": {"email": "hoidong@test.ocop.vn", "position": "member"},
        "rounds.remove_member": {"email": "hoidong@test.ocop.vn"},
        "rounds.create_round": {"name": "Đợt 1", "meeting_date": "10/03/2026"},
        "rounds.add_product": {"product_id": str(product_id)},
        "rounds.remove_product": {},
        "rounds.open_round": {},
        "rounds.close_product": {},
        "rounds.close_round": {},
        "rounds.sheet": {"action": "save", "expected_version": "0", "c:A": "10", "c:B": "", "c:C": "5"},
        "rounds.recuse": {"reason": "Người nhà"},
        # recognition decisions and certificates (issue #10): no decision or certificate exists, so the
        # walk reaches the form checks and the lookups (404); the format form reaches check_format
        "recognition.new_decision": {"organisation_id": str(world.orgs["D1"]), "product_id": str(product_id)},
        "recognition.remove_product": {"expected_version": "1"},
        "recognition.delete_decision": {"expected_version": "1"},
        "recognition.sign": {"number": "1/QĐ", "signed_on": "05/01/2026", "signer_title": "", "expected_version": "1"},
        "recognition.revoke": {"reason": "Giả mạo", "decision_number": "2/QĐ", "revoked_on": ""},
        "recognition.certificate_format": {"format": "BG-{province}-{seq:05d}"},
        # a product's records (issue #12): support, listings, revenue
        "product_records.add_support": {
            "organisation_id": str(world.orgs["C1"]),
            "officer": "",
            "started_on": "01/03/2025",
            "note": "",
        },
        "product_records.end_support": {"ended_on": "01/04/2025"},
        "product_records.add_listing": {"platform": "shopee", "url": "https://shopee.vn/a", "listed_on": "01/03/2025"},
        "product_records.remove_listing": {"removed_on": "01/04/2025"},
        "product_records.set_revenue": {"year": "2025", "amount": "1.250.000.000"},
        # the province's choice of rules for new products (issue #11); the form's fields carry the province's prefix
        "workflows.set_province_default": {f"p{world.orgs['P']}-workflow_key": "ocop-1489"},
        # a unit's programme records (issue #12, helper "programme")
        "programme.areas": {"commune_id": str(world.orgs["C1"]), "name": "Vùng vải", "area_ha": "12,5"},
        "programme.edit_area": {"name": "Vùng vải", "area_ha": "12,5", "growing_code": "BG-01"},
        "programme.link_product": {"product_id": str(product_id), "linked_on": "05/01/2026"},
        "programme.unlink_product": {"day": "05/02/2026"},
        "programme.chains": {
            "organisation_id": str(world.orgs["D1"]),
            "name": "Chuỗi vải",
            "lead_producer_id": "0",
            "lead_name": "HTX Vải",
            "members": str(world.producers["cooperative"]),
            "started_on": "05/01/2025",
        },
        "programme.chain_date": {"day": "05/02/2026"},
        "programme.sales_points": {
            "organisation_id": str(world.orgs["D1"]),
            "name": "Điểm bán",
            "address": "TT Chũ",
            "opened_on": "05/01/2025",
        },
        "programme.close_sales_point": {"day": "05/02/2026"},
        "programme.trainings": {
            "organisation_id": str(world.orgs["C1"]),
            "kind": "training",
            "held_on": "05/01/2026",
            "topic": "Câu chuyện sản phẩm",
            "people_producer": "30",
        },
    }
    json_bodies = {
        "api.create_product_view": {
            "name": "Sản phẩm API",
            "product_group": group,
            "producer_id": world.producers["cooperative"],
            "subgroup": None,
            "workflow_key": registry.default_key,
        },
        "api.add_support_view": {"started_on": "2025-03-01", "organisation_id": None, "officer": None, "note": None},
        "api.end_support_view": {"ended_on": "2025-04-01"},
        "api.add_listing_view": {"platform": "shopee", "url": "https://shopee.vn/a", "listed_on": "2025-03-01"},
        "api.remove_listing_view": {"removed_on": "2025-04-01"},
        "api.put_revenue_view": {"amount": "1.250.000.000"},
        "api.transition_view": {"trigger": trigger, "comment": "Đạt", "data": {"score": 75}, "version": version},
        # councils and rounds (issue #9): no council or round exists, so the walk reaches the checks and
        # the lookups (404), which is where bad input could break them
        "api.create_council_view": {
            "organisation_id": world.orgs["D1"],
            "name": "Hội đồng",
            "decision_number": "1/QĐ",
            "decision_date": "2026-01-05",
            "valid_from": None,
            "valid_until": None,
        },
        "api.create_round_view": {"council_id": 1, "name": "Đợt 1", "meeting_date": "2026-03-10"},
        "api.add_round_product_view": {"product_id": product_id},
        "api.open_round_view": {},
        "api.close_round_product_view": {},
        "api.close_round_view": {},
        "api.recusal_view": {"reason": "Người nhà", "version": None},
        # decisions and certificates (issue #10): none exists, so the walk reaches the checks and the lookups
        "api.create_decision_view": {
            "organisation_id": world.orgs["D1"],
            "round_id": None,
            "product_ids": [product_id],
            "title": "Về việc công nhận sản phẩm OCOP",
        },
        "api.remove_decision_product_view": {"product_id": product_id, "version": None},
        "api.sign_decision_view": {"number": "12/QĐ-UBND", "signed_on": "2026-03-02", "signer_title": None},
        "api.revoke_certificate_view": {"reason": "Vi phạm", "decision_number": "5/QĐ-UBND", "revoked_on": None},
        # a unit's programme records (issue #12, helper "programme")
        "api.create_area_view": {"commune_id": world.orgs["C1"], "name": "Vùng vải", "area_ha": "12,5"},
        "api.link_area_view": {"product_id": product_id, "linked_on": "2026-01-05"},
        "api.end_link_view": {"unlinked_on": "2026-02-05"},
        "api.create_chain_view": {
            "organisation_id": world.orgs["D1"],
            "name": "Chuỗi vải",
            "lead_name": "HTX Vải",
            "members": [world.producers["cooperative"]],
            "products": [product_id],
            "started_on": "2025-01-05",
        },
        "api.patch_chain_view": {"working_from": "2025-06-01", "members": [world.producers["cooperative"]]},
        "api.create_sales_point_view": {
            "organisation_id": world.orgs["D1"],
            "name": "Điểm bán",
            "address": "TT Chũ",
            "opened_on": "2025-01-05",
        },
        "api.close_sales_point_view": {"closed_on": "2026-02-05"},
        "api.create_training_view": {
            "organisation_id": world.orgs["C1"],
            "kind": "training",
            "held_on": "2026-01-05",
            "topic": "Câu chuyện sản phẩm",
            "people": {"producer": 30},
        },
    }
    from web import create_app

    app = create_app(
        overrides={
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "UPLOAD_DIR": str(upload_dir),
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAX_UPLOAD_BYTES": 1024 * 1024,
        }
    )
    yield Target(app, user_id, api_token, ids, forms, json_bodies)
    app.extensions["ocop"].db.dispose()


# --- sending ----------------------------------------------------------------------------------------
def _login(t: Target, client: FlaskClient) -> FlaskClient:
    from flask_login.utils import _create_identifier

    from ocop_workflow.services.sessions import start_session

    db = t.app.extensions["ocop"].db
    with t.app.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
        with db.transaction() as s:
            token = start_session(s, s.get(User, t.user_id), lifetime=timedelta(hours=1)).token
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["_id"] = ident
    return client


def _send(t: Target, client: FlaskClient, method: str, url: str, what: str, **kwargs) -> int:
    t.sent += 1
    try:
        response = client.open(url, method=method, **kwargs)
        status = response.status_code
        response.get_data()
        response.close()
    except Exception as exc:  # TESTING propagates what would have been a 500
        status = 599
        frames = traceback.extract_tb(exc.__traceback__)
        where = next(
            (
                f"{f.filename.split('/wt-')[-1]}:{f.lineno}"
                for f in reversed(frames)
                if "/ocop_workflow/" in f.filename or "/web/" in f.filename
            ),
            "?",
        )
        t.failures.append(f"{method} {url[:120]!r} [{what}]: {type(exc).__name__}: {str(exc)[:160]} at {where}")
    else:
        if status >= 500:
            t.failures.append(f"{method} {url[:120]!r} [{what}]: {status}")
    return status


def _url(rule_text: str, values: dict[str, str]) -> str:
    import re

    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", lambda m: values[m.group(1)], rule_text)


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"}) if rule.methods else OTHER_METHODS


def _body(t: Target, endpoint: str, method: str, token: bool) -> dict:
    """The request's normal body and headers for `endpoint` (a form, JSON or a multipart upload)."""
    headers = {"Authorization": f"Bearer {t.api_token}"} if token else {}
    if method == "GET":
        return {"headers": headers}
    if endpoint in t.json:
        return {"headers": headers, "json": t.json[endpoint]}
    if endpoint in ("documents.upload", "api.upload_document_view", "plans.load"):
        return {"headers": headers, **_multipart({"doc_type": "business_plan"}, "ke-hoach.pdf", PDF)}
    return {"headers": headers, "data": t.forms.get(endpoint, {"name": "x"})}


def _multipart(fields: dict, filename: str, content: bytes) -> dict:
    values = dict(fields)
    values["file"] = FileStorage(io.BytesIO(content), filename=filename, content_type="application/pdf")
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def _relogin(t: Target, user, endpoint: str) -> None:
    if endpoint.startswith("auth."):  # logout, login, password and language forms change the session
        _login(t, user)


def walk(t: Target) -> None:
    app = t.app
    rules = [r for r in app.url_map.iter_rules()]
    web_posts = {r.endpoint for r in rules if not r.endpoint.startswith("api.") and "POST" in (r.methods or ())}
    missing = sorted(web_posts - set(t.forms))
    assert not missing, f"add the normal form of these routes to the walk: {missing}"
    api_posts = {r.endpoint for r in rules if r.endpoint.startswith("api.") and "POST" in (r.methods or ())}
    assert not sorted(api_posts - set(t.json) - {"api.upload_document_view"}), "add their JSON body to the walk"
    user = _login(t, app.test_client())
    anon = app.test_client()
    for name, section in (
        ("routes", _walk_routes),
        ("query", _walk_query),
        ("forms", _walk_forms),
        ("uploads", _walk_uploads),
        ("json", _walk_json),
    ):
        mark = (t.sent, time.monotonic())
        section(t, rules, user, anon)
        t.section(name, *mark)


def _walk_routes(t: Target, rules: list, user, anon) -> None:
    """Every rule, every method, every URL variable hostile (one at a time) or valid; both callers."""
    for rule in rules:
        api = rule.endpoint.startswith("api.")
        for method in _methods(rule):
            variants = [("valid", dict(t.ids))]
            for name in rule.arguments:
                variants += [(f"{name}={v}", {**t.ids, name: v}) for v in URL_VALUES]
            for what, values in variants:
                url = _url(rule.rule, values)
                _send(t, user, method, url, what, **_body(t, rule.endpoint, method, api))
                _relogin(t, user, rule.endpoint)
                _send(t, anon, method, url, f"anonymous {what}", **_body(t, rule.endpoint, method, False))


def _walk_query(t: Target, rules: list, user, anon) -> None:
    """Query arguments: one at a time where the view reads them, all at once elsewhere."""
    for rule in rules:
        if "GET" not in _methods(rule):
            continue
        api = rule.endpoint.startswith("api.")
        url = _url(rule.rule, t.ids)
        body = _body(t, rule.endpoint, "GET", api)
        for value in QUERY_VALUES:
            for arg in QUERY_ARGS.get(rule.endpoint, ()):
                _send(t, user, "GET", url, f"?{arg}", query_string={arg: value}, **body)
            _send(t, user, "GET", url, "?all", query_string=dict.fromkeys(ALL_QUERY_ARGS, value), **body)
            _relogin(t, user, rule.endpoint)
        _send(t, user, "GET", url, "?NUL name", query_string={"a\x00": "1"}, **body)


def _walk_forms(t: Target, rules: list, user, anon) -> None:
    """Each form field hostile, one at a time, the others normal; and an unknown field."""
    for rule in rules:
        if rule.endpoint not in t.forms or "POST" not in _methods(rule):
            continue
        url = _url(rule.rule, t.ids)
        normal = t.forms[rule.endpoint]
        for name in [*normal, "unexpected"]:
            for value in FIELD_VALUES:
                data = {**normal, name: value}
                uploads = ("documents.upload", "plans.load")
                body = _multipart(data, "a.pdf", PDF) if rule.endpoint in uploads else {"data": data}
                _send(t, user, "POST", url, f"{name}={value[:20]!r}", **body)
                _relogin(t, user, rule.endpoint)
        _send(t, user, "POST", url, "NUL field name", data={**normal, "x\x00": "1"})
        _relogin(t, user, rule.endpoint)


def _walk_uploads(t: Target, rules: list, user, anon) -> None:
    """Uploads: hostile file names, no file, a text field where the file should be."""
    for endpoint, token in (("documents.upload", False), ("api.upload_document_view", True), ("plans.load", False)):
        rule = next(r for r in rules if r.endpoint == endpoint)
        url = _url(rule.rule, t.ids)
        headers = {"Authorization": f"Bearer {t.api_token}"} if token else {}
        for doc_type in ("business_plan", "a\x00b", "x" * 100_000, ""):
            for filename in ("tai-lieu.pdf", "a\x00b.pdf", "\x1f.pdf", "x" * 100_000 + ".pdf", "", "../../etc/passwd"):
                _send(
                    t,
                    user,
                    "POST",
                    url,
                    f"upload {filename[:20]!r}",
                    headers=headers,
                    **_multipart({"doc_type": doc_type}, filename, PDF),
                )
        _send(t, user, "POST", url, "no file", headers=headers, data={"doc_type": "business_plan"})
        _send(t, user, "POST", url, "file as text", headers=headers, data={"doc_type": "business_plan", "file": "x"})


def _walk_json(t: Target, rules: list, user, anon) -> None:
    """JSON bodies: malformed, huge, deep, wrong types, hostile values in each field."""
    auth = {"Authorization": f"Bearer {t.api_token}"}
    for rule in rules:
        if rule.endpoint in t.json:
            _walk_json_rule(t, rule, user, auth)


def _walk_json_rule(t: Target, rule, user, auth: dict) -> None:
    url = _url(rule.rule, t.ids)
    normal = t.json[rule.endpoint]
    raw_bodies = {
        "nested [": "[" * 100_000,
        "nested {": '{"a":' * 100_000,
        "nested closed": "[" * 5000 + "]" * 5000,
        "2 MB": json.dumps({**normal, "name": "x" * 2 * 1024 * 1024}),
        "empty": "",
        "broken": '{"name": ',
        "NaN": json.dumps({**normal, "version": float("nan")}),
        "Infinity": '{"version": Infinity}',
        "latin-1": b'{"name": "\xff\xfe"}',
        "NUL key": '{"\\u0000": 1}',
        "NUL escape": '{"name": "a\\u0000b"}',
        "lone surrogate": '{"name": "\\ud800"}',
        "array": "[]",
        "string": '"x"',
        "number": "1",
        "null": "null",
    }
    for what, raw in raw_bodies.items():
        _send(t, user, "POST", url, what, headers=auth, data=raw, content_type="application/json")
    _send(t, user, "POST", url, "form instead of JSON", headers=auth, data={"a": "b"})
    _send(t, user, "POST", url, "text/plain", headers=auth, data=json.dumps(normal), content_type="text/plain")
    for name in [*normal, "unexpected"]:
        for value in JSON_FIELD_VALUES:
            _send(t, user, "POST", url, f"json {name}={str(value)[:20]!r}", headers=auth, json={**normal, name: value})
    if "data" in normal:
        for value in JSON_FIELD_VALUES:
            _send(
                t,
                user,
                "POST",
                url,
                f"json data.score={str(value)[:20]!r}",
                headers=auth,
                json={**normal, "data": {"score": value}},
            )


# --- the tests ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_no_route_answers_bad_input_with_a_server_error(target: Target, capsys: pytest.CaptureFixture) -> None:
    started = time.monotonic()
    walk(target)
    elapsed = time.monotonic() - started
    backend = target.app.extensions["ocop"].db.engine.dialect.name
    with capsys.disabled():
        print(
            f"\n[bad input] {backend}: {target.sent} requests in {elapsed:.1f} s, "
            f"{len(target.failures)} answered >= 500; "
            + ", ".join(f"{k}: {n} in {sec:.1f} s" for k, (n, sec) in target.sections.items())
        )
    assert target.sent > 1500  # the walk did not silently shrink
    assert not target.failures, "\n".join(target.failures[:40])


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def test_what_a_user_sees_for_bad_input(target: Target) -> None:
    """Out-of-range ids 404, a tampered hidden field 400 with the stale-form text, NUL 422 in the
    user's language, out-of-range page numbers read as the first page; the same on both databases."""
    client = _login(target, target.app.test_client())
    product = target.ids["product_id"]
    for url in (
        f"/products/{2**63}",
        f"/products/{2**31}",
        f"/documents/{2**63}/download",
        "/products/0",
        f"/producers/{2**64}/edit",
        f"/api/v1/products/{2**63}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/products/{2**31 - 1}").status_code == 404  # the largest id is looked up, not refused
    assert client.get(f"/products?page={2**63}&org={2**63}&star={2**31}").status_code == 200
    assert client.get(f"/inbox?page={2**63}").status_code == 200
    assert client.get(f"/notifications/?before={2**64}").status_code == 200

    form = {**target.forms["products.edit"], "expected_version": "abc"}
    r = client.post(f"/products/{product}/edit", data=form)
    assert r.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này" in r.get_data(as_text=True)
    r = client.post(
        f"/products/{product}/advance", data={**target.forms["products.advance_view"], "expected_version": str(2**63)}
    )
    assert r.status_code == 400 and "Biểu mẫu đã hết hạn" in r.get_data(as_text=True)

    r = client.post(f"/products/{product}/edit", data={**target.forms["products.edit"], "name": "Vải\x00thiều"})
    assert r.status_code == 422
    assert "ký tự điều khiển" in r.get_data(as_text=True)
    r = client.post(f"/products/{product}/edit", data={**target.forms["products.edit"], "name": "Vải\nthiều"})
    assert r.status_code == 422 and "ký tự điều khiển" in r.get_data(as_text=True)  # a name is one line
    client.post("/language", data={"locale": "en"})
    r = client.get("/products", query_string={"q": "a\x00"})
    assert r.status_code == 422 and "control character" in r.get_data(as_text=True)


def test_what_an_integration_sees_for_bad_json(target: Target) -> None:
    client = target.app.test_client()
    auth = {"Authorization": f"Bearer {target.api_token}", "Accept-Language": "en"}
    url = f"/api/v1/products/{target.ids['product_id']}/transitions"
    body = _problem(
        client.post(url, headers=auth, data="[" * 100_000, content_type="application/json"), 400, "invalid_request"
    )
    assert "nested" in body["invalid_params"][0]["reason"]
    _problem(
        client.post(url, headers=auth, data="[" * 40 + "]" * 40, content_type="application/json"),
        400,
        "invalid_request",
    )
    body = _problem(
        client.post(url, headers=auth, json={"trigger": "x" * 2 * 1024 * 1024, "version": 1}), 413, "too_large"
    )
    assert "JSON" in body["detail"]
    _problem(
        client.post(url, headers=auth, data='{"trigger": "x", "version": NaN}', content_type="application/json"),
        400,
        "invalid_request",
    )
    body = _problem(
        client.post(url, headers=auth, json={**target.json["api.transition_view"], "comment": "a\x00b"}),
        422,
        "invalid_data",
    )
    assert "body.comment" in body["detail"] and "control character" in body["detail"]
    _problem(client.get("/api/v1/products", headers=auth, query_string={"q": "a\x00"}), 422, "invalid_data")
    _problem(client.get(f"/api/v1/products/{2**63}/history", headers=auth), 404, "not_found")
    _problem(client.post(f"/api/v1/products/{2**31}/documents", headers=auth), 404, "not_found")
    # a multi-line comment is fine; a product name is one line
    _problem(
        client.post(
            "/api/v1/products", headers=auth, json={**target.json["api.create_product_view"], "name": "Vải\nthiều"}
        ),
        422,
        "invalid_data",
    )


def test_the_services_refuse_control_characters_for_every_caller(db: Database, registry: Registry) -> None:
    """The CLI calls the services directly: they refuse NUL and other control characters with a
    typed error in both languages, instead of a database error (PostgreSQL cannot store NUL)."""
    world = build_world(db, registry)
    with db.transaction() as s:
        who = load_actor(s, world.user("commune_officer", "C1"))
        product = create_product(
            s,
            registry,
            who,
            name="Vải thiều",
            product_group="tourism",
            producer_id=world.producers["cooperative_group"],
        )
        product_id = product.id
    attempts = {
        "product name": lambda s, who: create_product(
            s, registry, who, name="Vải\x00", product_group="tourism", producer_id=world.producers["cooperative_group"]
        ),
        "sub-group": lambda s, who: create_product(
            s,
            registry,
            who,
            name="Vải",
            product_group="tourism",
            subgroup="a\tb",
            producer_id=world.producers["cooperative_group"],
        ),
        "comment": lambda s, who: advance(s, registry, product_id, "accept_idea", who, comment="ok\x00"),
        "producer": lambda s, who: producer_service.create_producer(
            s, who, name="HTX\x1b[31m", kind="cooperative", commune=directory.get_org(s, "C1")
        ),
        "user": lambda s, who: directory.create_user(s, email="a\x00@b.vn", name="A", password=None),
        "token": lambda s, who: tokens.create_token(s, who.user, name="tích\x7fhợp"),
    }
    for what, attempt in attempts.items():
        with db.transaction() as s:
            who = load_actor(s, world.user("commune_officer", "C1"))
            with pytest.raises(InvalidData) as caught:
                attempt(s, who)
            assert "ký tự điều khiển" in caught.value.message("vi"), what
            assert "control character" in caught.value.message("en"), what
    with db.transaction() as s:  # a comment may span lines
        who = load_actor(s, world.user("commune_officer", "C1"))
        with pytest.raises(Exception) as caught:
            advance(s, registry, product_id, "accept_idea", who, comment="dòng 1\r\n\tdòng 2")
        assert "control character" not in str(caught.value)


def test_an_error_page_after_a_failed_statement_still_renders(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement that fails leaves the request's transaction unusable (aborted on PostgreSQL,
    PendingRollbackError after a failed flush); the error page reads too (the bell, the user), so
    the handler rolls back first and the user sees the translated error page, not a bare crash."""
    target.app.testing = False
    target.app.config["TESTING"] = False
    from web import create_app

    app = create_app(
        overrides={
            **target.app.config,
            "TESTING": False,
            "INSTANCE_PATH": target.app.instance_path,
            "DATABASE_URL": target.app.config["DATABASE_URL"],
        }
    )
    import web.products.routes as product_routes

    def broken(s, *args, **kwargs):
        s.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(product_routes, "list_products", broken)
    t = Target(app, target.user_id, target.api_token, target.ids, target.forms, target.json)
    client = _login(t, app.test_client())
    with client.session_transaction() as sess:
        sess["ocop_bell"] = [0, 0, 0]  # the bell must be counted again: a read in the failed transaction
    r = client.get("/products")
    assert r.status_code == 500
    assert "Lỗi đã được ghi lại" in r.get_data(as_text=True)
    assert client.get(f"/products/{target.ids['product_id']}").status_code == 200
    app.extensions["ocop"].db.dispose()
