"""The product page (issue #11): the dossier as a checklist with an upload per type, uploads in the
history, a step that ends the product confirmed first, and refused steps and uploads that redirect
back to the page with their message and the comment typed. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PDF, csrf, text, upload
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.models import Product, User
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.products import advance
from tests.helpers import attach, new_product
from tests.world import World

# submit_to_district of ocop-148 for a food product of a co-operative: the general documents, the
# food group's, then the co-operative's (workflows/ocop-148.v2.yaml, in that order)
SUBMIT_DOSSIER = [
    "registration_form",
    "self_assessment_report",
    "business_plan",
    "organisation_intro",
    "product_story",
    "food_safety_certificate",
    "quality_declaration",
    "lab_test_report",
    "label_packaging",
    "sample_handover",
    "business_registration",
    "cooperative_classification",
]


@dataclass
class Page:
    app: Flask
    db: Database
    registry: Registry
    world: World
    upload_dir: Path

    def client(self, role: str = "commune_officer", org: str = "C1") -> FlaskClient:
        """A client logged in as the world's user of `role` at `org` (a session, not argon2)."""
        from flask_login.utils import _create_identifier

        from ocop_workflow.services.sessions import start_session

        client = self.app.test_client()
        with self.app.test_request_context(environ_base=client.environ_base), self.db.transaction() as s:
            ident = _create_identifier()
            user = s.scalars(select(User).where(User.email == self.world.user(role, org))).one()
            token = start_session(s, user, lifetime=timedelta(hours=1)).token
        with client.session_transaction() as sess:
            sess.update({"_user_id": token, "_fresh": True, "_id": ident})
        return client

    def product(self) -> int:
        return new_product(self.db, self.registry, self.officer, self.world.producers["cooperative"], group="food")

    @property
    def officer(self) -> str:
        return self.world.user("commune_officer", "C1")

    def attach(self, pid: int, *types: str, filename: str = "Hồ sơ sản phẩm.pdf") -> None:
        attach(self.db, self.registry, self.officer, pid, list(types), self.upload_dir, filename=filename)

    def fire(self, pid: int, trigger: str, **kwargs) -> None:
        with self.db.transaction() as s:
            advance(s, self.registry, pid, trigger, load_actor(s, self.officer), **kwargs)

    def to_implementation(self, pid: int) -> None:
        self.attach(pid, "idea_registration")
        self.fire(pid, "accept_idea")
        self.attach(pid, "business_plan", "organisation_intro")
        self.fire(pid, "approve_plan")

    def state(self, pid: int) -> tuple[str, int]:
        with self.db.session() as s:
            p = s.get(Product, pid)
            return p.state, p.version


@pytest.fixture
def page(db: Database, registry: Registry, world: World, tmp_path: Path):
    from web import create_app

    settings = replace(
        Settings(),
        secret_key="k",
        database_url=db.url,
        max_upload_bytes=1024 * 1024,
        upload_dir=tmp_path / "uploads",
        instance_path=tmp_path / "instance",
    )
    app = create_app(settings, {"TESTING": True, "SESSION_COOKIE_SECURE": False})
    yield Page(app, db, registry, world, tmp_path / "uploads")
    app.extensions["ocop"].db.dispose()


def _rows(html: str) -> list[tuple[str, str]]:
    """The checklist's rows as (document type, status) in page order."""
    checklist = html.split('id="checklist"', 1)[1].split("</ul>\n  ", 1)[0]
    return re.findall(r'<li class="check (ok|missing|renew)[^"]*" id="doc-([a-z_]+)"', checklist)


def _step(client: FlaskClient, pid: int, trigger: str, version: int, **extra):
    data = {"csrf_token": csrf(client, "/"), "trigger": trigger, "expected_version": str(version), "confirm": "y"}
    return client.post(f"/products/{pid}/advance", data={**data, **extra})


def test_the_checklist_lists_the_next_steps_documents_in_the_definitions_order(page):
    pid = page.product()
    page.to_implementation(pid)
    officer = page.client()
    html = text(officer.get(f"/products/{pid}"))
    rows = _rows(html)
    assert [t for _s, t in rows] == SUBMIT_DOSSIER
    ticked = {t for s, t in rows if s == "ok"}
    assert ticked == {"business_plan", "organisation_intro"}  # uploaded for the plan, required again here
    assert "Cần cho bước tiếp theo" in html and "còn thiếu 10" in html
    # one place for what is missing: the step says how many and links the checklist, never the list again
    assert "thiếu tài liệu «" not in html and "Còn thiếu trước bước tiếp theo" not in html
    assert "còn thiếu 10 tài liệu trong danh mục" in html
    # the idea form is not needed any more: under the other documents, folded with its file
    other = html.split('id="other-documents"', 1)[1]
    assert "Phiếu đăng ký ý tưởng sản phẩm" in other and "Hồ sơ sản phẩm.pdf" in other
    # a ticked row shows its file, size (Vietnamese format), who and when
    row = html.split('id="doc-business_plan"', 1)[1].split("</li>", 1)[0]
    assert "Hồ sơ sản phẩm.pdf" in row and " B ·" in row and "commune_officer C1" in row


