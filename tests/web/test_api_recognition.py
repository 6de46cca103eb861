"""Issue #10 through the API: a district's recognition decision drafted, refused, signed; the certificate it
issues on the product, in the lists, as a PDF, revoked; the public verification without a token, and every
refusal as a translated problem (each response checked against the OpenAPI document by `ApiClient`)."""

from __future__ import annotations

import io
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from api_client import API, ApiClient, issue, problem_of
from conftest import Env
from docx import Document as Docx
from sqlalchemy import update
from test_public_pages import FIELDS

from ocop_workflow.models import Certificate, Organisation
from ocop_workflow.services import directory, tokens
from ocop_workflow.services.access import Actor
from ocop_workflow.services.certificates import local_day

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.helpers import rate

NUMBER = "12/QĐ-UBND"
# what the public lookup may answer: the public page's JSON fields, never a person, a score or an id
PUBLIC_FIELDS = FIELDS


def new_user(env: Env, key: str, role: str, org: str) -> str:
    """A user with one role (the web world has no district chair) and an API token for them."""
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        user = directory.create_user(s, email=f"{key}@test.ocop.vn", name=f"Người dùng {key}", password=None)
        directory.add_membership(
            s, registry, user, s.get(Organisation, env.world.orgs[org]), role, actor=Actor.system_actor(registry.policy)
        )
        s.flush()
        return tokens.create_token(s, user, name="test").token


def awaiting(env: Env, name: str) -> int:
    """A 148 product the district council rated 60 (3★): it awaits the district's recognition decision."""
    pid = env.product(name=name)
    env.to_district(pid)
    assert rate(env.db, env.app.extensions["ocop"].registry, pid, "rate_district", 60) == "district_recognition"
    return pid


@pytest.fixture
def setup(env: Env):
    api = ApiClient(env.app, issue(env, "dsec"))
    who = {
        "dsec": api,
        "dchair": api.as_(issue(env, "dchair")),
        "officer": api.as_(issue(env, "officer")),
        "officer3": api.as_(issue(env, "officer3")),
    }
    return env, who


def draft(api: ApiClient, env: Env, products: list[int]) -> dict:
    r = api.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D1"], "product_ids": products})
    assert r.status_code == 201, r.get_json()
    assert r.headers["Location"].endswith(f"/decisions/{r.get_json()['id']}")
    return r.get_json()


