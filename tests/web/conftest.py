"""Fixtures of the web tests: a migrated SQLite file with a small world, copied per test."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop_workflow import migrate_db
from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import get_registry
from ocop_workflow.models import User
from ocop_workflow.passwords import hash_password
from ocop_workflow.services import directory, producers
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.products import advance, create_product

PASSWORD = "mat-khau-123"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "test-secret-key"

USERS = {  # key -> (role, org code)
    "officer": ("commune_officer", "C1"),
    "assoc": ("commune_association", "C1"),
    "officer3": ("commune_officer", "C3"),
    "dsec": ("district_secretariat", "D1"),
    "dcouncil": ("district_council", "D1"),
    "psec": ("province_secretariat", "P"),
    "pcouncil": ("province_council", "P"),
    "admin": ("admin", "P"),
    "dadmin": ("admin", "D1"),
    "producer": ("producer", "C1"),  # acts for world.producer
    "chair": ("province_chair", "P"),
    "dchair": ("district_chair", "D1"),
    "central": ("central_council", "VN"),
    "cchair": ("central_chair", "VN"),
    "dassoc": ("district_association", "D1"),
    "passoc": ("province_association", "P"),
}


@dataclass
class WebWorld:
    path: Path
    emails: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    producer: int = 0  # cooperative group in C1 (tourism products need only the common dossier)
    producer_b: int = 0  # another producer of C1 (a household business): not the producer account's
    producer2: int = 0  # in C2, another commune of the same district
    producer3: int = 0  # in C3, another district


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    path = tmp_path_factory.mktemp("webtpl") / "template.sqlite3"
    url = f"sqlite:///{path}"
    migrate_db.upgrade(url)
    world = WebWorld(path)
    registry = get_registry()
    db = Database(url)
    hashed = hash_password(PASSWORD)  # one argon2 hash shared by every test user
    with db.transaction() as s:
        tree = [
            ("VN", "Việt Nam", "central", None),
            ("P", "Bắc Giang", "province", "VN"),
            ("D1", "Lục Ngạn", "district", "P"),
            ("D2", "Yên Thế", "district", "P"),
            ("C1", "Phượng Sơn", "commune", "D1"),
            ("C2", "Hồng Giang", "commune", "D1"),
            ("C3", "Đồng Kỳ", "commune", "D2"),
        ]
        orgs = {}
        for code, name, level, parent in tree:
            orgs[code] = directory.create_organisation(s, code=code, name=name, level=level, parent_code=parent)
            world.orgs[code] = orgs[code].id
        system = Actor.system_actor(registry.policy)
        own = producers.create_producer(
            s, system, name="Tổ hợp tác Vải thiều Phượng Sơn", kind="cooperative_group", commune=orgs["C1"]
        )
        world.producer = own.id
        world.producer_b = producers.create_producer(
            s, system, name="Hộ kinh doanh Bánh đa Kế", kind="household", commune=orgs["C1"]
        ).id
        world.producer2 = producers.create_producer(
            s, system, name="HTX Mỳ Chũ Hồng Giang", kind="cooperative", commune=orgs["C2"]
        ).id
        world.producer3 = producers.create_producer(
            s, system, name="HTX Gà đồi Yên Thế", kind="cooperative_group", commune=orgs["C3"]
        ).id
        for key, (role, code) in USERS.items():
            email = f"{key}@test.ocop.vn"
            user = directory.create_user(s, email=email, name=f"Người dùng {key}", password=None)
            user.password_hash = hashed
            directory.add_membership(
                s,
                registry,
                user,
                orgs[code],
                role,
                actor=system,
                producer=own if role in registry.policy.acts_for_producer else None,
            )
            world.emails[key] = email
    db.dispose()
    return world


@dataclass
class Env:
    app: Flask
    world: WebWorld
    db: Database
    upload_dir: Path

    def actor(self, s, key: str):
        return load_actor(s, self.world.emails[key])

    def product(
        self,
        key: str = "officer",
        name: str = "Vải thiều Lục Ngạn",
        group: str = "tourism",
        producer: int | None = None,
    ) -> int:
        registry = self.app.extensions["ocop"].registry
        with self.db.transaction() as s:
            p = create_product(
                s,
                registry,
                self.actor(s, key),
                name=name,
                product_group=group,
                producer_id=producer or self.world.producer,
            )
            return p.id

    def attach(self, product_id: int, doc_type: str, key: str = "officer", name: str = "tai-lieu.pdf") -> int:
        st = self.app.extensions["ocop"]
        with self.db.transaction() as s:
            doc = attach_document(
                s,
                self.actor(s, key),
                product_id,
                doc_type,
                name,
                PDF,
                upload_dir=st.upload_dir,
                max_bytes=st.max_upload_bytes,
                known_types=st.registry.catalogue.document_types,
            )
            return doc.id

    def fire(self, product_id: int, trigger: str, key: str = "officer", **kwargs) -> None:
        registry = self.app.extensions["ocop"].registry
        with self.db.transaction() as s:
            advance(s, registry, product_id, trigger, self.actor(s, key), **kwargs)

    def to_district(self, product_id: int) -> None:
        """idea → production plan → implementation → district review, uploading what each step needs."""
        self.attach(product_id, "idea_registration")
        self.fire(product_id, "accept_idea")
        for t in ("business_plan", "organisation_intro"):
            self.attach(product_id, t)
        self.fire(product_id, "approve_plan")
        for t in ("registration_form", "self_assessment_report", "product_story"):
            self.attach(product_id, t)
        self.fire(product_id, "submit_to_district")

    def state_of(self, product_id: int) -> tuple[str, int, int]:
        from ocop_workflow.models import Product

        with self.db.session() as s:
            p = s.get(Product, product_id)
            return p.state, p.version, p.history_count


def make_app(tmp_path: Path, web_template: WebWorld, **config) -> tuple[Flask, Database]:
    path = tmp_path / "ocop.sqlite3"
    shutil.copy(web_template.path, path)
    settings = replace(
        Settings(),
        database_url=f"sqlite:///{path}",
        upload_dir=tmp_path / "uploads",
        instance_path=tmp_path / "instance",
        secret_key=SECRET,
        max_upload_bytes=1024 * 1024,
    )
    overrides = {
        "TESTING": True,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "MAX_UPLOAD_BYTES": 1024 * 1024,
    }
    overrides.update(config)  # Flask config; a key that mirrors a setting (MAX_UPLOAD_BYTES, …) changes it
    from web import create_app

    app = create_app(settings, overrides)
    return app, app.extensions["ocop"].db


@pytest.fixture
def env(tmp_path: Path, web_template: WebWorld, request: pytest.FixtureRequest):
    marker = request.node.get_closest_marker("app_config")
    config = marker.kwargs if marker else {}
    app, db = make_app(tmp_path, web_template, **config)
    yield Env(app, web_template, db, tmp_path / "uploads")
    db.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**settings): Flask settings for the `env` fixture")


@pytest.fixture
def client(env: Env) -> FlaskClient:
    return env.app.test_client()


def login(client: FlaskClient, env: Env, key: str) -> FlaskClient:
    """Log a test client in without paying for argon2: the session flask-login would have made."""
    from datetime import timedelta

    from flask_login.utils import _create_identifier

    from ocop_workflow.services.sessions import start_session

    with env.app.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
        with env.db.transaction() as s:
            user = s.scalars(select(User).where(User.email == env.world.emails[key])).one()
            token = start_session(s, user, lifetime=timedelta(hours=12)).token
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["_id"] = ident
    return client


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client: FlaskClient, url: str, fields: dict, filename: str, content: bytes):
    """POST a multipart form encoded in memory (the test client spools big bodies to a file it never closes)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    values = dict(fields)
    values["file"] = FileStorage(io.BytesIO(content), filename=filename, content_type="application/octet-stream")
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@dataclass(frozen=True)
class DemoSite:
    """The demo (`ocop demo`'s data) served by waitress on a free port, for the browser tests that walk it."""

    base: str
    states: dict[str, int]  # a product id in each state (the first by id)
    codes: list[str]  # a certificate code


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> DemoSite:
    """Loading the demo takes tens of seconds: one site for every browser test that only reads it (the layout
    walk, the lists and dashboard screenshots). Tests that change data build their own."""
    import threading
    from datetime import UTC, datetime

    from waitress.server import create_server

    from ocop_workflow.demo import load_demo
    from ocop_workflow.models import Certificate, Product
    from web import create_app

    tmp = tmp_path_factory.mktemp("demo-site")
    url = f"sqlite:///{tmp / 'demo.sqlite3'}"
    migrate_db.upgrade(url)
    db = Database(url)
    load_demo(db, get_registry(), tmp / "uploads", now=datetime.now(UTC))
    with db.session() as s:
        states: dict[str, int] = {}
        for pid, state in s.execute(select(Product.id, Product.state).order_by(Product.id)):
            states.setdefault(state, pid)
        codes = list(s.scalars(select(Certificate.code).order_by(Certificate.id).limit(1)))
    db.dispose()
    settings = replace(
        Settings(),
        database_url=url,
        upload_dir=tmp / "uploads",
        instance_path=tmp / "instance",
        secret_key="demo-site-test-secret-key-0123456789abcdef",
    )
    app = create_app(settings, {"TESTING": True, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield DemoSite(f"http://127.0.0.1:{srv.effective_port}", states, codes)
    srv.close()
    thread.join(timeout=5)
    app.extensions["ocop"].db.dispose()
