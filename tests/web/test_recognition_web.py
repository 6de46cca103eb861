"""Issue #10 on the web: recognition decisions (draft, remove, delete, sign), certificates (list, page,
revoke), the product page's certificates and decisions, the product list's certificate column, and a
province's certificate number format. Who may do what (403 with the reason, 404 outside the scope),
CSRF, and bad input as a translated 4xx."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from conftest import csrf, login, text
from sqlalchemy import select

from ocop_workflow.models import Certificate, Organisation, Product, RecognitionDecision, User
from ocop_workflow.services import directory
from ocop_workflow.services.access import Actor
from ocop_workflow.services.certificates import local_day
from tests.helpers import rate, recognise
from tests.test_certificate_pdf import qr_of, render, run

CHAIR = "chutich.lucngan@test.ocop.vn"


def add_district_chair(env) -> str:
    """The chair of Lục Ngạn's People's Committee (the fixture's users have none at district level)."""
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        hashed = s.scalar(select(User.password_hash).where(User.email == env.world.emails["dsec"]))
        user = directory.create_user(s, email=CHAIR, name="Chủ tịch UBND huyện Lục Ngạn", password=None)
        user.password_hash = hashed
        district = s.get(Organisation, env.world.orgs["D1"])
        system = Actor.system_actor(registry.policy)
        directory.add_membership(s, registry, user, district, "district_chair", actor=system)
    return CHAIR


def login_email(client, env, email: str):
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


def awaiting(env, name: str, score: float = 60) -> int:
    """A product of C1 whose district council scored `score` (3★ under 148): it awaits the district's decision."""
    pid = env.product(name=name)
    env.to_district(pid)
    assert rate(env.db, env.app.extensions["ocop"].registry, pid, "rate_district", score) == "district_recognition"
    return pid


@pytest.fixture
def chair(env):
    return login_email(env.app.test_client(), env, add_district_chair(env))


def decision_id_of(response) -> int:
    return int(re.search(r"/decisions/(\d+)$", response.headers["Location"]).group(1))


def draft(client, env, product_ids: list[int], **extra) -> int:
    token = csrf(client, "/decisions/new")
    data = {"csrf_token": token, "organisation_id": str(env.world.orgs["D1"])}
    data["product_id"] = [str(p) for p in product_ids]
    r = client.post("/decisions/new", data=data | extra)
    assert r.status_code == 302, text(r)
    return decision_id_of(r)


def sign_data(client, did: int, **extra) -> dict:
    page = text(client.get(f"/decisions/{did}"))
    version = re.search(r'name="expected_version" type="hidden" value="(\d+)"', page) or re.search(
        r'name="expected_version" value="(\d+)"', page
    )
    return {
        "csrf_token": csrf(client, f"/decisions/{did}"),
        "number": "15/QĐ-UBND",
        "signed_on": local_day().strftime("%d/%m/%Y"),
        "signer_title": "CHỦ TỊCH",
        "expected_version": version.group(1) if version else "",
    } | extra


def test_draft_and_sign_a_decision(env, chair):
    vai = awaiting(env, "Vải thiều Lục Ngạn", 62.5)
    banh = awaiting(env, "Bánh đa Kế", 55)
    sec = login(env.app.test_client(), env, "dsec")
    page = text(sec.get("/decisions"))
    assert "Chờ quyết định công nhận" in page and "Vải thiều Lục Ngạn" in page and "Bánh đa Kế" in page
    assert "Không qua đợt đánh giá" in page  # rated without a round: its own group
    form = text(sec.get(f"/decisions/new?organisation={env.world.orgs['D1']}"))
    assert f'value="{vai}" checked' in form and f'value="{banh}" checked' in form

    token = csrf(sec, "/decisions/new")
    base = {"csrf_token": token, "organisation_id": str(env.world.orgs["D1"])}
    r = sec.post("/decisions/new", data=base)
    assert r.status_code == 422 and "Hãy chọn ít nhất một sản phẩm cho quyết định." in text(r)
    r = sec.post("/decisions/new", data=base | {"product_id": "abc"})
    assert r.status_code == 400
    outsider = env.product(name="Chưa tới huyện")
    r = sec.post("/decisions/new", data=base | {"product_id": str(outsider)})
    assert r.status_code == 422 and "không chờ quyết định công nhận của Lục Ngạn" in text(r)
    r = sec.post("/decisions/new", data=base | {"product_id": [str(vai), str(banh)], "title": "x" * 301})
    assert r.status_code == 422 and "300" in text(r)
    did = draft(sec, env, [vai, banh])

    page = text(sec.get(f"/decisions/{did}"))
    assert "Dự thảo" in page and "Về việc công nhận sản phẩm đạt chuẩn OCOP" in page
    assert "62,50" in page and "55,00" in page  # scores with the Vietnamese decimal comma
    assert 'id="sign-form"' not in page  # the secretariat drafts, the chair signs
    assert 'id="delete-draft"' in page and "Bỏ khỏi dự thảo" in page
    r = sec.get(f"/decisions/{did}/decision.docx")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    assert r.data.startswith(b"PK")  # a DOCX (a zip)
    # the product page: the signing step is done on the decision's page
    product_page = text(sec.get(f"/products/{vai}"))
    assert "Bước này được thực hiện khi ký quyết định công nhận" in product_page
    assert f"/decisions/{did}" in product_page and 'id="product-decisions"' in product_page
    # the secretariat may not sign: 403 with the reason
    r = sec.post(f"/decisions/{did}/sign", data=sign_data(sec, did))
    assert r.status_code == 403 and "ký quyết định công nhận" in text(r)

    page = text(chair.get(f"/decisions/{did}"))
    assert 'id="sign-form"' in page and local_day().strftime("%d/%m/%Y") in page
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did, signed_on="31/02/2026"))
    assert r.status_code == 422 and "Nhập ngày theo dạng dd/mm/yyyy." in text(r)
    tomorrow = (local_day() + timedelta(days=1)).strftime("%d/%m/%Y")
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did, signed_on=tomorrow))
    assert r.status_code == 422 and "ở tương lai" in text(r)
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did, number=""))
    assert r.status_code == 422 and "Trường này là bắt buộc." in text(r)
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did, expected_version="999"))
    assert r.status_code == 409
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did))
    assert r.status_code == 302
    page = text(chair.get(f"/decisions/{did}"))
    assert "cấp 2 giấy chứng nhận" in page  # the flash
    assert "Đã ký" in page and "15/QĐ-UBND" in page and 'id="decision-certificates"' in page
    with env.db.session() as s:
        codes = list(s.scalars(select(Certificate.code).where(Certificate.decision_id == did)))
        states = {p.name: p.state for p in s.scalars(select(Product).where(Product.id.in_([vai, banh])))}
    assert len(codes) == 2 and all(code in page for code in codes)
    assert set(states.values()) == {"rated"}
    assert 'id="sign-form"' not in page
    # the signed DOCX was filed in the dossiers: the page links the filed copy
    filed = re.search(r'href="(/documents/\d+[^"]*)" id="filed-docx"', page)
    assert filed, "no link to the filed decision"
    with chair.get(filed.group(1)) as r:
        assert r.status_code == 200 and r.data.startswith(b"PK")
    # signing twice is refused with a translated 409
    r = chair.post(f"/decisions/{did}/sign", data=sign_data(chair, did) | {"expected_version": ""})
    assert r.status_code == 409 and "đã được ký" in text(r)

    # the product page: certified, with its certificate; the list shows the certificate's status
    product_page = text(sec.get(f"/products/{vai}"))
    assert 'id="certified"' in product_page and "được công nhận" in product_page
    assert 'id="product-certificates"' in product_page and "Còn hiệu lực" in product_page
    listing = text(sec.get("/products"))
    assert listing.count('class="cert-cell"') >= 2 and "Còn hiệu lực" in listing


