"""Loading a plan from its file on the web (/plans/load): the province's association loads the YAML or
the XLSX template, a broken file lists every problem with its line or cell and saves nothing, a
commune officer has no form and is refused, and the template downloads read back as a plan."""

from __future__ import annotations

import io

from conftest import Env, csrf, login, text, upload
from openpyxl import load_workbook
from sqlalchemy import func, select

from ocop_workflow.models import Plan, PlanTarget
from ocop_workflow.reports.plans import read_plan

PLAN = """kind: plan
name: "Kế hoạch OCOP thử nghiệm"
basis: {number: "12/KH-UBND", date: 2024-01-15}
organisation: "P"
body: office
years: [2024, 2025]
targets:
  - {indicator: new_supported, each_year: true, at_least: 10}
  - {indicator: reached_3_star, at_least: 5}
""".encode()

BROKEN = """kind: plan
name: "Kế hoạch hỏng"
basis: {number: "13/KH-UBND", date: 2024-02-30}
organisation: "P"
body: office
years: [2024, 2025]
targets:
  - {indicator: san_pham_moi, at_least: 10}
  - {indicator: reached_3_star, year: 2030, at_least: 5}
""".encode()


def _plans(env: Env) -> int:
    with env.db.session() as s:
        return s.scalar(select(func.count()).select_from(Plan))


def test_the_province_loads_a_plan_and_a_broken_file_saves_nothing(env: Env) -> None:
    client = login(env.app.test_client(), env, "passoc")
    page = client.get("/plans")
    assert page.status_code == 200 and 'id="load-plan"' in text(page)
    token = csrf(client, "/plans")

    done = upload(client, "/plans/load", {"csrf_token": token}, "ke-hoach.yaml", PLAN)
    assert done.status_code == 303
    plan_url = done.headers["Location"]
    shown = client.get(plan_url)
    assert shown.status_code == 200 and "Kế hoạch OCOP thử nghiệm" in text(shown)
    with env.db.session() as s:
        plan = s.scalars(select(Plan).where(Plan.name == "Kế hoạch OCOP thử nghiệm")).one()
        assert s.scalar(select(func.count()).where(PlanTarget.plan_id == plan.id)) == 3  # 2 years + the period
    before = _plans(env)

    refused = upload(client, "/plans/load", {"csrf_token": token}, "hong.yaml", BROKEN)
    assert refused.status_code == 422
    page = text(refused)
    assert 'id="plan-problems"' in page
    for place in ("hong.yaml:3", "hong.yaml:8", "hong.yaml:9"):  # the date, the indicator, the year
        assert place in page, place
    assert _plans(env) == before

    # the stored plan as the XLSX template: the same plan when read back
    file = client.get(plan_url.split("?")[0] + "/plan.xlsx")
    assert file.status_code == 200 and file.mimetype.endswith("spreadsheetml.sheet")
    again = read_plan(file.data, "plan.xlsx")
    assert not again.problems and again.name == "Kế hoạch OCOP thử nghiệm" and len(again.targets) == 3
    # the empty template opens in Excel's format, with the targets sheet
    empty = client.get("/plans/template.xlsx")
    assert "Chỉ tiêu" in load_workbook(io.BytesIO(empty.data)).sheetnames


def test_a_commune_officer_has_no_form_and_is_refused(env: Env) -> None:
    client = login(env.app.test_client(), env, "officer")
    page = client.get("/plans")
    assert page.status_code == 200 and 'id="load-plan"' not in text(page)
    token = csrf(client, "/plans")
    assert upload(client, "/plans/load", {"csrf_token": token}, "ke-hoach.yaml", PLAN).status_code == 403
    assert _plans(env) == 0


def test_a_load_without_the_form_token_is_refused(env: Env) -> None:
    client = login(env.app.test_client(), env, "passoc")
    assert upload(client, "/plans/load", {}, "ke-hoach.yaml", PLAN).status_code == 400
    assert _plans(env) == 0


def test_a_plan_of_a_unit_the_reader_does_not_keep_is_refused_on_the_form(env: Env) -> None:
    client = login(env.app.test_client(), env, "dassoc")  # the district's association, loading the province's plan
    token = csrf(client, "/plans")
    refused = upload(client, "/plans/load", {"csrf_token": token}, "ke-hoach.yaml", PLAN)
    assert refused.status_code == 403
    page = text(refused)
    assert 'id="plan-problems"' in page and "ke-hoach.yaml" in page and 'id="load-plan"' in page
    assert _plans(env) == 0


def test_the_empty_template_has_no_target_and_loads_as_a_clear_refusal(env: Env) -> None:
    client = login(env.app.test_client(), env, "passoc")
    empty = client.get("/plans/template.xlsx").data
    assert load_workbook(io.BytesIO(empty))["Chỉ tiêu"].max_row == 1  # the header only: no example to load by mistake
    token = csrf(client, "/plans")
    refused = upload(client, "/plans/load", {"csrf_token": token}, "mau.xlsx", empty)
    assert refused.status_code == 422 and "chưa có chỉ tiêu nào" in text(refused)


def test_a_producer_has_no_plans_page(env: Env) -> None:
    client = login(env.app.test_client(), env, "producer")
    assert client.get("/plans").status_code == 403
