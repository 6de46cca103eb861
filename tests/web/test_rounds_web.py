"""Issue #9, Build 6 on the web: the council and round pages, the member's queue and score sheet, and
the product page's rounds. Who sees what (404 outside, 403 without the seat), CSRF, bad input as a
translated 4xx, and a save that a phone may repeat after a dropped connection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import csrf, login, text
from rounds_world import MEMBERS, meeting_day, open_round_with, setup_council
from sqlalchemy import select

from ocop_workflow.models import Document, Product, RoundProduct, ScoreSheet, User


def login_email(client, env, email: str):
    """`conftest.login` for a user outside the fixture's USERS (the council members)."""
    from datetime import timedelta as td

    from flask_login.utils import _create_identifier

    from ocop_workflow.services.sessions import start_session

    with env.app.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
        with env.db.transaction() as s:
            user = s.scalars(select(User).where(User.email == email)).one()
            token = start_session(s, user, lifetime=td(hours=12)).token
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["_id"] = token, True, ident
    return client


def member(env, key: str):
    client = env.app.test_client()
    return login_email(client, env, f"{key}@hoidong.test.ocop.vn")


@pytest.fixture
def world(env):
    seats = setup_council(env)
    pid = env.product(name="Vải thiều Lục Ngạn")
    env.to_district(pid)
    return seats, pid


def token_of(client, path: str) -> str:
    return csrf(client, path)


def test_council_pages_render_for_the_secretariat_and_404_outside(env, world):
    seats, _pid = world
    c = login(env.app.test_client(), env, "dsec")
    r = c.get("/councils")
    assert r.status_code == 200 and "Hội đồng đánh giá, phân hạng sản phẩm OCOP huyện Lục Ngạn" in text(r)
    r = c.get(f"/councils/{seats.council_id}")
    body = text(r)
    assert r.status_code == 200
    assert "Nguyễn Văn Chủ Tịch" in body and "Chủ tịch Hội đồng" in body and "Thư ký" in body
    assert "Số 123/QĐ-UBND ngày" in body
    assert 'id="member-form"' in body and 'id="round-form"' in body
    # another district's officer (C3 is under D2) does not see the council at all
    other = login(env.app.test_client(), env, "officer3")
    assert other.get(f"/councils/{seats.council_id}").status_code == 404
    assert "Lục Ngạn" not in text(other.get("/councils"))
    # a member sees the council but may not manage it
    m = member(env, "m2")
    body = text(m.get(f"/councils/{seats.council_id}"))
    assert "Trần Thị Thành Viên" in body and 'id="member-form"' not in body


def test_create_a_council_with_vietnamese_dates_and_translated_errors(env, client):
    login(client, env, "dsec")
    form = text(client.get("/councils/new"))
    assert "Lục Ngạn" in form
    token = token_of(client, "/councils/new")
    data = {
        "csrf_token": token,
        "organisation_id": str(env.world.orgs["D1"]),
        "name": "Hội đồng OCOP huyện Lục Ngạn 2026",
        "decision_number": "45/QĐ-UBND",
        "decision_date": "31/02/2026",
    }
    r = client.post("/councils/new", data=data)
    assert r.status_code == 422 and "Nhập ngày theo dạng dd/mm/yyyy." in text(r)
    data |= {"decision_date": "15/01/2026", "valid_from": "10/01/2026"}
    r = client.post("/councils/new", data=data)
    assert r.status_code == 422 and "Hội đồng không thể có hiệu lực trước ngày ký quyết định thành lập" in text(r)
    data["valid_from"] = "20/01/2026"
    r = client.post("/councils/new", data=data)
    assert r.status_code == 302
    page = text(client.get(r.headers["Location"]))
    assert "Số 45/QĐ-UBND ngày 15/01/2026" in page and "20/01/2026" in page
    # an organisation outside the actor's reach is refused, not created
    data |= {"organisation_id": str(env.world.orgs["D2"]), "name": "Hội đồng Yên Thế"}
    r = client.post("/councils/new", data=data)
    assert r.status_code in (403, 404)
    # a commune officer of another district has no council to set up for Lục Ngạn
    other = login(env.app.test_client(), env, "pcouncil")
    assert other.get("/councils/new").status_code == 403


