"""Issue #4: the JSON API (/api/v1). Every response these tests receive is checked against the
OpenAPI document the app serves (`ApiClient`): a documented status, a documented content type, a
body valid against the documented schema."""

from __future__ import annotations

import io
import re

import pytest
from api_client import API, ApiClient, issue, problem_of
from conftest import PDF, Env
from sqlalchemy import select

from ocop_workflow.models import Notification, Product, User


@pytest.fixture
def api(env: Env) -> ApiClient:
    return ApiClient(env.app, issue(env, "officer"))


def tok(env: Env, key: str) -> str:
    return issue(env, key, name=f"token of {key}")


def product_json(api: ApiClient, pid: int, **kwargs) -> dict:
    r = api.get(f"{API}/products/{pid}", **kwargs)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# --- the document --------------------------------------------------------------------------------
def test_openapi_document_is_generated_from_the_routes(env, api):
    import schemathesis

    doc = api.doc
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.1 meta-schema
    routes = {
        (rule.rule, m)
        for rule in env.app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found"
        for m in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(p, m.upper()) for p, ops in doc["paths"].items() for m in ops}
    # 47 before issue #12; + 8 of a product's records, 12 of a unit's programme records, 4 of plans, 1 process
    assert len(routes) == len(documented) == 47 + 8 + 12 + 4 + 1
    assert {re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", r) for r, _m in routes} == set(doc["paths"])
    transition = doc["paths"][f"{API}/products/{{product_id}}/transitions"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "415", "422", "429"} <= set(transition["responses"])
    assert transition["security"] == [{"bearerToken": []}]
    groups = doc["components"]["schemas"]["ProductGroup"]["enum"]
    assert set(groups) == set(env.app.extensions["ocop"].registry.catalogue.product_groups)
    assert doc["paths"][f"{API}/openapi.json"]["get"]["security"] == []
    assert doc["paths"][f"{API}/verify/{{code}}"]["get"]["security"] == []  # the public lookup


def test_problem_types_are_described(api):
    r = api.get(f"{API}/problems/guard_failed", token=None, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.get_json()["status"] == 422 and "missing" in r.get_json()["description"]
    problem_of(api.get(f"{API}/problems/nonsense", token=None), 404, "not_found")


def test_unknown_addresses_and_methods_are_problems(api):
    problem_of(api.get(f"{API}/nothing/here"), 404, "not_found")
    problem_of(api.get(f"{API}/products/0"), 404, "not_found")
    problem_of(api.get(f"{API}/products/{2**31}"), 404, "not_found")
    problem_of(api.get(f"{API}/products/99999999999999999999999"), 404, "not_found")
    r = api.open("DELETE", f"{API}/products")
    problem_of(r, 405, "method_not_allowed")
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


# --- authentication and language -----------------------------------------------------------------
def test_requests_without_a_valid_token_are_refused(env, api):
    altered = api.token[:-1] + ("B" if api.token.endswith("A") else "A")  # the right prefix, a wrong secret
    for token in (None, "not-a-token", "ocop_0123456789ab_" + "x" * 43, altered):
        body = problem_of(api.get(f"{API}/products", token=token), 401, "invalid_token")
        assert body["detail"]
    r = api.get(f"{API}/me", headers={"Authorization": f"Basic {api.token}"}, token=None)
    problem_of(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_shows_the_user_and_roles(env, api):
    body = api.get(f"{API}/me").get_json()
    assert body["email"] == env.world.emails["officer"]
    assert [(r["role"], r["organisation"]["code"]) for r in body["roles"]] == [("commune_officer", "C1")]
    assert api.token.startswith(body["token"]["prefix"])


@pytest.mark.parametrize(
    "lang,word",
    [("vi", "Không tìm thấy"), ("en", "not found"), ("en-GB,en;q=0.9", "not found"), ("fr", "Không tìm thấy")],
)
def test_problems_speak_the_accept_language(api, lang, word):
    r = api.get(f"{API}/products/424242", headers={"Accept-Language": lang})
    body = problem_of(r, 404, "not_found")
    assert word in body["detail"]
    assert r.headers["Content-Language"] == ("en" if word == "not found" else "vi")


def test_without_accept_language_the_users_language_is_used(env, api):
    with env.db.transaction() as s:
        s.scalars(select(User).where(User.email == env.world.emails["officer"])).one().locale = "en"
    assert "not found" in api.get(f"{API}/products/424242").get_json()["detail"]


# --- products: list -------------------------------------------------------------------------------
def test_list_uses_the_web_query_with_its_filters(env, api):
    from ocop_workflow.services import listing
    from web.api import routes
    from web.products import routes as web_routes

    assert routes.list_products is listing.list_products is web_routes.list_products
    a = env.product(name="Vải thiều Lục Ngạn")
    b = env.product(name="Rượu làng Vân")
    env.attach(b, "idea_registration")
    env.fire(b, "accept_idea")
    env.product(key="officer3", name="Gà đồi Yên Thế", producer=env.world.producer3)
    body = api.get(f"{API}/products").get_json()
    assert [p["id"] for p in body["items"]] == [b, a]  # newest move first; C3 is not in the area
    assert body["total"] == 2 and body["total_exact"] is True
    assert [p["id"] for p in api.get(f"{API}/products?state=idea").get_json()["items"]] == [a]
    assert [p["id"] for p in api.get(f"{API}/products?q=vai+thieu").get_json()["items"]] == [a]
    assert [p["id"] for p in api.get(f"{API}/products?group=tourism&waiting=true").get_json()["items"]] == [b, a]
    assert api.get(f"{API}/products?star=3").get_json()["items"] == []
    assert len(api.get(f"{API}/products?org={env.world.orgs['C1']}").get_json()["items"]) == 2
    problem_of(api.get(f"{API}/products?org={env.world.orgs['C2']}"), 404, "not_found")  # a neighbour
    second = api.get(f"{API}/products?per_page=1&page=2").get_json()
    assert [p["id"] for p in second["items"]] == [a] and second["pages"] == 2 and second["page"] == 2


def test_list_refuses_malformed_filters_and_foreign_organisations(env, api):
    body = problem_of(api.get(f"{API}/products?page=0&star=9&group=nope"), 400, "invalid_request")
    assert {p["name"] for p in body["invalid_params"]} == {"page", "star", "group"}
    problem_of(api.get(f"{API}/products?org={env.world.orgs['C3']}"), 404, "not_found")
    problem_of(api.get(f"{API}/products?org=99999"), 404, "not_found")


# --- products: create, detail ---------------------------------------------------------------------
def test_create_and_read_a_product(env, api):
    r = api.post(
        f"{API}/products",
        json={
            "name": "Mật ong Phượng Sơn",
            "product_group": "food",
            "producer_id": env.world.producer,
            "subgroup": "mật ong",
        },
    )
    assert r.status_code == 201
    body = r.get_json()
    assert r.headers["Location"].endswith(f"{API}/products/{body['id']}")
    assert body["state"] == "idea" and body["workflow"] == {"key": "ocop-148", "version": 2}
    assert body["version"] == 1 and body["star"] is None and body["documents"] == []
    assert [t["trigger"] for t in body["triggers"]] == ["accept_idea", "withdraw"]
    accept = body["triggers"][0]
    assert accept["available"] is False and len(accept["missing"]) == 1
    assert product_json(api, body["id"])["name"] == "Mật ong Phượng Sơn"


def test_create_errors(env, api):
    ok = {"name": "Chè", "product_group": "food", "producer_id": env.world.producer}
    problem_of(api.post(f"{API}/products", json={**ok, "name": "   "}), 422, "invalid_data")
    problem_of(api.post(f"{API}/products", json={**ok, "producer_id": env.world.producer3}), 404, "not_found")
    problem_of(api.as_(tok(env, "dcouncil")).post(f"{API}/products", json=ok), 403, "permission_denied")
    body = problem_of(api.post(f"{API}/products", json={"name": "x", "colour": "red"}), 400, "invalid_request")
    assert body["invalid_params"]
    problem_of(api.post(f"{API}/products", data="name=x"), 415, "unsupported_media_type")
    problem_of(api.post(f"{API}/products", data="{not json", content_type="application/json"), 400, "invalid_request")
    with env.db.session() as s:
        assert s.scalar(select(Product.id).where(Product.name == "Chè")) is None


def test_detail_shows_star_documents_and_what_the_caller_may_do(env, api):
    pid = env.product()
    env.attach(pid, "idea_registration")
    body = product_json(api, pid)
    assert [d["doc_type"] for d in body["documents"]] == ["idea_registration"]
    accept = next(t for t in body["triggers"] if t["trigger"] == "accept_idea")
    assert accept["available"] is True and accept["missing"] == []
    # a district council member sees the product but may take no step at the commune's stage
    assert product_json(api.as_(tok(env, "dcouncil")), pid)["triggers"] == []
    problem_of(api.get(f"{API}/products/{pid}", token=tok(env, "officer3")), 404, "not_found")


# --- transitions ------------------------------------------------------------------------------------
def fire(api: ApiClient, pid: int, trigger: str, version: int, **body):
    return api.post(f"{API}/products/{pid}/transitions", json={"trigger": trigger, "version": version, **body})


def test_transition_moves_the_product(env, api):
    pid = env.product()
    env.attach(pid, "idea_registration")
    r = fire(api, pid, "accept_idea", 1, comment="Ý tưởng tốt")
    assert r.status_code == 200
    body = r.get_json()
    assert body["state"] == "production_plan" and body["version"] == 2
    assert body["event"]["from_state"] == "idea" and body["event"]["comment"] == "Ý tưởng tốt"
    assert body["event"]["actor"]["name"] == "Người dùng officer"
    assert body["product"]["state"] == "production_plan"
    assert env.state_of(pid)[:2] == ("production_plan", 2)


def test_transition_errors(env, api):
    pid = env.product()
    problem_of(fire(api.as_(tok(env, "assoc")), pid, "accept_idea", 1), 403, "permission_denied")
    problem_of(fire(api.as_(tok(env, "officer3")), pid, "accept_idea", 1), 404, "not_found")
    problem_of(fire(api, 424242, "accept_idea", 1), 404, "not_found")
    body = problem_of(fire(api, pid, "accept_idea", 1), 422, "guard_failed")
    assert len(body["missing"]) == 1 and "«" in body["missing"][0]  # the missing document, by name
    problem_of(fire(api, pid, "rate_district", 1, data={"score": 80}), 409, "invalid_trigger")
    env.attach(pid, "idea_registration")
    problem_of(fire(api, pid, "accept_idea", 7), 409, "stale_version")
    problem_of(fire(api, pid, "accept_idea", 1, data={"score": 101}), 400, "invalid_request")
    problem_of(fire(api, pid, "accept_idea", 1, extra=1), 400, "invalid_request")
    problem_of(api.post(f"{API}/products/{pid}/transitions", json={"trigger": "accept_idea"}), 400, "invalid_request")
    assert env.state_of(pid) == ("idea", 1, 1)  # nothing changed


def test_guard_failure_lists_everything_missing_in_the_callers_language(env, api):
    pid = env.product()
    env.to_district(pid)
    version = env.state_of(pid)[1]
    council = api.as_(tok(env, "dcouncil"))
    r = council.post(
        f"{API}/products/{pid}/transitions",
        json={"trigger": "return_for_revision", "version": version},
        headers={"Accept-Language": "en"},
    )
    body = problem_of(r, 422, "guard_failed")
    assert body["missing"] == ["a comment (reason) is required"]
    # a council member cannot type a score in: it comes from a round's sheets (403, not a 500)
    r = council.post(
        f"{API}/products/{pid}/transitions",
        json={"trigger": "rate_district", "version": version, "data": {"score": 75}},
        headers={"Accept-Language": "vi"},
    )
    assert "đợt đánh giá" in problem_of(r, 403, "permission_denied")["detail"]
    r = council.post(
        f"{API}/products/{pid}/transitions",
        json={"trigger": "rate_district", "version": version, "data": {"score": 75}},
        headers={"Accept-Language": "en"},
    )
    assert "evaluation round" in problem_of(r, 403, "permission_denied")["detail"]
    # a score on a step that takes none is refused, in the caller's language
    r = fire(api.as_(tok(env, "dsec")), pid, "return_for_revision", version, data={"score": 7}, comment="x")
    assert "không nhận điểm" in problem_of(r, 422, "invalid_data")["detail"]
    assert env.state_of(pid)[:2] == ("district_review", version)


def test_history(env, api):
    pid = env.product()
    env.attach(pid, "idea_registration")
    fire(api, pid, "accept_idea", 1)
    items = api.get(f"{API}/products/{pid}/history").get_json()["items"]
    assert [(e["seq"], e["trigger"], e["to_state"]) for e in items] == [
        (1, "create", "idea"),
        (2, "accept_idea", "production_plan"),
    ]
    problem_of(api.get(f"{API}/products/{pid}/history", token=tok(env, "officer3")), 404, "not_found")


# --- documents ------------------------------------------------------------------------------------
def upload(
    api: ApiClient, pid: int, doc_type: str | None, content: bytes | None, name: str = "Đơn đăng ký.pdf", **kwargs
):
    """A multipart POST encoded in memory (the test client spools big bodies to a file it never closes)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    values: dict = {}
    if doc_type is not None:
        values["doc_type"] = doc_type
    if content is not None:
        values["file"] = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, body = encode_multipart(values)
    return api.post(
        f"{API}/products/{pid}/documents", data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs
    )


def test_upload_list_and_download_documents(env, api):
    pid = env.product()
    r = upload(api, pid, "idea_registration", PDF)
    assert r.status_code == 201
    doc = r.get_json()
    assert doc["original_name"] == "Đơn đăng ký.pdf" and doc["content_type"] == "application/pdf" and doc["current"]
    second = upload(api, pid, "idea_registration", PDF + b"%v2").get_json()
    assert second["replaces_id"] == doc["id"]
    items = api.get(f"{API}/products/{pid}/documents").get_json()["items"]
    assert [(d["id"], d["current"]) for d in items] == [(second["id"], True), (doc["id"], False)]
    assert api.get(f"{API}/documents/{doc['id']}").get_json()["sha256"] == doc["sha256"]
    r = api.get(second["content_url"])
    assert r.status_code == 200 and r.data == PDF + b"%v2" and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    assert [d["id"] for d in product_json(api, pid)["documents"]] == [second["id"]]


def test_upload_errors(env, api):
    pid = env.product()
    problem_of(upload(api, pid, "idea_registration", b"MZ not a pdf"), 422, "invalid_data")
    problem_of(upload(api, pid, "idea_registration", None), 400, "invalid_request")
    problem_of(upload(api, pid, "no_such_type", PDF), 400, "invalid_request")
    problem_of(upload(api, pid, "idea_registration", PDF + b"0" * (1024 * 1024)), 413, "too_large")
    problem_of(upload(api, pid, "idea_registration", PDF + b"0" * (1300 * 1024)), 413, "too_large")
    problem_of(upload(api.as_(tok(env, "dcouncil")), pid, "idea_registration", PDF), 403, "permission_denied")
    problem_of(upload(api, 424242, "idea_registration", PDF), 404, "not_found")
    assert api.get(f"{API}/products/{pid}/documents").get_json()["items"] == []


def test_a_commune_token_cannot_touch_another_communes_products_or_documents(env, api):
    pid = env.product()
    doc = env.attach(pid, "idea_registration")
    other = api.as_(tok(env, "officer3"))
    for path in (
        f"/products/{pid}",
        f"/products/{pid}/history",
        f"/products/{pid}/documents",
        f"/documents/{doc}",
        f"/documents/{doc}/content",
    ):
        problem_of(other.get(API + path), 404, "not_found")
    problem_of(fire(other, pid, "withdraw", 1, comment="x"), 404, "not_found")
    problem_of(upload(other, pid, "idea_registration", PDF), 404, "not_found")
    assert other.get(f"{API}/products").get_json()["items"] == []
    assert env.state_of(pid) == ("idea", 1, 1)
    # the district above sees it, the province too
    assert api.as_(tok(env, "dsec")).get(f"{API}/documents/{doc}/content").data == PDF


# --- workflows ------------------------------------------------------------------------------------
def test_workflow_definition_and_diagram(env, api):
    items = api.get(f"{API}/workflows").get_json()["items"]
    assert {(w["key"], w["default"]) for w in items} >= {("ocop-148", True)}
    body = api.get(f"{API}/workflows/ocop-148").get_json()
    assert body["initial"] == "idea" and body["version"] == 2
    accept = next(t for t in body["transitions"] if t["trigger"] == "accept_idea")
    assert accept["roles"] == ["commune_officer"] and accept["documents"]["all"]
    assert api.get(f"{API}/workflows/ocop-148?version=1").get_json()["ident"] == "ocop-148@v1"
    r = api.get(f"{API}/workflows/ocop-148/diagram?current=idea", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    assert text.startswith("stateDiagram-v2") and "idea --> production_plan : accept_idea" in text
    assert "class idea current" in text
    problem_of(api.get(f"{API}/workflows/nope"), 404, "not_found")
    problem_of(api.get(f"{API}/workflows/ocop-148?version=99"), 404, "not_found")
    problem_of(api.get(f"{API}/workflows/ocop-148/diagram?current=nowhere"), 422, "invalid_data")


# --- notifications --------------------------------------------------------------------------------
def test_notifications_are_the_callers_own(env, api):
    assert api.get(f"{API}/notifications").get_json() == {"items": []}
    pid = env.product()
    with env.db.transaction() as s:
        ids = {u.email: u.id for u in s.scalars(select(User))}
        for key, title in (("officer", "Hồ sơ chậm"), ("officer3", "Không phải của bạn"), ("officer", "Thứ hai")):
            s.add(
                Notification(
                    user_id=ids[env.world.emails[key]],
                    product_id=pid,
                    kind="stall",
                    title=title,
                    body="…",
                    link=f"/products/{pid}",
                )
            )
    items = api.get(f"{API}/notifications").get_json()["items"]
    assert [n["title"] for n in items] == ["Thứ hai", "Hồ sơ chậm"]
    older = api.get(f"{API}/notifications?before={items[0]['id']}&limit=5&unread=true").get_json()["items"]
    assert [n["title"] for n in older] == ["Hồ sơ chậm"]
    problem_of(api.get(f"{API}/notifications?limit=0"), 400, "invalid_request")


def test_every_response_was_checked(env, api):
    api.get(f"{API}/me")
    api.get(f"{API}/products?star=x")
    assert api.checked == 2


def test_validation_errors_are_translated_per_field(env, api):
    """A malformed request is answered in the caller's language with the CLI's and the web's words,
    field by field, never JSON Schema's English."""
    pid = env.product()
    r = fire(api, pid, "accept_idea", 1, data={"score": 101})
    body = problem_of(r, 400, "invalid_request")
    assert body["invalid_params"] == [{"name": "body.data.score", "reason": "Điểm phải từ 0 đến 100 (nhận được 101)"}]
    assert "Điểm phải từ 0 đến 100" in body["detail"] and "schemas" not in r.get_data(as_text=True)
    r = api.post(
        f"{API}/products/{pid}/transitions",
        json={"trigger": "accept_idea", "version": 1, "data": {"score": -3}},
        headers={"Accept-Language": "en"},
    )
    assert problem_of(r, 400, "invalid_request")["invalid_params"][0]["reason"] == (
        "The score must be from 0 to 100 (got -3)"
    )
    cases = [
        ({"trigger": "accept_idea", "version": 1, "comment": "x" * 5000}, "Ý kiến dài quá 4000 ký tự"),
        ({"trigger": "accept_idea", "version": 0}, "Phiên bản phải từ 1 trở lên"),
        ({"trigger": "accept_idea", "version": "1"}, "Phiên bản phải là một số nguyên"),
        ({"trigger": "", "version": 1}, "Bước không được để trống"),
        ({"version": 1}, "Bước: bắt buộc phải có"),
        ({"trigger": "accept_idea", "version": 1, "star": 5}, "Trường không được nhận: star"),
    ]
    for body_sent, reason in cases:
        r = api.post(f"{API}/products/{pid}/transitions", json=body_sent, headers={"Accept-Language": "vi"})
        assert reason in problem_of(r, 400, "invalid_request")["detail"], body_sent
    r = api.post(
        f"{API}/products",
        json={"name": "", "product_group": "cakes", "producer_id": 0},
        headers={"Accept-Language": "en"},
    )
    detail = problem_of(r, 400, "invalid_request")["detail"]
    assert "The name is required" in detail and "The product group is not valid: 'cakes'" in detail
    assert "The producer id must be at least 1" in detail
    assert env.state_of(pid) == ("idea", 1, 1)