def test_a_decision_signed_issues_a_certificate_that_anyone_can_verify(setup):
    env, who = setup
    dsec, dchair = who["dsec"], who["dchair"]
    pid = awaiting(env, "Vải thiều Lục Ngạn")
    product = dsec.get(f"{API}/products/{pid}").get_json()
    assert (product["state"], product["star"], product["certified"], product["certificate"]) == (
        "district_recognition",
        3,
        False,
        None,
    )

    body = draft(dsec, env, [pid])
    did, version = body["id"], body["version"]
    assert (body["status"], body["number"], body["can_edit"], body["can_sign"]) == ("draft", None, True, False)
    assert [(e["product"]["id"], e["star"], e["certificate"]) for e in body["entries"]] == [(pid, 3, None)]
    assert [d["id"] for d in dsec.get(f"{API}/decisions?status=draft").get_json()["items"]] == [did]
    assert dsec.get(f"{API}/decisions?status=signed").get_json()["items"] == []
    assert dchair.get(f"{API}/decisions/{did}").get_json()["can_sign"] is True

    # the secretariat drafts but does not sign; the chair signs from the version read, today or earlier
    problem_of(dsec.post(f"{API}/decisions/{did}/sign", json={"number": NUMBER}), 403, "permission_denied")
    stale = dchair.post(f"{API}/decisions/{did}/sign", json={"number": NUMBER, "version": version + 7})
    problem_of(stale, 409, "stale_version")
    tomorrow = (local_day() + timedelta(days=1)).isoformat()
    future = dchair.post(
        f"{API}/decisions/{did}/sign",
        json={"number": NUMBER, "signed_on": tomorrow},
        headers={"Accept-Language": "vi"},
    )
    assert "ở tương lai" in problem_of(future, 422, "invalid_data")["detail"]
    bad_day = dchair.post(f"{API}/decisions/{did}/sign", json={"number": NUMBER, "signed_on": "2026-02-30"})
    problem_of(bad_day, 422, "invalid_data")
    empty = dchair.post(f"{API}/decisions/{did}/sign", json={"number": ""}, headers={"Accept-Language": "en"})
    assert problem_of(empty, 400, "invalid_request")["invalid_params"][0]["reason"] == "The decision number is required"

    signed = dchair.post(f"{API}/decisions/{did}/sign", json={"number": NUMBER, "version": version})
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert (body["status"], body["number"], body["signed_on"], body["can_sign"]) == (
        "signed",
        NUMBER,
        local_day().isoformat(),
        False,
    )
    code = body["entries"][0]["certificate"]
    assert code and code.startswith("OCOP-")
    problem_of(dchair.post(f"{API}/decisions/{did}/sign", json={"number": "13/QĐ-UBND"}), 409, "conflict")

    # the product is certified today, with its certificate, on its page, in the list and its certificates
    product = dsec.get(f"{API}/products/{pid}").get_json()
    assert (product["state"], product["certified"]) == ("rated", True)
    assert product["certificate"]["code"] == code and product["certificate"]["status"] == "valid"
    assert (
        product["certificate"]["expires_on"]
        == date.fromisoformat(body["signed_on"]).replace(year=local_day().year + 3).isoformat()
    )
    listed = {p["id"]: p for p in dsec.get(f"{API}/products").get_json()["items"]}
    assert listed[pid]["certified"] is True and listed[pid]["certificate"]["code"] == code
    own = dsec.get(f"{API}/products/{pid}/certificates").get_json()["items"]
    assert [c["code"] for c in own] == [code]
    cert = dsec.get(f"{API}/certificates/{code}", headers={"Accept-Language": "vi"}).get_json()
    assert (cert["status"], cert["status_label"], cert["star"], cert["level"]) == (
        "valid",
        "Còn hiệu lực",
        3,
        "district",
    )
    assert cert["decision"] == {"id": did, "number": NUMBER, "signed_on": body["signed_on"]}
    assert cert["organisation"]["code"] == "D1" and cert["verify_url"].endswith(f"/xac-minh/{code}")
    assert [c["code"] for c in dsec.get(f"{API}/certificates?status=valid").get_json()["items"]] == [code]
    assert dsec.get(f"{API}/certificates?status=revoked").get_json()["items"] == []
    problem_of(dsec.get(f"{API}/certificates?status=nonsense"), 400, "invalid_request")

    # the files
    pdf = dsec.get(f"{API}/certificates/{code}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].endswith('.pdf"') and pdf.headers["Cache-Control"] == "private, no-store"
    docx = dsec.get(f"{API}/decisions/{did}/docx")
    assert docx.status_code == 200 and docx.headers["Content-Disposition"].endswith('.docx"')
    assert NUMBER in "\n".join(p.text for p in Docx(io.BytesIO(docx.data)).paragraphs)
    english = dsec.get(f"{API}/decisions/{did}/docx", headers={"Accept-Language": "en"})
    words = "\n".join(p.text for p in Docx(io.BytesIO(english.data)).paragraphs)
    assert "QUYẾT ĐỊNH" in words and "DECISION" not in words  # the legal text stays in Vietnamese

    # out of scope: another district's officer sees none of it
    other = who["officer3"]
    problem_of(other.get(f"{API}/certificates/{code}"), 404, "not_found")
    problem_of(other.get(f"{API}/certificates/{code}/pdf"), 404, "not_found")
    problem_of(other.get(f"{API}/decisions/{did}"), 404, "not_found")
    problem_of(other.get(f"{API}/products/{pid}/certificates"), 404, "not_found")
    assert other.get(f"{API}/certificates").get_json()["items"] == []
    assert other.get(f"{API}/decisions").get_json()["items"] == []

    # anyone, without a token, verifies the code and learns only the public facts
    public = dsec.get(f"{API}/verify/{code}", token=None, headers={"Accept-Language": "vi"})
    assert public.status_code == 200 and "public" in public.headers["Cache-Control"]
    assert public.headers["Access-Control-Allow-Origin"] == "*" and public.headers.get("ETag")
    answer = public.get_json()
    page_json = env.app.test_client().get(f"/xac-minh/{code}.json").get_json()
    assert answer == page_json  # the API and the public page's JSON give one answer
    facts = answer["certificate"]
    assert set(facts) == PUBLIC_FIELDS
    assert (facts["product_name"], facts["commune"]["name"], facts["province"]["name"], facts["star"]) == (
        "Vải thiều Lục Ngạn",
        "Phượng Sơn",
        "Bắc Giang",
        3,
    )
    assert (facts["status"], facts["status_label"]["vi"], facts["recognised_by"]["name"], facts["valid"]) == (
        "valid",
        "Còn hiệu lực",
        "Lục Ngạn",
        True,
    )
    assert facts["decision"] == {"number": NUMBER, "date": body["signed_on"]}
    assert "@" not in str(facts) and "Người dùng" not in str(facts)


def test_revoking_a_certificate_ends_the_products_certification(setup):
    env, who = setup
    dsec, dchair = who["dsec"], who["dchair"]
    pid = awaiting(env, "Mỳ Chũ")
    did = draft(dsec, env, [pid])["id"]
    code = dchair.post(f"{API}/decisions/{did}/sign", json={"number": NUMBER}).get_json()["entries"][0]["certificate"]
    url = f"{API}/certificates/{code}/revoke"
    reasons = {"reason": "Sản phẩm không còn đạt tiêu chuẩn an toàn thực phẩm", "decision_number": "5/QĐ-UBND"}

    problem_of(who["officer"].post(url, json=reasons), 403, "permission_denied")
    problem_of(who["officer3"].post(url, json=reasons), 404, "not_found")
    missing = dsec.post(url, json={"decision_number": "5/QĐ-UBND"}, headers={"Accept-Language": "vi"})
    assert problem_of(missing, 400, "invalid_request")["detail"] == "Lý do: bắt buộc phải có"
    blank = dsec.post(url, json={**reasons, "reason": "   "}, headers={"Accept-Language": "en"})
    assert problem_of(blank, 422, "invalid_data")["detail"] == "A reason for the revocation is required"
    later = (local_day() + timedelta(days=3)).isoformat()
    problem_of(dsec.post(url, json={**reasons, "revoked_on": later}), 422, "invalid_data")
    problem_of(dsec.post(url, json={**reasons, "revoked_on": "yesterday"}), 400, "invalid_request")

    r = dsec.post(url, json=reasons, headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.get_json()
    cert = r.get_json()
    assert (cert["status"], cert["status_label"], cert["revoked_on"], cert["revoke_decision"]) == (
        "revoked",
        "Revoked",
        local_day().isoformat(),
        "5/QĐ-UBND",
    )
    assert cert["revoke_reason"] == reasons["reason"] and cert["revoked_by"]["name"] == "Người dùng dsec"
    product = dsec.get(f"{API}/products/{pid}").get_json()
    assert product["certified"] is False and product["certificate"]["status"] == "revoked"
    assert [c["code"] for c in dsec.get(f"{API}/certificates?status=revoked").get_json()["items"]] == [code]
    assert dsec.get(f"{API}/certificates?status=valid").get_json()["items"] == []
    again = dsec.post(url, json=reasons, headers={"Accept-Language": "vi"})
    assert "không thu hồi được" in problem_of(again, 409, "conflict")["detail"]

    # the public lookup says revoked, with the day and the decision, but not the internal reason
    facts = dsec.get(f"{API}/verify/{code}", token=None, headers={"Accept-Language": "vi"}).get_json()["certificate"]
    assert (facts["status"], facts["status_label"]["vi"], facts["revoked"]) == (
        "revoked",
        "Đã bị thu hồi",
        {"on": local_day().isoformat(), "decision_number": "5/QĐ-UBND"},
    )
    assert reasons["reason"] not in str(facts)


def test_certified_follows_the_expiry_date(setup):
    """Time travel by the certificate's dates: inside the notice window it still counts (expiring); from its
    expiry day on it does not, without anything having run."""
    env, who = setup
    dsec = who["dsec"]
    pid = awaiting(env, "Chè Yên Thế")
    did = draft(dsec, env, [pid])["id"]
    code = (
        who["dchair"]
        .post(f"{API}/decisions/{did}/sign", json={"number": NUMBER})
        .get_json()["entries"][0]["certificate"]
    )
    today = local_day()

    def dated(issued: date, expires: date) -> dict:
        with env.db.transaction() as s:
            s.execute(update(Certificate).where(Certificate.code == code).values(issued_on=issued, expires_on=expires))
        return dsec.get(f"{API}/products/{pid}").get_json()

    product = dated(today - timedelta(days=1000), today + timedelta(days=30))
    assert (product["certified"], product["certificate"]["status"]) == (True, "expiring")
    assert [c["code"] for c in dsec.get(f"{API}/certificates?status=expiring").get_json()["items"]] == [code]
    product = dated(today - timedelta(days=1000), today + timedelta(days=1))
    assert (product["certified"], product["certificate"]["status"]) == (True, "expiring")
    product = dated(today - timedelta(days=1001), today)
    assert (product["certified"], product["certificate"]["status"]) == (False, "expired")
    listed = {p["id"]: p for p in dsec.get(f"{API}/products").get_json()["items"]}
    assert listed[pid]["certified"] is False
    assert [c["code"] for c in dsec.get(f"{API}/certificates?status=expired").get_json()["items"]] == [code]
    facts = dsec.get(f"{API}/verify/{code}", token=None, headers={"Accept-Language": "vi"}).get_json()["certificate"]
    assert (facts["status"], facts["status_label"]["vi"], facts["valid"]) == ("expired", "Đã hết hạn", False)


def test_a_draft_is_changed_or_deleted_but_not_once_signed(setup):
    env, who = setup
    dsec, dchair = who["dsec"], who["dchair"]
    first, second = awaiting(env, "Vải thiều"), awaiting(env, "Mật ong")
    body = draft(dsec, env, [first, second])
    did, version = body["id"], body["version"]
    # a product already in a draft cannot be in a second one
    again = dsec.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D1"], "product_ids": [first]})
    assert f"#{first}" in problem_of(again, 422, "invalid_data")["detail"]
    en = {"Accept-Language": "en"}
    nothing = dsec.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D1"]}, headers=en)
    assert problem_of(nothing, 422, "invalid_data")["detail"] == "No product awaits Lục Ngạn's recognition decision"
    problem_of(dsec.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D2"]}), 404, "not_found")
    # the province's secretariat sees the district but drafts only the province's decisions
    psec = dsec.as_(issue(env, "psec"))
    problem_of(psec.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D1"]}), 403, "permission_denied")

    remove = f"{API}/decisions/{did}/remove-product"
    problem_of(dsec.post(remove, json={"product_id": first, "version": version + 1}), 409, "stale_version")
    problem_of(dchair.post(remove, json={"product_id": first}), 403, "permission_denied")
    r = dsec.post(remove, json={"product_id": first, "version": version})
    assert r.status_code == 200, r.get_json()
    assert [e["product"]["id"] for e in r.get_json()["entries"]] == [second]
    problem_of(dsec.post(remove, json={"product_id": first}), 404, "not_found")
    problem_of(dsec.post(remove, json={"product_id": second}), 422, "invalid_data")  # not the last one

    version = r.get_json()["version"]
    problem_of(dsec.open("DELETE", f"{API}/decisions/{did}?version={version + 1}"), 409, "stale_version")
    gone = dsec.open("DELETE", f"{API}/decisions/{did}?version={version}")
    assert gone.status_code == 200 and gone.get_json() == {"id": did, "deleted": True}
    problem_of(dsec.get(f"{API}/decisions/{did}"), 404, "not_found")

    # the removed product is free again: a new draft of all that await, signed, cannot be deleted
    body = dsec.post(f"{API}/decisions", json={"organisation_id": env.world.orgs["D1"]}).get_json()
    assert sorted(e["product"]["id"] for e in body["entries"]) == sorted([first, second])
    assert dchair.post(f"{API}/decisions/{body['id']}/sign", json={"number": NUMBER}).status_code == 200
    problem_of(dsec.open("DELETE", f"{API}/decisions/{body['id']}"), 409, "conflict")
    problem_of(dsec.post(f"{API}/decisions/{body['id']}/remove-product", json={"product_id": first}), 409, "conflict")


@pytest.mark.parametrize(
    "code",
    ["OCOP-BG-2026-99999", "x", "a" * 300, "Vải-thiều", "..%2F..%2Fetc", "%00", "OCOP BG"],
)
def test_an_unknown_or_malformed_code_is_a_clear_404(env: Env, code: str):
    api = ApiClient(env.app)
    r = api.get(f"{API}/verify/{code}", headers={"Accept-Language": "vi"})
    body = problem_of(r, 404, "not_found")
    if len(code) < 100 and "%" not in code:  # the longer ones do not match the route's path parameter
        assert body["detail"].startswith("Không có giấy chứng nhận OCOP nào mang số")
    en = api.get(f"{API}/verify/OCOP-XX-1", headers={"Accept-Language": "en"})
    assert problem_of(en, 404, "not_found")["detail"].startswith("There is no OCOP certificate numbered")