def test_csrf_is_enforced_on_every_form(env, world):
    seats, pid = world
    c = login(env.app.test_client(), env, "dsec")
    rid = open_round_with(env, seats, [], name="Đợt chưa mở")
    posts = [
        (f"/councils/{seats.council_id}/members", {"email": "x@test.ocop.vn", "position": "member"}),
        (f"/councils/{seats.council_id}/rounds", {"name": "Đợt", "meeting_date": "01/01/2030"}),
        (f"/rounds/{rid}/products", {"product_id": str(pid)}),
        (f"/rounds/{rid}/open", {}),
        ("/councils/new", {"name": "x"}),
    ]
    for url, data in posts:
        r = c.post(url, data=data)
        assert r.status_code == 400, url
        assert "Biểu mẫu đã hết hạn" in text(r) or "hết hạn" in text(r), url
    m = member(env, "m1")
    r = m.post(f"/rounds/{rid}/products/{pid}/sheet", data={"action": "save", "c:A": "10"})
    assert r.status_code == 400


def test_members_are_seated_changed_and_removed_by_email(env, world):
    seats, _pid = world
    c = login(env.app.test_client(), env, "dsec")
    url = f"/councils/{seats.council_id}"
    token = token_of(c, url)
    r = c.post(f"{url}/members", data={"csrf_token": token, "email": "nobody@test.ocop.vn", "position": "member"})
    assert r.status_code == 422 and "Không có người dùng «nobody@test.ocop.vn»" in text(r)
    r = c.post(f"{url}/members", data={"csrf_token": token, "email": env.world.emails["dcouncil"], "position": "boss"})
    assert r.status_code == 422 and "Not a valid choice" not in text(r)
    r = c.post(f"{url}/members", data={"csrf_token": token, "email": env.world.emails["dcouncil"], "position": "chair"})
    assert r.status_code == 409 and "Hội đồng đã có Chủ tịch" in text(r)
    r = c.post(
        f"{url}/members", data={"csrf_token": token, "email": env.world.emails["dcouncil"], "position": "vice_chair"}
    )
    assert r.status_code == 302
    assert "Phó Chủ tịch Hội đồng" in text(c.get(url))
    r = c.post(f"{url}/members/remove", data={"csrf_token": token, "email": env.world.emails["dcouncil"]})
    assert r.status_code == 302
    assert env.world.emails["dcouncil"] not in text(c.get(url))
    # a member cannot change the council
    m = member(env, "m2")
    seat = {"csrf_token": token_of(m, url), "email": "m3@hoidong.test.ocop.vn", "position": "chair"}
    r = m.post(f"{url}/members", data=seat)
    assert r.status_code == 403


