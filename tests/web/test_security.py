"""Acceptance 1: CSRF, scope (404), roles (403), upload limits and content, file names, stale forms."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from conftest import PDF, csrf, login, text, upload
from sqlalchemy import func, select

from ocop_workflow.models import Document, Product, ProductEvent


def _advance_form(token: str, trigger: str, version: int, **extra) -> dict:
    data = {"csrf_token": token, "trigger": trigger, "expected_version": str(version), "confirm": "y"}
    data.update(extra)
    return data


# --- CSRF ---------------------------------------------------------------------------------------
def test_login_form_without_csrf_token_is_rejected(client):
    r = client.post("/login", data={"email": "officer@test.ocop.vn", "password": "mat-khau-123"})
    assert r.status_code == 400
    assert "Biểu mẫu đã hết hạn" in text(r)


def test_step_without_csrf_token_is_rejected_and_changes_nothing(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "officer")
    before = env.state_of(pid)
    r = client.post(
        f"/products/{pid}/advance", data={"trigger": "accept_idea", "expected_version": before[1], "confirm": "y"}
    )
    assert r.status_code == 400
    assert env.state_of(pid) == before


def test_upload_without_csrf_token_is_rejected(env, client):
    pid = env.product()
    login(client, env, "officer")
    r = client.post(
        f"/products/{pid}/documents",
        content_type="multipart/form-data",
        data={"doc_type": "idea_registration", "file": (io.BytesIO(PDF), "a.pdf")},
    )
    assert r.status_code == 400
    with env.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


# --- scope: another commune's things answer 404 --------------------------------------------------
def test_other_commune_gets_404_for_product_document_and_transition(env, client):
    pid = env.product()
    doc_id = env.attach(pid, "idea_registration")
    login(client, env, "officer3")  # commune C3, another district
    token = csrf(client, "/")
    assert client.get(f"/products/{pid}").status_code == 404
    assert client.get(f"/products/{pid}/edit").status_code == 404
    assert client.get(f"/documents/{doc_id}/download").status_code == 404
    before = env.state_of(pid)
    r = client.post(f"/products/{pid}/advance", data=_advance_form(token, "accept_idea", before[1]))
    assert r.status_code == 404
    r = client.post(
        f"/products/{pid}/documents",
        content_type="multipart/form-data",
        data={"csrf_token": token, "doc_type": "business_plan", "file": (io.BytesIO(PDF), "x.pdf")},
    )
    assert r.status_code == 404
    assert env.state_of(pid) == before
    listing = text(client.get("/products"))
    assert "Vải thiều Lục Ngạn" not in listing
    assert client.get(f"/producers/{env.world.producer}/edit").status_code == 404


def test_404_page_does_not_tell_whether_the_product_exists(env, client):
    pid = env.product()
    login(client, env, "officer3")
    hidden = client.get(f"/products/{pid}")
    missing = client.get("/products/999999")
    assert hidden.status_code == missing.status_code == 404
    assert "Vải thiều" not in text(hidden)


def test_district_sees_its_communes_and_province_its_tree(env, client):
    pid = env.product()
    login(client, env, "dsec")
    assert client.get(f"/products/{pid}").status_code == 200
    client2 = env.app.test_client()
    login(client2, env, "pcouncil")
    assert client2.get(f"/products/{pid}").status_code == 200


# --- roles: no button, and 403 when posting anyway ------------------------------------------------
def test_role_without_the_transition_gets_no_button_and_403(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "assoc")  # the association supports but does not accept ideas
    page = text(client.get(f"/products/{pid}"))
    assert 'id="step-accept_idea"' not in page
    before = env.state_of(pid)
    r = client.post(f"/products/{pid}/advance", data=_advance_form(csrf(client, "/"), "accept_idea", before[1]))
    assert r.status_code == 403
    assert "Vai trò của bạn không được thực hiện bước" in text(r)
    assert env.state_of(pid) == before


def test_officer_sees_the_button(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "officer")
    page = text(client.get(f"/products/{pid}"))
    assert 'id="step-accept_idea"' in page
    assert 'id="step-withdraw"' in page


def test_district_secretariat_may_return_but_not_rate(env, client):
    pid = env.product()
    env.to_district(pid)
    login(client, env, "dsec")
    page = text(client.get(f"/products/{pid}"))
    assert 'id="step-return_for_revision"' in page
    assert 'id="step-rate_district"' not in page
    before = env.state_of(pid)
    r = client.post(
        f"/products/{pid}/advance", data=_advance_form(csrf(client, "/"), "rate_district", before[1], score="75")
    )
    assert r.status_code == 403
    assert env.state_of(pid) == before


def test_non_admin_gets_403_on_admin_pages(env, client):
    login(client, env, "officer")
    assert client.get("/admin/users").status_code == 403


# --- uploads --------------------------------------------------------------------------------------
@pytest.mark.app_config(MAX_UPLOAD_BYTES=1024 * 1024)
@pytest.mark.parametrize("size", [3 * 1024 * 1024, 1024 * 1024 + 100 * 1024])
def test_upload_over_the_limit_gets_413_and_a_friendly_page(env, client, size):
    pid = env.product()
    login(client, env, "officer")
    token = csrf(client, "/")
    big = PDF + b"0" * size
    r = upload(
        client, f"/products/{pid}/documents", {"csrf_token": token, "doc_type": "idea_registration"}, "big.pdf", big
    )
    assert r.status_code == 413
    body = text(r)
    assert "Tệp quá lớn" in body
    assert "<html" in body and "Tổng quan" in body  # the site's own page, not a bare server error
    with env.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    assert (
        not any(p.is_file() and not p.name.startswith(".") for p in env.upload_dir.glob("*"))
        if env.upload_dir.exists()
        else True
    )


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200,  # Windows executable
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200,  # Linux executable
        b"#!/bin/sh\nrm -rf /\n",
    ],
)
def test_executable_renamed_to_pdf_is_refused(env, client, content):
    pid = env.product()
    login(client, env, "officer")
    r = client.post(
        f"/products/{pid}/documents",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf(client, "/"),
            "doc_type": "idea_registration",
            "file": (io.BytesIO(content), "ho-so.pdf"),
        },
    )
    assert r.status_code == 303  # back to the product page, where the message shows once
    assert "Chỉ nhận tệp PDF, JPEG, PNG, DOCX hoặc XLSX" in text(client.get(r.headers["Location"]))
    with env.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_vietnamese_file_name_survives_upload_and_download(env, client):
    pid = env.product()
    login(client, env, "officer")
    name = "Phiếu đăng ký ý tưởng sản phẩm – Vải thiều Lục Ngạn.pdf"
    r = client.post(
        f"/products/{pid}/documents",
        content_type="multipart/form-data",
        data={"csrf_token": csrf(client, "/"), "doc_type": "idea_registration", "file": (io.BytesIO(PDF), name)},
    )
    assert r.status_code == 302, text(r)
    page = text(client.get(f"/products/{pid}"))
    assert name in page
    with env.db.session() as s:
        doc = s.scalars(select(Document)).one()
    assert doc.original_name == name
    with client.get(f"/documents/{doc.id}/download") as r:
        assert r.status_code == 200
        assert r.data == PDF
        assert r.headers["Content-Type"] == "application/pdf"
        disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote(name)}" in disposition


def test_replacing_a_document_keeps_the_old_version_visible(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration", name="ban-cu.pdf")
    login(client, env, "officer")
    r = client.post(
        f"/products/{pid}/documents",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf(client, "/"),
            "doc_type": "idea_registration",
            "file": (io.BytesIO(PDF + b"v2"), "bản mới.pdf"),
        },
    )
    assert r.status_code == 302
    page = text(client.get(f"/products/{pid}"))
    assert "ban-cu.pdf" in page and "bản mới.pdf" in page and "đã thay thế" in page
    with env.db.session() as s:
        old = s.scalars(select(Document).where(Document.original_name == "ban-cu.pdf")).one()
    with client.get(f"/documents/{old.id}/download") as r:
        assert r.status_code == 200
        assert r.data == PDF


# --- a form posted after someone else moved the product --------------------------------------------
def test_stale_form_shows_a_clear_message_and_changes_nothing(env, client):
    pid = env.product()
    env.to_district(pid)
    login(client, env, "dcouncil")
    token = csrf(client, f"/products/{pid}")
    _, version, _ = env.state_of(pid)
    # meanwhile the district secretariat returns the dossier
    env.fire(pid, "return_for_revision", key="dsec", comment="Thiếu ảnh nhãn")
    after_other = env.state_of(pid)
    r = client.post(f"/products/{pid}/advance", data=_advance_form(token, "rate_district", version, score="75"))
    assert r.status_code == 303  # back to the product page, where the message shows once
    body = text(client.get(r.headers["Location"]))
    assert "Hồ sơ đã được người khác cập nhật" in body
    assert env.state_of(pid) == after_other
    with env.db.session() as s:
        assert s.scalar(select(Product.current_star).where(Product.id == pid)) is None
        assert s.scalar(select(func.count()).select_from(ProductEvent).where(ProductEvent.product_id == pid)) == 5


def test_stale_form_in_english(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "officer")
    client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": "en"})
    _, version, _ = env.state_of(pid)
    env.fire(pid, "withdraw", comment="Hộ rút hồ sơ")
    r = client.post(f"/products/{pid}/advance", data=_advance_form(csrf(client, "/"), "accept_idea", version))
    assert r.status_code == 303
    assert "Someone else has changed this product" in text(client.get(r.headers["Location"]))