def test_decisions_and_certificates_are_404_outside_and_csrf_is_enforced(env, chair):
    pid = awaiting(env, "Vải thiều Lục Ngạn")
    sec = login(env.app.test_client(), env, "dsec")
    did = draft(sec, env, [pid])
    other = login(env.app.test_client(), env, "officer3")  # commune of another district
    assert other.get(f"/decisions/{did}").status_code == 404
    assert other.get(f"/decisions/{did}/decision.docx").status_code == 404
    assert "Vải thiều Lục Ngạn" not in text(other.get("/decisions"))
    assert sec.get("/decisions/999999").status_code == 404
    # an officer drafts nothing: 403 with the reason
    officer = login(env.app.test_client(), env, "officer")
    r = officer.get("/decisions/new")
    assert r.status_code == 403 and "soạn quyết định công nhận" in text(r)
    # forms without their CSRF token
    posts = [
        ("/decisions/new", {"organisation_id": str(env.world.orgs["D1"]), "product_id": str(pid)}),
        (f"/decisions/{did}/delete", {}),
        (f"/decisions/{did}/products/{pid}/remove", {}),
    ]
    for url, data in posts:
        r = sec.post(url, data=data)
        assert r.status_code == 400 and "hết hạn" in text(r), url
    r = chair.post(f"/decisions/{did}/sign", data={"number": "1/QĐ", "signed_on": "01/01/2026"})
    assert r.status_code == 400
    r = sec.get("/certificates/OCOP-KHONG-CO-99999")
    assert r.status_code == 404 and "Không có giấy chứng nhận OCOP nào mang số" in text(r)
    assert sec.get("/certificates/%3Cscript%3E").status_code == 404