def test_the_round_from_creation_to_closing(env, world):
    seats, pid = world
    c = login(env.app.test_client(), env, "dsec")
    council_url = f"/councils/{seats.council_id}"
    token = token_of(c, council_url)
    r = c.post(f"{council_url}/rounds", data={"csrf_token": token, "name": "Đợt 1", "meeting_date": "abc"})
    assert r.status_code == 422 and "Nhập ngày theo dạng dd/mm/yyyy." in text(r)
    day = meeting_day()
    when = day.strftime("%d/%m/%Y")
    r = c.post(f"{council_url}/rounds", data={"csrf_token": token, "name": "Đợt 1", "meeting_date": when})
    assert r.status_code == 302
    round_url = r.headers["Location"]
    rid = int(re.search(r"/rounds/(\d+)", round_url).group(1))
    page = text(c.get(round_url))
    assert "Vải thiều Lục Ngạn" in page  # in the chooser
    assert day.strftime("%d/%m/%Y") in page and "Đang chuẩn bị" in page
    r = c.post(f"/rounds/{rid}/open", data={"csrf_token": token})
    assert r.status_code == 422 and "Đợt chưa có sản phẩm nào" in text(r)
    r = c.post(f"/rounds/{rid}/products", data={"csrf_token": token, "product_id": "abc"})
    assert r.status_code == 422
    r = c.post(f"/rounds/{rid}/products", data={"csrf_token": token, "product_id": "999999"})
    assert r.status_code == 404
    r = c.post(f"/rounds/{rid}/products", data={"csrf_token": token, "product_id": str(pid)})
    assert r.status_code == 302
    r = c.post(f"/rounds/{rid}/products", data={"csrf_token": token, "product_id": str(pid)})
    assert r.status_code == 409 and "Sản phẩm đã có trong đợt này" in text(r)
    r = c.post(f"/rounds/{rid}/open", data={"csrf_token": token})
    assert r.status_code == 302
    page = text(c.get(round_url))
    assert "Đang chấm điểm" in page and "Đã nộp 0/3; cần tối thiểu 2" in page
    assert "Chưa chấm" in page

    # members score: m1 submits, m2 recuses, m3 saves a draft then submits
    sheet_url = f"/rounds/{rid}/products/{pid}/sheet"
    m1, m2, m3 = member(env, "m1"), member(env, "m2"), member(env, "m3")
    assert "Sản phẩm chờ chấm" in text(m1.get("/"))
    queue = text(m1.get("/queue"))
    assert "Đợt 1" in queue and "Vải thiều Lục Ngạn" in queue and "Chưa chấm" in queue
    sheet_page = text(m1.get(sheet_url))
    assert "Lưu nháp" in sheet_page and "Nộp phiếu" in sheet_page and "Xin không chấm" in sheet_page
    assert 'name="c:A"' in sheet_page and "sheet.js" in sheet_page
    outcomes = re.search(r'<ul class="outcomes">(.*?)</ul>', sheet_page, re.S).group(1)
    assert outcomes.count("<li>") == 3  # what each range of the average leads to
    assert "70,00 trở lên</span>: 3★ gửi lên cấp tỉnh" in outcomes
    t1 = token_of(m1, sheet_url)
    base = {"csrf_token": t1, "action": "submit", "expected_version": "0"}
    r = m1.post(sheet_url, data=base | {"c:A": "35", "c:B": "20"})
    assert r.status_code == 422 and "Chưa chấm điểm các tiêu chí: C" in text(r)
    r = m1.post(sheet_url, data=base | {"c:A": "41", "c:B": "20", "c:C": "30"})
    assert r.status_code == 422 and "không hợp lệ" in text(r)
    r = m1.post(sheet_url, data=base | {"c:A": "35,5", "c:B": "20", "c:C": "30"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/queue")
    r = m2.post(f"/rounds/{rid}/products/{pid}/recuse", data={"csrf_token": token_of(m2, sheet_url), "reason": ""})
    assert r.status_code == 422 and "Trường này là bắt buộc" in text(r)
    r = m2.post(
        f"/rounds/{rid}/products/{pid}/recuse",
        data={"csrf_token": token_of(m2, sheet_url), "reason": "Tôi là thành viên của hợp tác xã này"},
    )
    assert r.status_code == 302
    t3 = token_of(m3, sheet_url)
    r = m3.post(sheet_url, data={"csrf_token": t3, "action": "save", "expected_version": "0", "c:A": "30"})
    assert r.status_code == 302
    # the secretary sees who has scored, not the marks
    page = text(c.get(round_url))
    assert "Đã nộp 1/3" in page and "Bản nháp" in page and "Tôi là thành viên của hợp tác xã này" in page
    assert "35,50" not in page
    # members do not see each other's sheet
    # (the member's own answer comes back in the reader's format: "35,5")
    assert "35,5" not in text(m3.get(sheet_url)) and 'value="35,5"' in text(m1.get(sheet_url))
    r = c.post(f"/rounds/{rid}/products/{pid}/close", data={"csrf_token": token})
    assert r.status_code == 409 and "Chưa đủ số thành viên chấm điểm" in text(r)
    with env.db.session() as s:
        version = s.scalar(
            select(ScoreSheet.version).join(User, User.id == ScoreSheet.user_id).where(User.email == seats.emails["m3"])
        )
    r = m3.post(
        sheet_url,
        data={"csrf_token": t3, "action": "submit", "expected_version": str(version)}
        | {"c:A": "30", "c:B": "20", "c:C": "25"},
    )
    assert r.status_code == 302
    # a member may not close; the secretary does
    assert m1.post(f"/rounds/{rid}/products/{pid}/close", data={"csrf_token": t1}).status_code == 403
    r = c.post(f"/rounds/{rid}/products/{pid}/close", data={"csrf_token": token})
    assert r.status_code == 302
    page = text(c.get(round_url))
    assert "80,25" in page  # (85.5 + 75) / 2
    assert "Đề nghị cấp trên" in page
    with env.db.session() as s:
        assert s.get(Product, pid).state == "province_review"
        entry = s.scalars(select(RoundProduct).where(RoundProduct.product_id == pid)).one()
        assert entry.average == 80.25 and entry.status == "closed"
    # scoring after closing is refused with a clear message
    r = m3.post(sheet_url, data={"csrf_token": t3, "action": "save", "c:A": "1"})
    assert r.status_code == 409 and "đã kết thúc" in text(r)
    r = c.post(f"/rounds/{rid}/products/{pid}/close", data={"csrf_token": token})
    assert r.status_code == 409
    r = c.post(f"/rounds/{rid}/close", data={"csrf_token": token})
    assert r.status_code == 302 and "Đã kết thúc" in text(c.get(round_url))
    # closing the round filed its minutes into the product's dossier
    with env.db.session() as s:
        filed = s.scalars(
            select(Document).where(Document.product_id == pid, Document.doc_type == "council_minutes")
        ).all()
        assert len(filed) == 1 and filed[0].original_name.endswith(".docx")
        secretary = s.scalars(select(User).where(User.email == env.world.emails["dsec"])).one()
        assert filed[0].uploaded_by_id == secretary.id  # the dossier names who filed the minutes
    # the product page shows the round, each member's total and the average
    product_page = text(c.get(f"/products/{pid}"))
    assert "Đợt 1" in product_page and "85,50" in product_page and "75,00" in product_page and "80,25" in product_page
    english = login(env.app.test_client(), env, "dsec")
    english.post("/language", data={"csrf_token": token_of(english, "/"), "locale": "en"})
    assert "80.25" in text(english.get(f"/products/{pid}"))


def test_sheet_pages_are_for_the_council_only(env, world):
    seats, pid = world
    rid = open_round_with(env, seats, [pid])
    sheet_url = f"/rounds/{rid}/products/{pid}/sheet"
    # the secretary sits on the council but does not score
    assert login(env.app.test_client(), env, "dsec").get(sheet_url).status_code == 403
    # outside the council's area: 404 for the round, its sheets and its downloads
    for key in ("officer3",):
        c = login(env.app.test_client(), env, key)
        assert c.get(f"/rounds/{rid}").status_code == 404
        assert c.get(sheet_url).status_code == 404
        assert c.get(f"/rounds/{rid}/sheets.xlsx").status_code == 404
        assert c.get("/rounds").status_code == 200 and "Đợt 1 năm 2026" not in text(c.get("/rounds"))
    # a product not in the round, an id out of range
    m = member(env, "m1")
    assert m.get(f"/rounds/{rid}/products/999999/sheet").status_code == 404
    assert m.get(f"/rounds/{2**40}/products/{pid}/sheet").status_code == 404
    assert m.get("/queue").status_code == 200
    # the sheet links to the dossier the member scores, and the member may open it
    assert f'id="open-dossier" href="/products/{pid}"' in m.get(sheet_url).get_data(as_text=True)
    assert m.get(f"/products/{pid}").status_code == 200


def test_a_repeated_save_after_a_lost_reply_is_harmless_and_a_stale_one_says_so(env, world):
    seats, pid = world
    rid = open_round_with(env, seats, [pid])
    sheet_url = f"/rounds/{rid}/products/{pid}/sheet"
    m = member(env, "m1")
    token = token_of(m, sheet_url)
    headers = {"X-Requested-With": "fetch", "Accept": "application/json"}
    data = {"csrf_token": token, "action": "save", "expected_version": "0", "c:A": "30", "c:B": "", "c:C": "20.25"}
    r = m.post(sheet_url, data=data, headers=headers)
    assert r.status_code == 200
    first = r.get_json()
    assert first["ok"] and first["total"] == 50.25 and first["part_totals"]["A"] == 30
    # the reply was lost: the phone sends the same answers from the same version again
    r = m.post(sheet_url, data=data, headers=headers)
    assert r.status_code == 409
    again = r.get_json()
    assert again["version"] == first["version"] and again["answers"] == {"A": 30.0, "C": 20.25}
    assert again["status"] == "draft" and again["error"]
    # bad input is a translated 422, in JSON for the script
    r = m.post(sheet_url, data=data | {"expected_version": str(first["version"]), "c:A": "abc"}, headers=headers)
    assert r.status_code == 422 and "không phải là một số" in r.get_json()["error"]
    with env.db.session() as s:
        sheet = s.scalars(select(ScoreSheet)).one()
        assert sheet.total == 50.25 and sheet.version == first["version"]
    # without the script: a stale form re-renders with the message
    r = m.post(sheet_url, data=data)
    assert r.status_code == 409 and "Phiếu đã được sửa ở nơi khác" in text(r)
    r = m.post(sheet_url, data=data | {"action": "delete"})
    assert r.status_code == 400


def test_english_pages(env, world):
    seats, pid = world
    rid = open_round_with(env, seats, [pid])
    m = member(env, "m1")
    m.post("/language", data={"csrf_token": token_of(m, "/"), "locale": "en"})
    page = text(m.get(f"/rounds/{rid}/products/{pid}/sheet"))
    assert "Save draft" in page and "Submit the sheet" in page and "Lưu nháp" not in page
    assert "Products waiting for your score" in text(m.get("/queue"))
    assert "Open for scoring" in text(m.get(f"/rounds/{rid}"))
    assert len(MEMBERS) == 3 and meeting_day() > meeting_day() - timedelta(days=1)
