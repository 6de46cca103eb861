"""A unit's programme records through the API (checked against the OpenAPI document by `ApiClient`):
creating and listing each kind, the rules' translated 422s, 409 on a second close, and scope — a commune
user does not see another district's sales point (404)."""

from __future__ import annotations

from api_client import API, ApiClient, issue, problem_of
from conftest import Env


def test_programme_records_through_the_api(env: Env):
    product = env.product(name="Vải thiều Lục Ngạn")
    api = ApiClient(env.app, lang="en")
    assoc, province = api.as_(issue(env, "assoc")), api.as_(issue(env, "passoc"))
    c1, c3, d1, d2 = (env.world.orgs[c] for c in ("C1", "C3", "D1", "D2"))

    # a raw-material area and a product tied to it
    r = assoc.post(f"{API}/material-areas", json={"commune_id": c1, "name": "Vùng vải", "area_ha": "12,5"})
    assert r.status_code == 201, r.get_json()
    area = r.get_json()
    assert area["area_ha"] == 12.5 and area["commune"]["code"] == "C1"
    body = problem_of(
        assoc.post(f"{API}/material-areas", json={"commune_id": c1, "name": "X", "growing_code": "A B"}),
        422,
        "invalid_data",
    )
    assert "growing-area code" in body["detail"]
    problem_of(assoc.post(f"{API}/material-areas", json={"commune_id": c3, "name": "X"}), 404, "not_found")
    r = assoc.post(f"{API}/material-areas/{area['id']}/links", json={"product_id": product, "linked_on": "2026-01-05"})
    assert r.status_code == 201 and r.get_json()["links"][0]["linked"] is True
    link = r.get_json()["links"][0]["id"]
    problem_of(
        assoc.post(f"{API}/material-areas/{area['id']}/links", json={"product_id": product, "linked_on": "2026-01-06"}),
        409,
        "conflict",
    )
    problem_of(
        assoc.post(f"{API}/material-areas/{area['id']}/links/{link}/end", json={"unlinked_on": "2025-12-31"}),
        422,
        "invalid_data",
    )
    r = assoc.post(f"{API}/material-areas/{area['id']}/links/{link}/end", json={"unlinked_on": "2026-02-01"})
    assert r.status_code == 200 and r.get_json()["links"][0]["unlinked_on"] == "2026-02-01"
    assert assoc.get(f"{API}/material-areas").get_json()["total"] == 1

    # a value chain of the district, marked working
    dassoc = api.as_(issue(env, "dassoc"))
    r = dassoc.post(
        f"{API}/value-chains",
        json={
            "organisation_id": d1,
            "name": "Chuỗi vải thiều",
            "lead_producer_id": env.world.producer,
            "members": [env.world.producer2],
            "products": [product],
            "started_on": "2025-01-10",
        },
    )
    assert r.status_code == 201, r.get_json()
    chain = r.get_json()
    assert chain["status"] == "building" and chain["lead_name"] == "Tổ hợp tác Vải thiều Phượng Sơn"
    r = dassoc.open("PATCH", f"{API}/value-chains/{chain['id']}", json={"working_from": "2025-09-01"})
    assert r.status_code == 200 and r.get_json()["status"] == "working"
    problem_of(
        dassoc.open("PATCH", f"{API}/value-chains/{chain['id']}", json={"stopped_on": "2025-08-01"}),
        422,
        "invalid_data",
    )
    problem_of(assoc.open("PATCH", f"{API}/value-chains/{chain['id']}", json={}), 404, "not_found")
    problem_of(
        dassoc.post(
            f"{API}/value-chains",
            json={"organisation_id": d1, "name": "X", "lead_name": "Y", "members": [env.world.producer3]}
            | {"started_on": "2025-01-10"},
        ),
        422,
        "invalid_data",
    )

    # a sales point in the other district: the commune user of C1 does not see it
    r = province.post(
        f"{API}/sales-points",
        json={"organisation_id": d2, "name": "Điểm bán Yên Thế", "address": "Cầu Gồ", "opened_on": "2023-05-01"},
    )
    assert r.status_code == 201 and r.headers["Location"].endswith("/sales-points?org=D2")
    point = r.get_json()["id"]
    problem_of(assoc.post(f"{API}/sales-points/{point}/close", json={"closed_on": "2025-12-31"}), 404, "not_found")
    assert assoc.get(f"{API}/sales-points").get_json()["items"] == []
    # `org` is the unit's code, as in the plans API; a refusal names the code typed, not an internal id
    body = problem_of(assoc.get(f"{API}/sales-points?org=D2"), 404, "not_found")
    assert "“D2”" in body["detail"] and f"#{d2}" not in body["detail"]
    assert [p["name"] for p in province.get(f"{API}/sales-points?org=D2").get_json()["items"]] == ["Điểm bán Yên Thế"]
    assert province.get(f"{API}/sales-points?org=C1").get_json()["items"] == []
    r = province.post(f"{API}/sales-points/{point}/close", json={"closed_on": "2025-12-31"})
    assert r.status_code == 200 and r.get_json()["open"] is False
    problem_of(province.post(f"{API}/sales-points/{point}/close", json={"closed_on": "2025-12-31"}), 409, "conflict")
    # a producer's account may not record the commune's records
    producer = api.as_(issue(env, "producer"))
    problem_of(
        producer.post(
            f"{API}/sales-points", json={"organisation_id": c1, "name": "X", "address": "Y", "opened_on": "2025-01-01"}
        ),
        403,
        "permission_denied",
    )

    # a training, in Vietnamese when refused
    r = assoc.post(
        f"{API}/trainings",
        json={
            "organisation_id": c1,
            "kind": "training",
            "held_on": "2026-04-02",
            "topic": "Câu chuyện sản phẩm",
            "people": {"association_officer": 12, "producer": 30},
        },
    )
    assert r.status_code == 201 and r.get_json()["total"] == 42
    vi = ApiClient(env.app, issue(env, "assoc"), lang="vi")
    body = problem_of(
        vi.post(
            f"{API}/trainings",
            json={"organisation_id": c1, "kind": "outreach", "held_on": "2026-04-02", "topic": "T"}
            | {"people": {"farmer": 3}},
        ),
        422,
        "invalid_data",
    )
    assert "Không có đối tượng" in body["detail"]
    assert [t["kind_label"] for t in vi.get(f"{API}/trainings").get_json()["items"]] == ["Tập huấn"]
    assert api.as_(issue(env, "officer3")).get(f"{API}/trainings").get_json()["total"] == 0