def test_remove_a_product_and_delete_the_draft(env):
    vai = awaiting(env, "Vải thiều Lục Ngạn")
    banh = awaiting(env, "Bánh đa Kế")
    sec = login(env.app.test_client(), env, "dsec")
    did = draft(sec, env, [vai, banh])
    token = csrf(sec, f"/decisions/{did}")
    with env.db.session() as s:
        version = s.get(RecognitionDecision, did).version
    r = sec.post(f"/decisions/{did}/products/{banh}/remove", data={"csrf_token": token, "expected_version": "999"})
    assert r.status_code == 409
    r = sec.post(f"/decisions/{did}/products/{banh}/remove", data={"csrf_token": token, "expected_version": version})
    assert r.status_code == 302
    page = text(sec.get(f"/decisions/{did}"))
    assert "Bánh đa Kế" not in page.split('id="decision-products"')[1]
    assert "Bánh đa Kế" in text(sec.get("/decisions"))  # still awaiting, in the panel
    r = sec.post(f"/decisions/{did}/products/{vai}/remove", data={"csrf_token": token})
    assert r.status_code == 422 and "Dự thảo phải có ít nhất một sản phẩm" in text(r)
    r = sec.post(f"/decisions/{did}/products/{banh}/remove", data={"csrf_token": token})
    assert r.status_code == 404
    r = sec.post(f"/decisions/{did}/delete", data={"csrf_token": token, "expected_version": "x"})
    assert r.status_code == 400
    r = sec.post(f"/decisions/{did}/delete", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/decisions")
    assert sec.get(f"/decisions/{did}").status_code == 404


def signed(env, names: list[str]) -> list[str]:
    add_district_chair(env)
    ids = [awaiting(env, n) for n in names]
    _did, codes = recognise(
        env.db,
        env.app.extensions["ocop"].registry,
        ids,
        drafter=env.world.emails["dsec"],
        signer=CHAIR,
        organisation_id=env.world.orgs["D1"],
        number="7/QĐ-UBND",
    )
    return codes


def test_certificate_list_page_and_revocation(env, tmp_path):
    code, other_code = signed(env, ["Vải thiều Lục Ngạn", "Bánh đa Kế"])
    chair = login_email(env.app.test_client(), env, CHAIR)
    sec = login(env.app.test_client(), env, "dsec")
    page = text(sec.get("/certificates"))
    assert code in page and other_code in page and "Còn hiệu lực" in page
    found = text(sec.get("/certificates?q=vai+thieu"))  # without diacritics
    assert "Vải thiều Lục Ngạn" in found and "Bánh đa Kế" not in found
    assert code not in text(sec.get("/certificates?status=revoked"))
    assert code in text(sec.get("/certificates?status=valid"))
    assert sec.get("/certificates?status=nonsense&page=abc").status_code == 200

    page = text(sec.get(f"/certificates/{code}"))
    assert "Còn hiệu lực" in page and "/xac-minh/" + code in page and "7/QĐ-UBND" in page
    assert local_day().strftime("%d/%m/%Y") in page
    r = sec.get(f"/certificates/{code}/certificate.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    # the downloaded certificate, read back: the name with its diacritics, and the QR code of its public page
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(r.data)
    printed = run("pdftotext", str(pdf), "-")
    assert "Vải thiều Lục Ngạn" in printed
    with env.db.session() as s:  # the paper and the page give the same last valid day
        expires = s.scalar(select(Certificate.expires_on).where(Certificate.code == code))
    last_day = (expires - timedelta(days=1)).strftime("%d/%m/%Y")
    assert last_day in printed and expires.strftime("%d/%m/%Y") not in printed
    assert f'Có giá trị đến hết ngày</dt><dd id="certificate-expires">{last_day}' in text(
        sec.get(f"/certificates/{code}")
    )
    base_url = env.app.extensions["ocop"].settings.base_url.rstrip("/")
    assert qr_of(render(pdf, "web-certificate")) == [f"{base_url}/xac-minh/{code}"]
    assert 'id="revoke-form"' in text(chair.get(f"/certificates/{code}"))

    # a commune officer sees the certificate of its product but may not revoke it
    officer = login(env.app.test_client(), env, "officer")
    assert 'id="revoke-form"' not in text(officer.get(f"/certificates/{code}"))
    token = csrf(officer, f"/certificates/{code}")
    r = officer.post(f"/certificates/{code}/revoke", data={"csrf_token": token, "reason": "x", "decision_number": "1"})
    assert r.status_code == 403 and "thu hồi giấy chứng nhận OCOP" in text(r)
    other = login(env.app.test_client(), env, "officer3")
    assert other.get(f"/certificates/{code}").status_code == 404
    assert code not in text(other.get("/certificates"))

    token = csrf(chair, f"/certificates/{code}")
    r = chair.post(f"/certificates/{code}/revoke", data={"reason": "Giả mạo", "decision_number": "9/QĐ-UBND"})
    assert r.status_code == 400
    r = chair.post(f"/certificates/{code}/revoke", data={"csrf_token": token, "reason": "", "decision_number": "9"})
    assert r.status_code == 422 and "Trường này là bắt buộc." in text(r)
    tomorrow = (local_day() + timedelta(days=1)).strftime("%d/%m/%Y")
    data = {"csrf_token": token, "reason": "Sản phẩm bị làm giả nhãn", "decision_number": "9/QĐ-UBND"}
    r = chair.post(f"/certificates/{code}/revoke", data=data | {"revoked_on": tomorrow})
    assert r.status_code == 422 and "Ngày thu hồi phải từ ngày cấp" in text(r)
    r = chair.post(f"/certificates/{code}/revoke", data=data | {"revoked_on": "hôm qua"})
    assert r.status_code == 422 and "dd/mm/yyyy" in text(r)
    r = chair.post(f"/certificates/{code}/revoke", data=data)
    assert r.status_code == 302
    page = text(chair.get(f"/certificates/{code}"))
    assert "bị thu hồi từ ngày" in page and "Đã bị thu hồi" in page and "Sản phẩm bị làm giả nhãn" in page
    assert 'id="revoke-form"' not in page
    r = chair.post(f"/certificates/{code}/revoke", data=data)
    assert r.status_code == 409 and "không thu hồi được" in text(r)
    assert code in text(sec.get("/certificates?status=revoked"))
    with env.db.session() as s:
        pid = s.scalar(select(Certificate.product_id).where(Certificate.code == code))
    product_page = text(sec.get(f"/products/{pid}"))
    assert 'id="certified"' not in product_page and 'id="not-certified"' in product_page


def test_expired_certificates_show_as_expired(env):
    (code,) = signed(env, ["Vải thiều Lục Ngạn"])
    with env.db.transaction() as s:
        cert = s.scalars(select(Certificate).where(Certificate.code == code)).one()
        cert.issued_on = date(2020, 1, 1)
        cert.expires_on = date(2023, 1, 1)
        pid = cert.product_id
    sec = login(env.app.test_client(), env, "dsec")
    assert "Đã hết hạn" in text(sec.get(f"/certificates/{code}"))
    assert code in text(sec.get("/certificates?status=expired"))
    assert code not in text(sec.get("/certificates?status=valid"))
    product_page = text(sec.get(f"/products/{pid}"))
    assert 'id="certified"' not in product_page and "Đã hết hạn" in product_page
    # no valid certificate: the commune may apply again for a first rating
    officer = login(env.app.test_client(), env, "officer")
    page = text(officer.get(f"/products/{pid}"))
    assert 'id="step-apply_again"' in page
    # the expiry notices link to the re-evaluation step: that anchor is on the page
    from ocop_workflow.reminders.messages import reevaluation_link

    assert f'id="{reevaluation_link(pid).split("#")[1]}"' in page
    upgrade = page.split('id="step-apply_upgrade"')[1].split("</form>")[0]
    assert "Chưa thực hiện được:" in upgrade  # an upgrade needs a valid certificate: said on the step


def test_province_certificate_number_format(env):
    sec = login(env.app.test_client(), env, "psec")
    province = env.world.orgs["P"]
    url = f"/organisations/{province}/certificate-format"
    page = text(sec.get(url))
    year = local_day().year
    assert f"OCOP-P-{year}-00001" in page
    assert f'href="{url}"' in text(sec.get("/certificates"))
    token = csrf(sec, url)
    r = sec.post(url, data={"format": "BG-{seq}"})
    assert r.status_code == 400
    r = sec.post(url, data={"csrf_token": token, "format": "BG-{foo}-{seq}"})
    assert r.status_code == 422 and "Mẫu số giấy chứng nhận không hợp lệ" in text(r) and "foo" in text(r)
    r = sec.post(url, data={"csrf_token": token, "format": "BG/{province}/{seq}"})
    assert r.status_code == 422 and "chỉ dùng chữ không dấu" in text(r)
    r = sec.post(url, data={"csrf_token": token, "format": "BG-{province}-{year}-{seq:04d}"})
    assert r.status_code == 302
    page = text(sec.get(url))
    assert f"BG-P-{year}-0001" in page and "Đã lưu mẫu số" in page
    with env.db.session() as s:
        assert s.get(Organisation, province).certificate_format == "BG-{province}-{year}-{seq:04d}"
    # a district is not a province; a district secretariat may not set the format; out of scope is 404
    r = sec.post(f"/organisations/{env.world.orgs['D1']}/certificate-format", data={"csrf_token": token, "format": ""})
    assert r.status_code in (403, 422)
    dsec = login(env.app.test_client(), env, "dsec")
    r = dsec.get(url)
    assert r.status_code in (403, 404)
    r = login(env.app.test_client(), env, "officer3").get(url)
    assert r.status_code in (403, 404)
    # the next certificate follows the format
    (code,) = signed(env, ["Vải thiều Lục Ngạn"])
    assert code == f"BG-P-{year}-0001"


def test_the_round_page_links_the_draft_of_its_closed_round(env):
    from rounds_world import open_round_with, setup_council

    from ocop_workflow.exports import close_round_and_file_minutes
    from ocop_workflow.services import rounds as round_service
    from ocop_workflow.services import sheets
    from tests.rounds_setup import parts

    registry = env.app.extensions["ocop"].registry
    seats = setup_council(env)
    pid = env.product(name="Vải thiều Lục Ngạn")
    env.to_district(pid)
    rid = open_round_with(env, seats, [pid], name="Đợt tháng 12")
    for key in ("m1", "m2", "m3"):
        with env.db.transaction() as s:
            from ocop_workflow.services.access import load_actor

            sheets.save_sheet(s, registry, load_actor(s, seats.emails[key]), rid, pid, parts(60), submit=True)
    st = env.app.extensions["ocop"]
    with env.db.transaction() as s:
        dsec = env.actor(s, "dsec")
        round_service.close_product(s, registry, dsec, rid, pid)
    with env.db.transaction() as s:
        close_round_and_file_minutes(
            s, registry, env.actor(s, "dsec"), rid, upload_dir=st.upload_dir, max_bytes=st.max_upload_bytes
        )
    sec = login(env.app.test_client(), env, "dsec")
    page = text(sec.get(f"/rounds/{rid}"))
    assert "Soạn quyết định công nhận" in page and f"round={rid}" in page
    panel = text(sec.get("/decisions"))
    assert "Đợt tháng 12" in panel and f"round={rid}" in panel
    form = text(sec.get(f"/decisions/new?organisation={env.world.orgs['D1']}&round={rid}"))
    assert "Đợt tháng 12" in form and f'value="{pid}" checked' in form
    did = draft(sec, env, [pid], round_id=str(rid))
    assert "Đợt tháng 12" in text(sec.get(f"/decisions/{did}"))
    # once in a draft, nothing of the round awaits: no link
    assert "Soạn quyết định công nhận" not in text(sec.get(f"/rounds/{rid}"))
    # a member of the council (no drafting right) never sees the link
    officer = login(env.app.test_client(), env, "dcouncil")
    assert "Soạn quyết định công nhận" not in text(officer.get(f"/rounds/{rid}"))


def test_pages_in_english(env):
    from test_i18n import VI_UI_WORDS

    (code,) = signed(env, ["Vải thiều Lục Ngạn"])
    pending = awaiting(env, "Bánh đa Kế")
    sec = login(env.app.test_client(), env, "dsec")
    did = draft(sec, env, [pending])
    with env.db.session() as s:
        pid = s.scalar(select(Certificate.product_id).where(Certificate.code == code))
    pages = {}
    for key, client in (("dsec", sec), ("psec", login(env.app.test_client(), env, "psec"))):
        client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": "en"})
        pages[key] = client
    expected = {
        "/certificates": ["OCOP certificates", "Valid"],
        f"/certificates/{code}": ["Public verification page", "Recognised by", "Valid through"],
        "/decisions": ["Recognition decisions", "Signed", "Draft"],
        f"/decisions/{did}": ["Draft decision", "Draft (DOCX)", "Delete the draft"],
        f"/products/{pid}": ["Certificates", "certified", "Recognition decisions"],
        f"/products/{pending}": ["Done by signing the recognition decision", "Open the draft decision"],
        "/products": ["Certificate", "Valid"],
    }
    for url, words in expected.items():
        body = text(pages["dsec"].get(url))
        assert all(w in body for w in words), (url, [w for w in words if w not in body])
        assert not VI_UI_WORDS.search(body), (url, VI_UI_WORDS.search(body))
    body = text(pages["psec"].get(f"/organisations/{env.world.orgs['P']}/certificate-format"))
    assert "Certificate number format" in body and "Next number looks like" in body