def test_the_upload_of_a_row_preselects_its_type_ticks_it_and_shows_in_the_history(page):
    pid = page.product()
    page.to_implementation(pid)
    officer = page.client()
    html = text(officer.get(f"/products/{pid}"))
    row = html.split('id="doc-product_story"', 1)[1].split("</li>", 1)[0]
    assert '<input type="hidden" name="doc_type" value="product_story">' in row  # the type, preselected
    r = upload(
        officer,
        f"/products/{pid}/documents",
        {"csrf_token": csrf(officer, "/"), "doc_type": "product_story"},
        "cau-chuyen.pdf",
        PDF,
    )
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/products/{pid}?doc_type=product_story#doc-product_story")
    html = text(officer.get(r.headers["Location"]))
    assert ("ok", "product_story") in _rows(html)
    # the general form keeps the chosen type
    assert re.search(r'<option selected value="product_story">|<option value="product_story" selected>', html)
    history = html.split('id="history"', 1)[1]
    assert "Tải lên: Câu chuyện sản phẩm (cau-chuyen.pdf)" in history
    # replacing it: the history says so, the old version folds under the current one
    r = upload(
        officer,
        f"/products/{pid}/documents",
        {"csrf_token": csrf(officer, "/"), "doc_type": "product_story"},
        "cau-chuyen-v2.pdf",
        PDF + b"v2",
    )
    assert r.status_code == 302
    html = text(officer.get(f"/products/{pid}"))
    row = html.split('id="doc-product_story"', 1)[1].split("</li>\n    <li", 1)[0]
    current, folded = row.split('<details class="older">', 1)
    assert "cau-chuyen-v2.pdf" in current and "cau-chuyen.pdf" not in current
    assert "1 bản đã bị thay thế" in folded and "cau-chuyen.pdf" in folded
    history = html.split('id="history"', 1)[1]
    assert history.index("Thay thế: Câu chuyện sản phẩm (cau-chuyen-v2.pdf)") < history.index(
        "Tải lên: Câu chuyện sản phẩm (cau-chuyen.pdf)"
    )  # newest first, merged with the moves
    assert "Tải lên: Phiếu đăng ký ý tưởng sản phẩm (Hồ sơ sản phẩm.pdf)" in html