def test_a_record_sent_twice_is_refused_naming_the_first(env: Env):
    """A client re-sending the same training, sales point, chain or area gets 409 naming the record already
    there; the plan figures (attendance, open points) count it once."""
    api = ApiClient(env.app, lang="en")
    assoc, dassoc = api.as_(issue(env, "assoc")), api.as_(issue(env, "dassoc"))
    c1, d1 = env.world.orgs["C1"], env.world.orgs["D1"]
    sent = {
        "/trainings": (
            assoc,
            {
                "organisation_id": c1,
                "kind": "training",
                "held_on": "2026-04-02",
                "topic": "Câu chuyện sản phẩm",
                "people": {"producer": 30},
            },
            {"topic": " câu chuyện  SẢN PHẨM "},
        ),
        "/sales-points": (
            dassoc,
            {"organisation_id": d1, "name": "Điểm bán Chũ", "address": "TT Chũ", "opened_on": "2023-05-01"},
            {"opened_on": "2024-01-01"},
        ),
        "/value-chains": (
            dassoc,
            {"organisation_id": d1, "name": "Chuỗi vải", "lead_name": "HTX", "started_on": "2025-01-10"},
            {},
        ),
        "/material-areas": (assoc, {"commune_id": c1, "name": "Vùng vải"}, {"area_ha": "3"}),
    }
    for path, (client, body, change) in sent.items():
        first = client.post(f"{API}{path}", json=body)
        assert first.status_code == 201, (path, first.get_json())
        again = problem_of(client.post(f"{API}{path}", json=body | change), 409, "conflict")
        assert f"#{first.get_json()['id']}" in again["detail"] and "already recorded" in again["detail"], again
        assert client.get(f"{API}{path}").get_json()["total"] == 1, path
    # the same topic on another day, and a point of the same name after the first one closed, are new records
    body = sent["/trainings"][1]
    assert assoc.post(f"{API}/trainings", json=body | {"held_on": "2026-04-03"}).status_code == 201
    point = dassoc.get(f"{API}/sales-points").get_json()["items"][0]["id"]
    assert dassoc.post(f"{API}/sales-points/{point}/close", json={"closed_on": "2024-12-31"}).status_code == 200
    again = sent["/sales-points"][1] | {"opened_on": "2025-03-01"}
    assert dassoc.post(f"{API}/sales-points", json=again).status_code == 201
    # in Vietnamese for a Vietnamese client
    vi = ApiClient(env.app, issue(env, "assoc"), lang="vi")
    body = problem_of(vi.post(f"{API}/material-areas", json={"commune_id": c1, "name": "vùng VẢI"}), 409, "conflict")
    assert body["detail"].startswith("Đã có vùng nguyên liệu #")
