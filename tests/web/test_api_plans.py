"""/api/v1/plans (issue #12): plans with their targets, a plan's report as of a day and its drill-down,
each answer checked against the OpenAPI document; out of scope is 404 and a commune sees its commune."""

from __future__ import annotations

from datetime import date

import pytest
from api_client import API, ApiClient, issue, problem_of
from conftest import Env

from ocop_workflow.models import Organisation, SalesPoint, ValueChain
from ocop_workflow.reports.plans import read_plan
from ocop_workflow.services import plans
from ocop_workflow.services.access import Actor

PLAN = """\
kind: plan
name: "Kế hoạch OCOP tỉnh P"
basis: {number: "12/KH-UBND", date: 2023-02-10}
organisation: "P"
body: association
years: [2023, 2024]
targets:
  - {indicator: value_chains_started, each_year: true, at_least: 1}
  - {indicator: sales_point_districts, year: 2024, share_at_least: 100}
"""
DISTRICT_PLAN = PLAN.replace('organisation: "P"', 'organisation: "D2"')


@pytest.fixture
def plan_ids(env: Env) -> tuple[int, int]:
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        system = Actor.system_actor(registry.policy)
        orgs = {o.code: o for o in s.query(Organisation)}
        s.add(
            ValueChain(name="Chuỗi vải thiều", organisation=orgs["C1"], lead_name="HTX A", started_on=date(2023, 3, 1))
        )
        s.add(ValueChain(name="Chuỗi gà đồi", organisation=orgs["C3"], lead_name="HTX B", started_on=date(2023, 4, 1)))
        s.add(SalesPoint(name="Điểm bán", organisation=orgs["C1"], address="Chợ", opened_on=date(2023, 5, 1)))
        province = plans.load_plan(s, system, read_plan(PLAN.encode(), "p.yaml")).id
        district = plans.load_plan(s, system, read_plan(DISTRICT_PLAN.encode(), "d.yaml")).id
    return province, district


def test_plans_and_their_report(env: Env, plan_ids):
    province, district = plan_ids
    api = ApiClient(env.app, issue(env, "passoc"))
    listed = api.get(f"{API}/plans").get_json()["items"]
    assert {p["id"] for p in listed} == {province, district}
    one = api.get(f"{API}/plans/{province}").get_json()
    assert [(t["indicator"], t["year"]) for t in one["targets"]] == [
        ("value_chains_started", 2023),
        ("value_chains_started", 2024),
        ("sales_point_districts", 2024),
    ]
    report = api.get(f"{API}/plans/{province}/report?at=2023-12-31").get_json()
    assert report["at"] == "2023-12-31" and report["organisation"]["code"] == "P"
    chains = report["targets"][0]
    assert chains["figure"]["value"] == 2 and chains["status"] == "met" and chains["window"]["closed"] is True
    assert {u["organisation"]["code"] for u in report["units"]} >= {"D1", "D2"}
    assert [p["year"] for p in report["yearly"]["value_chains_started"]] == [2023]
    members = api.get(f"{API}/plans/{province}/targets/{chains['target_id']}/members?at=2023-12-31").get_json()
    assert sorted(m["name"] for m in members["items"]) == ["Chuỗi gà đồi", "Chuỗi vải thiều"]
    in_d1 = api.get(f"{API}/plans/{province}/targets/{chains['target_id']}/members?at=2023-12-31&org=D1")
    assert [m["name"] for m in in_d1.get_json()["items"]] == ["Chuỗi vải thiều"]


def test_a_commune_sees_its_commune_only(env: Env, plan_ids):
    province, district = plan_ids
    api = ApiClient(env.app, issue(env, "assoc"))  # commune association of C1 (district D1)
    assert [p["id"] for p in api.get(f"{API}/plans").get_json()["items"]] == [province]
    report = api.get(f"{API}/plans/{province}/report?at=2023-12-31").get_json()
    assert report["organisation"]["code"] == "C1"
    assert report["targets"][0]["figure"]["value"] == 1  # its own chain, not C3's
    tid = report["targets"][0]["target_id"]
    names = [
        m["name"] for m in api.get(f"{API}/plans/{province}/targets/{tid}/members?at=2023-12-31").get_json()["items"]
    ]
    assert names == ["Chuỗi vải thiều"]
    problem_of(api.get(f"{API}/plans/{province}/report?at=2023-12-31&org=C3"), 404, "not_found")
    problem_of(api.get(f"{API}/plans/{province}/report?org=P"), 404, "not_found")
    problem_of(api.get(f"{API}/plans/{district}"), 404, "not_found")
    problem_of(api.get(f"{API}/plans/{district}/report"), 404, "not_found")


def test_bad_days_and_units_are_problems(env: Env, plan_ids):
    province, _district = plan_ids
    api = ApiClient(env.app, issue(env, "passoc"), lang="en")
    body = problem_of(api.get(f"{API}/plans/{province}/report?at=2023-02-30"), 422, "invalid_data")
    assert "not a real date" in body["detail"]
    body = problem_of(api.get(f"{API}/plans/{province}/report?at=31/02/2024"), 422, "invalid_data")
    assert "use YYYY-MM-DD" in body["detail"]
    for day in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"):  # the web's range, 2000–2100
        body = problem_of(api.get(f"{API}/plans/{province}/report?at={day}"), 422, "invalid_data")
        assert "outside 2000–2100" in body["detail"]
    today = api.get(f"{API}/plans/{province}/report?at=&org=").get_json()  # empty: today, the reader's area
    assert (
        today["organisation"]["code"] == "P"
        and today["at"] == api.get(f"{API}/plans/{province}/report").get_json()["at"]
    )
    problem_of(api.get(f"{API}/plans/{province}/report?org=NOPE"), 404, "not_found")
    problem_of(api.get(f"{API}/plans/{province}/targets/999999/members"), 404, "not_found")
    problem_of(api.get(f"{API}/plans/999999"), 404, "not_found")
    problem_of(ApiClient(env.app, issue(env, "producer")).get(f"{API}/plans/{province}"), 404, "not_found")


def test_the_web_day_takes_ascii_digits_only():
    from web.plans.routes import BadDay, parse_day

    assert parse_day("31/12/2024") == date(2024, 12, 31) and parse_day("2024-12-31") == date(2024, 12, 31)
    for raw in ("٣١/١٢/٢٠٢٤", "٢٠٢٤-١٢-٣١", "３１/１２/２０２４"):
        with pytest.raises(BadDay):
            parse_day(raw)
