"""Issue #9 through the API: councils, rounds, members' score sheets, closing, the minutes and the
score tables, and every refusal of the council's work (checked against the OpenAPI document by
`ApiClient`, in Vietnamese and English)."""

from __future__ import annotations

import io
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from api_client import API, ApiClient, issue, problem_of
from conftest import Env
from docx import Document as Docx
from openpyxl import load_workbook
from sqlalchemy import select

from ocop_workflow.models import User
from ocop_workflow.services import tokens

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.rounds_setup import CHAIR, MEMBER1, MEMBER2, SECRETARY, make_council, parts


def token_of(env: Env, email: str) -> str:
    with env.db.transaction() as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        return tokens.create_token(s, user, name="test").token


@pytest.fixture
def setup(env: Env):
    """Two tourism products of C1 at the district's review, a district council of four, tokens."""
    products = []
    for name in ("Vải thiều Lục Ngạn", "Mỳ Chũ"):
        pid = env.product(name=name)
        env.to_district(pid)
        products.append(pid)
    registry = env.app.extensions["ocop"].registry
    council = make_council(env.db, registry, env.world.emails["dsec"], env.world.orgs["D1"])
    api = ApiClient(env.app, issue(env, "dsec"))
    who = {email: api.as_(token_of(env, email)) for email in (CHAIR, MEMBER1, MEMBER2, SECRETARY)}
    return env, api, council, products, who


def meeting() -> str:
    return (date.today() + timedelta(days=14)).isoformat()


def new_round(api: ApiClient, council: int, products: list[int]) -> int:
    r = api.post(f"{API}/rounds", json={"council_id": council, "name": "Đợt 1 năm 2026", "meeting_date": meeting()})
    assert r.status_code == 201, r.get_json()
    round_id = r.get_json()["id"]
    assert r.headers["Location"].endswith(f"/rounds/{round_id}")
    for pid in products:
        r = api.post(f"{API}/rounds/{round_id}/products", json={"product_id": pid})
        assert r.status_code == 200, r.get_json()
    r = api.post(f"{API}/rounds/{round_id}/open")
    assert r.status_code == 200 and r.get_json()["status"] == "open", r.get_json()
    return round_id


def save(client: ApiClient, round_id: int, pid: int, answers: dict, *, submit=True, version=None, lang=None):
    headers = {"Accept-Language": lang} if lang else None
    body = {"answers": answers, "submit": submit, "version": version}
    return client.open("PUT", f"{API}/rounds/{round_id}/products/{pid}/sheet", json=body, headers=headers)


