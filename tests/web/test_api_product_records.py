"""/api/v1 of a product's programme records (issue #12): supports, listings, revenues. Every answer is checked
against the OpenAPI document by the validating client; refusals are problem documents (403, 404, 409, 422)."""

from __future__ import annotations

from api_client import API, ApiClient, issue, problem_of

from ocop_workflow.services.certificates import local_day


def test_records_through_the_api(env):
    pid = env.product()
    api = ApiClient(env.app, issue(env, "assoc"))
    base = f"{API}/products/{pid}"

    r = api.post(f"{base}/supports", json={"started_on": "2025-03-01", "officer": env.world.emails["assoc"]})
    assert r.status_code == 201
    support = r.get_json()
    assert support["organisation"]["code"] == "C1" and support["officer"]["name"] == "Người dùng assoc"
    body = problem_of(api.post(f"{base}/supports", json={"started_on": "2025-04-01"}), 409, "conflict")
    assert "01/03/2025" in body["detail"]
    body = problem_of(api.post(f"{base}/supports", json={"started_on": "2099-01-01"}), 422, "invalid_data")
    assert "chưa đến" in body["detail"]
    r = api.post(f"{base}/supports/{support['id']}/end", json={"ended_on": "2025-12-31"})
    assert r.status_code == 200 and r.get_json()["ended_on"] == "2025-12-31"
    problem_of(api.post(f"{base}/supports/{support['id']}/end", json={}), 409, "conflict")
    assert [s["id"] for s in api.get(f"{base}/supports").get_json()["items"]] == [support["id"]]

    r = api.post(
        f"{base}/listings", json={"platform": "shopee", "url": "https://shopee.vn/a", "listed_on": "2025-06-01"}
    )
    assert r.status_code == 201 and r.get_json()["platform_label"] == "Shopee"
    listing = r.get_json()
    body = problem_of(
        api.post(f"{base}/listings", json={"platform": "shopee", "url": "ftp://x.vn/a", "listed_on": "2025-06-01"}),
        422,
        "invalid_data",
    )
    assert "http://" in body["detail"]
    ebay = {"platform": "ebay", "url": "https://e.vn", "listed_on": "2025-06-01"}
    problem_of(api.post(f"{base}/listings", json=ebay), 400, "invalid_request")
    r = api.post(f"{base}/listings/{listing['id']}/remove", json={})
    assert r.status_code == 200 and r.get_json()["removed_on"] == local_day().isoformat()
    assert api.get(f"{base}/listings").get_json()["items"][0]["removed_on"] is not None

    r = api.open("PUT", f"{base}/revenues/2025", json={"amount": "1.250.000.000"})
    assert r.status_code == 200 and r.get_json()["amount"] == 1_250_000_000
    r = api.open("PUT", f"{base}/revenues/2024", json={"amount": 900_000_000})
    assert r.status_code == 200
    items = api.get(f"{base}/revenues").get_json()["items"]
    assert [(i["year"], i["amount"]) for i in items] == [(2025, 1_250_000_000), (2024, 900_000_000)]
    body = problem_of(api.open("PUT", f"{base}/revenues/1999", json={"amount": 5}), 422, "invalid_data")
    assert "2000" in body["detail"]
    en = api.open("PUT", f"{base}/revenues/2025", json={"amount": "12,5"}, headers={"Accept-Language": "en"})
    assert "whole, non-negative number of đồng" in problem_of(en, 422, "invalid_data")["detail"]


def test_scope_and_roles(env):
    pid = env.product()
    other = env.product(key="officer3", name="Gà đồi Yên Thế", producer=env.world.producer3)
    commune = ApiClient(env.app, issue(env, "officer"))
    # a commune user: another district's product and its records do not exist
    for path in ("supports", "listings", "revenues"):
        problem_of(commune.get(f"{API}/products/{other}/{path}"), 404, "not_found")
    problem_of(commune.open("PUT", f"{API}/products/{other}/revenues/2025", json={"amount": 1}), 404, "not_found")
    # the OCOP officer records the market, not the association's support
    body = problem_of(
        commune.post(f"{API}/products/{pid}/supports", json={"started_on": "2025-01-01"}), 403, "permission_denied"
    )
    assert "Hội Nông dân" in body["detail"]
    assert commune.open("PUT", f"{API}/products/{pid}/revenues/2025", json={"amount": 1}).status_code == 200
    # a record of another product is not found under this one
    district = ApiClient(env.app, issue(env, "officer3"))
    r = district.post(f"{API}/products/{other}/listings", json={"platform": "tiki", "url": "https://tiki.vn/g",
                                                                "listed_on": "2025-01-01"})  # fmt: skip
    listing = r.get_json()["id"]
    problem_of(commune.post(f"{API}/products/{pid}/listings/{listing}/remove", json={}), 404, "not_found")
    problem_of(commune.post(f"{API}/products/{other}/listings/{listing}/remove", json={}), 404, "not_found")
    # the province's association names the district's unit
    province = ApiClient(env.app, issue(env, "passoc"))
    r = province.post(
        f"{API}/products/{pid}/supports", json={"started_on": "2025-01-01", "organisation_id": env.world.orgs["D1"]}
    )
    assert r.status_code == 201 and r.get_json()["organisation"]["code"] == "D1"
    body = problem_of(
        province.post(f"{API}/products/{pid}/supports", json={"started_on": "2025-01-01", "officer": "x@y.vn"}),
        422,
        "invalid_data",
    )
    assert "x@y.vn" in body["detail"]