def test_the_type_selector_lists_what_the_viewer_may_attach_missing_first(page):
    pid = page.product()
    page.to_implementation(pid)
    officer_html = text(page.client().get(f"/products/{pid}"))
    select_html = officer_html.split('<select id="doc_type" name="doc_type"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'value="([a-z_]*)"', select_html)
    missing = [t for t in SUBMIT_DOSSIER if t not in ("business_plan", "organisation_intro")]
    assert options[: len(missing)] == missing  # what the next step still needs, in the checklist's order
    assert "commune_assessment_report" in options and "council_minutes" not in options
    # the producer's association may not attach the commune's records: not offered, no upload in its rows
    assoc_html = text(page.client("commune_association", "C1").get(f"/products/{pid}"))
    assoc_select = assoc_html.split('<select id="doc_type" name="doc_type"', 1)[1].split("</select>", 1)[0]
    assert "commune_assessment_report" not in assoc_select and "registration_form" in assoc_select
    # at the district council the dossier is closed to the commune: no upload at all
    for t in missing:
        page.attach(pid, t)
    page.fire(pid, "submit_to_district")
    html = text(page.client().get(f"/products/{pid}"))
    assert 'class="upload-one"' not in html and 'id="upload"' not in html


def test_withdrawing_needs_a_confirmation_that_states_the_consequence(page):
    pid = page.product()
    page.attach(pid, "idea_registration")
    officer = page.client()
    html = text(officer.get(f"/products/{pid}"))
    # apart from the next step, in its own section, a red outline button
    main, final = html.split('id="final-steps"', 1)
    assert 'id="step-accept_idea"' in main and 'id="step-withdraw"' not in main
    assert 'id="step-withdraw"' in final and '<button type="submit" class="danger">Rút hồ sơ…</button>' in final
    state, version = page.state(pid)
    r = _step(officer, pid, "withdraw", version, comment="Hộ không tiếp tục sản xuất")
    assert r.status_code == 200
    body = text(r)
    assert "Xác nhận: Rút hồ sơ" in body
    assert "sẽ chuyển sang «Đã rút hồ sơ»" in body and "không thể hoàn tác" in body
    assert "Hộ không tiếp tục sản xuất" in body and 'id="cancel-final-step"' in body
    assert page.state(pid) == (state, version)  # the first POST moved nothing
    form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', body))
    assert form["confirmed"] == "1" and form["trigger"] == "withdraw"
    r = officer.post(f"/products/{pid}/advance", data=form)
    assert r.status_code == 302
    assert page.state(pid)[0] == "withdrawn"
    html = text(officer.get(f"/products/{pid}"))
    assert "Hộ không tiếp tục sản xuất" in html


def test_a_withdrawal_without_its_reason_redirects_before_any_confirmation(page):
    pid = page.product()
    officer = page.client()
    state, version = page.state(pid)
    r = _step(officer, pid, "withdraw", version, comment="  ")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/products/{pid}#step-withdraw")
    html = text(officer.get(r.headers["Location"]))
    step = html.split('id="step-withdraw"', 1)[1].split("</form>", 1)[0]
    assert "cần ghi ý kiến/lý do" in step and 'id="step-error"' in step
    assert page.state(pid) == (state, version)


def test_a_refused_step_redirects_to_the_page_with_the_message_and_the_comment(page):
    pid = page.product()
    page.to_implementation(pid)
    officer = page.client()
    _state, version = page.state(pid)
    comment = "Đã bổ sung đủ hồ sơ, đề nghị huyện xem xét <b>sớm</b>"
    r = _step(officer, pid, "submit_to_district", version, comment=comment)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/products/{pid}#step-submit_to_district")
    html = text(officer.get(r.headers["Location"]))
    step = html.split('id="step-submit_to_district"', 1)[1].split("</form>", 1)[0]
    assert "Chưa thể chuyển bước" in step and "Phiếu đăng ký tham gia đánh giá, phân hạng" in step
    assert "Đã bổ sung đủ hồ sơ, đề nghị huyện xem xét &lt;b&gt;sớm&lt;/b&gt;</textarea>" in step  # kept, escaped
    assert page.state(pid)[0] == "implementation"
    again = text(officer.get(f"/products/{pid}"))  # shown once
    assert "Chưa thể chuyển bước" not in again and "xem xét &lt;b&gt;sớm" not in again
    # a stale form: the same redirect, the message at the top of the page
    r = _step(officer, pid, "submit_to_district", version - 1)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/products/{pid}#next-steps")
    assert "Hồ sơ đã được người khác cập nhật" in text(officer.get(r.headers["Location"]))
    # a hidden product stays 404 whatever the form holds
    other = page.client("commune_officer", "C3")
    assert _step(other, pid, "submit_to_district", version, comment="x").status_code == 404


def test_a_refused_upload_redirects_to_the_row_with_its_message(page):
    pid = page.product()
    page.to_implementation(pid)
    officer = page.client()
    r = upload(
        officer,
        f"/products/{pid}/documents",
        {"csrf_token": csrf(officer, "/"), "doc_type": "lab_test_report"},
        "ket-qua.pdf",
        b"MZ\x90\x00" + b"\x00" * 100,
    )
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/products/{pid}?doc_type=lab_test_report#doc-lab_test_report")
    html = text(officer.get(r.headers["Location"]))
    assert 'id="upload-error"' in html and "Chỉ nhận tệp PDF" in html
    assert ("missing", "lab_test_report") in _rows(html)
    r = officer.post(f"/products/{pid}/documents", data={"csrf_token": csrf(officer, "/"), "doc_type": "awards"})
    assert r.status_code == 303 and "Hãy chọn tệp để tải lên." in text(officer.get(r.headers["Location"]))


def test_scores_read_with_the_decimal_comma_and_long_sections_fold(page, registry):
    pid = page.product()
    page.to_implementation(pid)
    for t in SUBMIT_DOSSIER:
        page.attach(pid, t)
    page.fire(pid, "submit_to_district")
    with page.db.transaction() as s:
        advance(s, registry, pid, "rate_district", Actor.system_actor(registry.policy), data={"score": 65.5})
    html = text(page.client().get(f"/products/{pid}"))
    ratings = html.split('id="product-ratings"', 1)[1].split("</details>", 1)[0]
    assert '<td class="num rating-score" data-label="Điểm">65,5</td>' in ratings
    assert "điểm 65,5" in html and "65.5" not in html
    assert '<details class="card fold" id="product-ratings" open>' in html
    # the history shows its newest entries; the earlier ones fold
    history = html.split('id="history"', 1)[1]
    assert '<details class="fold" id="earlier-history">' in history


def test_a_long_comment_is_kept_without_outgrowing_the_session_cookie(page):
    """The comment travels in the signed session cookie (4 KB at most in a browser): the longest one
    kept (MAX_KEPT_COMMENT) with the longest guard message still fits; a longer one is answered
    on /advance itself (the page re-rendered with the 4xx status), the comment kept all the same."""
    from web.products.routes import MAX_KEPT_COMMENT

    pid = page.product()
    page.to_implementation(pid)  # ten documents missing for the district: the longest guard message
    officer = page.client()
    _state, version = page.state(pid)
    rng = random.Random(11)
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ "
    comment = "".join(rng.choice(letters) for _ in range(MAX_KEPT_COMMENT))
    r = _step(officer, pid, "submit_to_district", version, comment=comment)
    assert r.status_code == 303
    cookie = next(v for v in r.headers.getlist("Set-Cookie") if v.startswith("ocop_session="))
    assert len(cookie) < 4000, len(cookie)
    assert comment in text(officer.get(r.headers["Location"]))
    longer = comment + " thêm"
    r = _step(officer, pid, "submit_to_district", version, comment=longer)
    assert r.status_code == 422 and "Chưa thể chuyển bước" in text(r) and longer in text(r)
