"""Issue #8, Build 6: an upload never holds up another user's step; zip bombs are refused; a download
is named after what the file is; `ocop serve` starts by cleaning the upload folder."""

from __future__ import annotations

import gc
import io
import os
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import pytest
from conftest import PASSWORD, PDF, Env, csrf, login, text, upload
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from ocop_workflow.config import Settings
from ocop_workflow.models import Document, Product, User
from ocop_workflow.services import tokens
from tests.zips import MIB, docx, docx_bomb

API = "/api/v1"
STEP_LIMIT = 0.100  # seconds: a step takes ~15 ms when nothing holds it up
GATE_SECONDS = 5  # how long a held-up upload waits for the step before giving up
ATTEMPTS = 3


class Gate:
    """Holds an upload in the middle (of its body, or of its check) until the step is done."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def hold(self) -> None:
        if not self.reached.is_set():
            self.reached.set()
            self.release.wait(GATE_SECONDS)


class SlowBody(io.BytesIO):
    """A request body whose second half arrives only once the gate opens (a slow client)."""

    def __init__(self, data: bytes, gate: Gate) -> None:
        super().__init__(data)
        self.gate, self.half = gate, len(data) // 2

    def read(self, size: int | None = -1) -> bytes:
        pos = self.tell()
        if pos < self.half:
            size = self.half - pos if size is None or size < 0 else min(size, self.half - pos)
        else:
            self.gate.hold()
        return super().read(size)

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def token_for(env: Env, key: str, name: str) -> str:
    with env.db.transaction() as s:
        user = s.scalars(select(User).where(User.email == env.world.emails[key])).one()
        return tokens.create_token(s, user, name=name).token


def idea_ready(env: Env) -> int:
    pid = env.product()
    env.attach(pid, "idea_registration")
    return pid


def web_step(client: FlaskClient, env: Env, pid: int, token: str) -> tuple[int, float]:
    version = env.state_of(pid)[1]
    started = time.perf_counter()
    r = client.post(
        f"/products/{pid}/advance",
        data={"csrf_token": token, "trigger": "accept_idea", "expected_version": str(version), "confirm": "y"},
    )
    return r.status_code, time.perf_counter() - started


def api_step(client: FlaskClient, pid: int, bearer: str) -> tuple[int, float]:
    started = time.perf_counter()
    r = client.post(
        f"{API}/products/{pid}/transitions",
        json={"trigger": "accept_idea", "version": 1},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    return r.status_code, time.perf_counter() - started


# --- the writer lock is taken for the database write only ---------------------------------------------
def step_during_upload(
    start_upload: Callable[[], TestResponse], gate: Gate, step: Callable[[], tuple[int, float]]
) -> tuple[int, float, TestResponse]:
    """Start an upload in a thread, take the step once the upload is held at its gate, then let it go on."""
    with ThreadPoolExecutor(1) as pool:
        uploading = pool.submit(start_upload)
        assert gate.reached.wait(GATE_SECONDS), "the upload never reached its gate"
        gc.collect()  # a collection pause is not what is measured
        status, took = step()
        gate.release.set()
        return status, took, uploading.result(timeout=30)


def fast_enough(times: list[float]) -> bool:
    """Held up by the upload, every try waits the gate's 5 s; a try slower than the limit without
    that is the machine being busy (tests share two cores), so another one is made."""
    return times[-1] < STEP_LIMIT or len(times) == ATTEMPTS


def test_a_web_step_is_not_held_up_by_an_upload_being_checked(env, monkeypatch):
    """A DOCX whose check takes long (a zip directory of many entries: 2.7 s for 250,000 on the
    reviewer's machine) is simulated by holding the check until the step is done, or 5 s."""
    stepper = login(env.app.test_client(), env, "officer")
    uploader = login(env.app.test_client(), env, "officer")
    step_token, upload_token = csrf(stepper, "/"), csrf(uploader, "/")
    assert web_step(stepper, env, idea_ready(env), step_token)[0] == 302  # code paths warm

    gates, real_zipfile, document = [Gate()], zipfile.ZipFile, docx()

    class CheckedSlowly(real_zipfile):
        def __init__(self, *args, **kwargs) -> None:
            gates[-1].hold()
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", CheckedSlowly)
    times: list[float] = []
    while not times or not fast_enough(times):
        target, upload_to = idea_ready(env), env.product(name=f"Gà đồi Yên Thế {len(times)}")
        gates.append(Gate())
        status, took, uploaded = step_during_upload(
            lambda: upload(
                uploader,
                f"/products/{upload_to}/documents",  # noqa: B023
                {"csrf_token": upload_token, "doc_type": "idea_registration"},
                "Phiếu.docx",
                document,
            ),
            gates[-1],
            lambda target=target: web_step(stepper, env, target, step_token),
        )
        times.append(took)
        assert status == 302 and env.state_of(target)[0] == "production_plan"
        assert uploaded.status_code == 302, text(uploaded)
        with env.db.session() as s:
            assert s.scalar(select(Document.content_type).where(Document.product_id == upload_to)).endswith(
                "wordprocessingml.document"
            )
    assert min(times) < STEP_LIMIT, f"the step waited {[round(t * 1000) for t in times]} ms for the upload"


def test_an_api_step_is_not_held_up_by_a_slow_upload_body(env):
    """A client sending its file slowly: the API authenticates it at once, then reads the body."""
    bearer, upload_bearer = token_for(env, "officer", "steps"), token_for(env, "officer", "uploads")
    client = env.app.test_client()
    assert api_step(client, idea_ready(env), bearer)[0] == 200  # code paths warm
    boundary, body = encode_multipart(
        {
            "doc_type": "idea_registration",
            "file": FileStorage(
                io.BytesIO(PDF + b"%" + b"x" * 200_000), filename="Đơn.pdf", content_type="application/pdf"
            ),
        }
    )
    times: list[float] = []
    while not times or not fast_enough(times):
        target, upload_to, gate = idea_ready(env), env.product(name=f"Mỳ Chũ {len(times)}"), Gate()
        status, took, uploaded = step_during_upload(
            lambda upload_to=upload_to: env.app.test_client().post(
                f"{API}/products/{upload_to}/documents",
                input_stream=SlowBody(body, gate),  # noqa: B023
                content_length=len(body),
                content_type=f"multipart/form-data; boundary={boundary}",
                headers={"Authorization": f"Bearer {upload_bearer}"},
            ),
            gate,
            lambda target=target: api_step(client, target, bearer),
        )
        times.append(took)
        assert status == 200 and env.state_of(target)[0] == "production_plan"
        assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    assert min(times) < STEP_LIMIT, f"the step waited {[round(t * 1000) for t in times]} ms for the upload"


def test_a_step_is_not_held_up_by_a_login_checking_its_password(env, monkeypatch):
    """Checking a password (argon2) is slow on purpose; it is no database write either."""
    import ocop_workflow.services.auth as auth_routes  # where the login checks the password

    stepper = login(env.app.test_client(), env, "officer")
    step_token = csrf(stepper, "/")
    assert web_step(stepper, env, idea_ready(env), step_token)[0] == 302
    gates, real_verify = [Gate()], auth_routes.verify_password

    def verify_slowly(hashed: str, password: str) -> bool:
        gates[-1].hold()
        return real_verify(hashed, password)

    monkeypatch.setattr(auth_routes, "verify_password", verify_slowly)
    times: list[float] = []
    while not times or not fast_enough(times):
        target, visitor = idea_ready(env), env.app.test_client()
        gates.append(Gate())
        form = {"csrf_token": csrf(visitor, "/login"), "email": env.world.emails["assoc"], "password": PASSWORD}
        status, took, logged_in = step_during_upload(
            lambda: visitor.post("/login", data=form),  # noqa: B023
            gates[-1],
            lambda target=target: web_step(stepper, env, target, step_token),
        )
        times.append(took)
        assert status == 302 and logged_in.status_code == 302
    assert min(times) < STEP_LIMIT, f"the step waited {[round(t * 1000) for t in times]} ms for the login"


# --- zip bombs -----------------------------------------------------------------------------------------
@pytest.mark.app_config(MAX_UPLOAD_BYTES=4 * MIB)
def test_a_zip_bomb_is_refused_with_a_clear_message_on_the_web_and_the_api(env, monkeypatch):
    def never_inflate(*args: object, **kwargs: object) -> None:
        raise AssertionError("an uploaded zip entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never_inflate)
    pid = env.product()
    bomb = docx_bomb()  # 2 MiB expanding to 2 GiB
    client = login(env.app.test_client(), env, "officer")
    r = upload(
        client,
        f"/products/{pid}/documents",
        {"csrf_token": csrf(client, "/"), "doc_type": "idea_registration"},
        "Kế hoạch.docx",
        bomb,
    )
    assert r.status_code == 303
    page = text(client.get(r.headers["Location"]))
    assert "Tệp DOCX/XLSX này khi giải nén vượt quá giới hạn (200 MB nội dung, 10.000 tệp con)" in page

    boundary, body = encode_multipart(
        {
            "doc_type": "idea_registration",
            "file": FileStorage(io.BytesIO(bomb), filename="Kế hoạch.docx", content_type="application/octet-stream"),
        }
    )
    r = env.app.test_client().post(
        f"{API}/products/{pid}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token_for(env, 'officer', 'api')}", "Accept-Language": "en"},
    )
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_data"
    assert "expands beyond the limits (200 MB of content, 10,000 parts)" in r.get_json()["detail"]
    with env.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    assert [p.name for p in env.upload_dir.iterdir()] == []


@pytest.mark.app_config(MAX_ZIP_ENTRIES=50)
def test_the_zip_entry_limit_is_a_setting(env):
    pid = env.product()
    client = login(env.app.test_client(), env, "officer")
    token = csrf(client, "/")
    r = upload(
        client,
        f"/products/{pid}/documents",
        {"csrf_token": token, "doc_type": "idea_registration"},
        "nhiều phần.docx",
        docx(parts=60),
    )
    assert r.status_code == 303 and "50 tệp con" in text(client.get(r.headers["Location"]))
    r = upload(
        client,
        f"/products/{pid}/documents",
        {"csrf_token": token, "doc_type": "idea_registration"},
        "vừa đủ.docx",
        docx(parts=40),
    )
    assert r.status_code == 302


# --- download names follow the detected type -----------------------------------------------------------
def test_a_pdf_uploaded_as_html_is_downloaded_as_pdf_on_the_web_and_the_api(env):
    pid = env.product()
    client = login(env.app.test_client(), env, "officer")
    r = upload(
        client,
        f"/products/{pid}/documents",
        {"csrf_token": csrf(client, "/"), "doc_type": "idea_registration"},
        "poly.html",
        PDF,
    )
    assert r.status_code == 302
    with env.db.session() as s:
        doc = s.scalars(select(Document)).one()
    assert doc.original_name == "poly.html"  # the uploader's own name is kept
    bearer = token_for(env, "officer", "api")
    for url, headers in (
        (f"/documents/{doc.id}/download", {}),
        (f"{API}/documents/{doc.id}/content", {"Authorization": f"Bearer {bearer}"}),
    ):
        with client.get(url, headers=headers) as r:
            assert r.status_code == 200 and r.data == PDF
            assert r.headers["Content-Type"] == "application/pdf"
            assert r.headers["Content-Disposition"] == "attachment; filename=poly.pdf"


def test_a_vietnamese_name_without_extension_gets_one(env):
    pid = env.product()
    doc_id = env.attach(pid, "idea_registration", name="Đơn đăng ký v1.2")
    client = login(env.app.test_client(), env, "officer")
    with client.get(f"/documents/{doc_id}/download") as r:
        assert f"filename*=UTF-8''{quote('Đơn đăng ký v1.2.pdf')}" in r.headers["Content-Disposition"]


# --- `ocop serve` cleans the upload folder first -------------------------------------------------------
def test_serve_starts_by_removing_what_interrupted_uploads_left(env, monkeypatch, tmp_path):
    import waitress
    from click.testing import CliRunner

    from web.cli import serve

    pid = env.product()
    kept_doc = env.attach(pid, "idea_registration")
    with env.db.session() as s:
        stored = s.get(Document, kept_doc).stored_name
    old = time.time() - 2 * 3600
    part, orphan, fresh = (
        env.upload_dir / ("." + "a" * 32 + ".part"),
        env.upload_dir / ("b" * 32),
        env.upload_dir / ("c" * 32),
    )
    for path in (part, orphan, fresh):
        path.write_bytes(b"x")
    for path in (part, orphan, env.upload_dir / stored):
        os.utime(path, (old, old))
    served = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.append(kw))
    monkeypatch.setenv("OCOP_DATABASE_URL", env.app.config["DATABASE_URL"])
    monkeypatch.setenv("OCOP_UPLOAD_DIR", str(env.upload_dir))
    monkeypatch.setenv("OCOP_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("OCOP_SECRET_KEY", "serve-test")
    monkeypatch.setenv("OCOP_LANG", "en")
    result = CliRunner().invoke(serve, ["--port", "5999"])
    assert result.exit_code == 0, result.output
    assert served, "the server was not started"
    assert f"uploads: removed {part}" in result.output and f"uploads: removed {orphan}" in result.output
    assert sorted(p.name for p in env.upload_dir.iterdir()) == sorted([stored, fresh.name])


# --- both databases: the read-then-write request session -----------------------------------------------
def test_uploads_and_steps_through_the_promoted_session_on_both_databases(db, registry, world, tmp_path, monkeypatch):
    """The web tests run on SQLite; here the same app runs on each backend of the `db` fixture."""
    from flask_login.utils import _create_identifier

    from ocop_workflow.services.sessions import start_session
    from tests.helpers import attach, new_product
    from web import create_app

    settings = replace(
        Settings(),
        secret_key="k",
        database_url=db.url,
        max_upload_bytes=MIB,
        upload_dir=tmp_path / "uploads",
        instance_path=tmp_path / "instance",
    )
    app = create_app(settings, {"TESTING": True, "SESSION_COOKIE_SECURE": False})
    officer = world.user("commune_officer", "C1")
    try:
        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base), db.transaction() as s:
            ident = _create_identifier()
            user = s.scalars(select(User).where(User.email == officer)).one()
            user_id = start_session(s, user, lifetime=timedelta(hours=1)).token
        with client.session_transaction() as sess:
            sess.update({"_user_id": user_id, "_fresh": True, "_id": ident})
        token = csrf(client, "/")
        first, second = (new_product(db, registry, officer, world.producers["household"]) for _ in range(2))
        attach(db, registry, officer, second, ["idea_registration"], tmp_path / "uploads")

        def step(pid: int) -> tuple[int, float]:
            with db.session() as s:
                version = s.get(Product, pid).version
            started = time.perf_counter()
            r = client.post(
                f"/products/{pid}/advance",
                data={"csrf_token": token, "trigger": "accept_idea", "expected_version": str(version), "confirm": "y"},
            )
            return r.status_code, time.perf_counter() - started

        r = upload(
            client,
            f"/products/{first}/documents",
            {"csrf_token": token, "doc_type": "idea_registration"},
            "poly.html",
            PDF,
        )
        assert r.status_code == 302, text(r)
        r = upload(
            client,
            f"/products/{first}/documents",
            {"csrf_token": token, "doc_type": "business_plan"},
            "virus.pdf",
            b"MZ\x90\x00",
        )
        assert r.status_code == 303 and "Chỉ nhận tệp PDF" in text(client.get(r.headers["Location"]))
        assert step(first)[0] == 302

        gate, real_zipfile, document = Gate(), zipfile.ZipFile, docx()

        class CheckedSlowly(real_zipfile):
            def __init__(self, *args: object, **kwargs: object) -> None:
                gate.hold()
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(zipfile, "ZipFile", CheckedSlowly)
        uploader = app.test_client()
        with client.session_transaction() as sess, uploader.session_transaction() as other:
            other.update(dict(sess))
        status, took, uploaded = step_during_upload(
            lambda: upload(
                uploader,
                f"/products/{first}/documents",
                {"csrf_token": token, "doc_type": "business_plan"},
                "Kế hoạch.docx",
                document,
            ),
            gate,
            lambda: step(second),
        )
        assert status == 302 and took < GATE_SECONDS / 5  # not held until the gate gave up
        assert uploaded.status_code == 302, text(uploaded)
        with db.session() as s:
            names = {
                d.original_name: d.current for d in s.scalars(select(Document).where(Document.product_id == first))
            }
        assert names == {"poly.html": True, "Kế hoạch.docx": True}
    finally:
        app.extensions["ocop"].db.dispose()