def test_a_round_from_creation_to_the_minutes(setup):
    env, api, council, (lychee, noodles), who = setup
    listed = api.get(f"{API}/councils").get_json()["items"]
    assert [c["id"] for c in listed] == [council]
    assert {m["position"] for m in listed[0]["members"]} == {"chair", "member", "secretary"}
    round_id = new_round(api, council, [lychee, noodles])
    assert [r["id"] for r in api.get(f"{API}/rounds?status=open").get_json()["items"]] == [round_id]

    # the chair drafts, then submits; a save from the stale version is refused
    first = save(who[CHAIR], round_id, lychee, {"A": 40, "B": None}, submit=False)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "draft" and first.get_json()["part_totals"]["A"] == 40
    version = first.get_json()["version"]
    problem_of(save(who[CHAIR], round_id, lychee, parts(90), version=0), 409, "stale_version")
    done = save(who[CHAIR], round_id, lychee, parts(90), version=version)
    assert done.status_code == 200 and done.get_json()["total"] == 90 and done.get_json()["status"] == "submitted"
    assert save(who[MEMBER1], round_id, lychee, parts(81)).status_code == 200
    r = who[MEMBER2].post(
        f"{API}/rounds/{round_id}/products/{lychee}/recusal", json={"reason": "Người nhà của chủ thể"}
    )
    assert r.status_code == 200 and r.get_json()["status"] == "recused"
    for email, total in ((CHAIR, 60), (MEMBER1, 65), (MEMBER2, 62)):
        assert save(who[email], round_id, noodles, parts(total)).status_code == 200

    # before closing, the round shows who scored but not the marks
    entry = api.get(f"{API}/rounds/{round_id}").get_json()["entries"][0]
    assert (entry["submitted"], entry["recused"], entry["needed"], entry["quorum_met"]) == (2, 1, 2, True)
    assert all(s["total"] is None for s in entry["sheets"])

    sec = who[SECRETARY]
    for pid in (lychee, noodles):
        r = sec.post(f"{API}/rounds/{round_id}/products/{pid}/close")
        assert r.status_code == 200, r.get_json()
    body = sec.post(f"{API}/rounds/{round_id}/close").get_json()
    assert body["status"] == "closed"
    results = {e["product"]["id"]: e for e in body["entries"]}
    assert (results[lychee]["average"], results[lychee]["outcome"]) == (85.5, "forwarded")
    assert (results[noodles]["average"], results[noodles]["star"], results[noodles]["outcome"]) == (
        62.33,
        3,
        "recognised",
    )
    assert sorted(s["total"] for s in results[lychee]["sheets"] if s["total"] is not None) == [81, 90]

    # the minutes are in each dossier, and both files download and open
    for pid in (lychee, noodles):
        docs = api.get(f"{API}/products/{pid}/documents").get_json()["items"]
        assert any(d["doc_type"] == "council_minutes" and d["current"] for d in docs)
    r = api.get(f"{API}/rounds/{round_id}/minutes.docx", headers={"Accept-Language": "vi"})
    assert r.status_code == 200 and r.headers["Content-Disposition"].endswith('.docx"')
    doc = Docx(io.BytesIO(r.data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "85,50" in cells and "62,33" in cells and "3 sao" in cells and "Đề nghị cấp trên" in cells
    english = Docx(io.BytesIO(api.get(f"{API}/rounds/{round_id}/minutes.docx", headers={"Accept-Language": "en"}).data))
    assert "85.50" in [c.text for t in english.tables for row in t.rows for c in row.cells]
    r = api.get(f"{API}/rounds/{round_id}/sheets.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    totals = [row[-2] for row in wb["tourism"].iter_rows(min_row=2, values_only=True)]
    assert sorted(t for t in totals if t is not None) == [60, 62, 65, 81, 90]


def test_the_refusals_of_the_council_work(setup):
    env, api, council, (lychee, _noodles), who = setup
    round_id = new_round(api, council, [lychee])
    sec = who[SECRETARY]
    url = f"{API}/rounds/{round_id}/products/{lychee}"

    # outside the council: 403 inside its organisation, 404 outside it
    inside = api.as_(issue(env, "dcouncil"))
    problem_of(inside.get(f"{url}/sheet"), 403, "permission_denied")
    problem_of(save(inside, round_id, lychee, parts(70)), 403, "permission_denied")
    outside = api.as_(issue(env, "officer3"))
    problem_of(outside.get(f"{url}/sheet"), 404, "not_found")
    problem_of(save(outside, round_id, lychee, parts(70)), 404, "not_found")
    # only the secretary closes
    problem_of(who[CHAIR].post(f"{url}/close"), 403, "permission_denied")

    # a value the criterion does not take: the domain's translated message
    bad = save(who[CHAIR], round_id, lychee, {"A": 41, "B": 20, "C": 30}, lang="vi")
    assert "Tiêu chí A" in problem_of(bad, 422, "invalid_data")["detail"]
    bad = save(who[CHAIR], round_id, lychee, {"A": 41, "B": 20, "C": 30}, lang="en")
    assert "Criterion A" in problem_of(bad, 422, "invalid_data")["detail"]

    # without the quorum (one of three): refused, in the caller's language
    assert save(who[CHAIR], round_id, lychee, parts(90)).status_code == 200
    vi = problem_of(sec.post(f"{url}/close", headers={"Accept-Language": "vi"}), 409, "conflict")
    assert vi["detail"].startswith("Chưa đủ số thành viên chấm điểm: đã nộp 1/3 phiếu")
    en = problem_of(sec.post(f"{url}/close", headers={"Accept-Language": "en"}), 409, "conflict")
    assert en["detail"].startswith("The quorum is not met: 1 of 3 members have submitted")
    problem_of(sec.post(f"{API}/rounds/{round_id}/close"), 409, "conflict")  # a product is still being scored

    assert save(who[MEMBER1], round_id, lychee, parts(80)).status_code == 200
    assert sec.post(f"{url}/close").status_code == 200
    # closing twice, scoring after closing
    twice = problem_of(sec.post(f"{url}/close", headers={"Accept-Language": "en"}), 409, "conflict")
    assert twice["detail"] == "This product's scoring is already closed"
    late = problem_of(save(who[MEMBER2], round_id, lychee, parts(70), lang="vi"), 409, "conflict")
    assert late["detail"].startswith("Việc chấm điểm sản phẩm này đã kết thúc")
    assert sec.post(f"{API}/rounds/{round_id}/close").status_code == 200
    again = problem_of(sec.post(f"{API}/rounds/{round_id}/close", headers={"Accept-Language": "en"}), 409, "conflict")
    assert "already closed" in again["detail"]
    problem_of(api.post(f"{API}/rounds/{round_id}/products", json={"product_id": lychee}), 409, "conflict")


def test_councils_and_members_through_the_api(setup):
    env, api, council, _products, _who = setup
    body = {
        "organisation_id": env.world.orgs["D1"],
        "name": "Hội đồng OCOP huyện Lục Ngạn 2027",
        "decision_number": "9/QĐ-UBND",
        "decision_date": "2026-11-04",
    }
    r = api.post(f"{API}/councils", json=body)
    assert r.status_code == 201, r.get_json()
    new = r.get_json()["id"]
    with env.db.session() as s:
        dcouncil = s.scalars(select(User).where(User.email == env.world.emails["dcouncil"])).one().id
    r = api.open("PUT", f"{API}/councils/{new}/members/{dcouncil}", json={"position": "chair"})
    assert r.status_code == 200 and r.get_json()["members"][0]["position_label"]
    r = api.open("DELETE", f"{API}/councils/{new}/members/{dcouncil}")
    assert r.status_code == 200 and r.get_json()["members"] == []
    # dates the rules refuse, in both languages; councils of other levels' organisations
    future = problem_of(api.post(f"{API}/councils", json={**body, "decision_date": "2099-01-01"}), 422, "invalid_data")
    assert "01/01/2099" in future["detail"]
    late = {**body, "valid_from": "2026-10-01"}
    en = problem_of(api.post(f"{API}/councils", json=late, headers={"Accept-Language": "en"}), 422, "invalid_data")
    assert en["detail"] == "A council cannot be in force before the decision that sets it up"
    vi = problem_of(api.post(f"{API}/councils", json=late, headers={"Accept-Language": "vi"}), 422, "invalid_data")
    assert vi["detail"] == "Hội đồng không thể có hiệu lực trước ngày ký quyết định thành lập"
    commune = {**body, "organisation_id": env.world.orgs["C1"]}  # in the district's area, not of its level
    problem_of(api.post(f"{API}/councils", json=commune), 403, "permission_denied")
    problem_of(api.post(f"{API}/councils", json={**body, "organisation_id": env.world.orgs["P"]}), 404, "not_found")
    problem_of(api.post(f"{API}/councils", json={**body, "decision_date": "2027-02-30"}), 422, "invalid_data")
    problem_of(api.post(f"{API}/councils", json={**body, "decision_date": "4 Jan"}), 400, "invalid_request")
    problem_of(api.as_(issue(env, "officer3")).get(f"{API}/councils/{council}"), 404, "not_found")
    # the round's meeting must lie within the council's validity
    r = api.post(f"{API}/rounds", json={"council_id": new, "name": "Đợt sớm", "meeting_date": "2026-06-01"})
    problem_of(r, 422, "invalid_data")
