"""The process figures on the web and the API (issue #12, item 3): /reports/process and
GET /api/v1/reports/process over a hand-built history (ocop-148, calendar days; local times UTC+7).

  A (C1) idea Mon 03/03/2025 → production_plan Mon 10/03: 7 days (limit 30) within; 5 working days
  B (C1) idea Mon 03/03/2025 → production_plan Thu 10/04: 38 days, late; 27 working days (07/04 is a holiday)
  C (C3) idea Mon 05/05/2025 → production_plan Tue 06/05: within; 1 working day
  All three still in production_plan on 31/12/2025, each past its 60 days.
The province: idea 3 ended, 2 within (66,7 %), median 5; the commune C1: 2 ended, 1 within (50 %), median 16.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from api_client import API, ApiClient, issue
from conftest import PASSWORD, login, text
from test_browser import CHROMIUM

from ocop_workflow.models import Product, ProductEvent

VN = timezone(timedelta(hours=7))
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AT = "year=2025&at=2025-12-31"


def _t(day: str, hh: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hh), VN).astimezone(UTC)


def _seed(env) -> None:
    world = env.world
    plan = [
        ("A", world.producer, "C1", "2025-03-03", "2025-03-10"),
        ("B", world.producer, "C1", "2025-03-03", "2025-04-10"),
        ("C", world.producer3, "C3", "2025-05-05", "2025-05-06"),
    ]
    with env.db.transaction() as s:
        for name, producer, commune, entered, left in plan:
            p = Product(
                name=f"Sản phẩm {name}",
                name_folded=f"san pham {name.lower()}",
                product_group="food",
                producer_id=producer,
                commune_id=world.orgs[commune],
                workflow_key="ocop-148",
                workflow_version=2,
                state="production_plan",
                state_entered_at=_t(left),
                history_count=2,
            )
            s.add(p)
            s.flush()
            for seq, (source, dest, trigger, at) in enumerate(
                [(None, "idea", "create", _t(entered)), ("idea", "production_plan", "accept_idea", _t(left))], start=1
            ):
                s.add(
                    ProductEvent(
                        product_id=p.id,
                        seq=seq,
                        workflow_key="ocop-148",
                        workflow_version=2,
                        from_state=source,
                        to_state=dest,
                        trigger=trigger,
                        at=at,
                        data={},
                        dossier_fingerprint="0" * 64,
                    )
                )


def _cells(html: str, stage: str, level: str) -> list[str]:
    row = re.search(rf'<tr data-stage="{stage}" data-level="{level}">(.*?)</tr>', html, re.S)
    assert row, f"no line for {stage}/{level}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


@pytest.fixture
def seeded(env):
    _seed(env)
    return env


def test_the_page_shows_hand_counted_figures_in_vietnamese(seeded, client):
    login(client, seeded, "passoc")
    r = client.get(f"/reports/process?{AT}")
    assert r.status_code == 200
    html = text(r)
    idea = _cells(html, "idea", "commune")
    # stage, level, limit, ended, % within (within/with limit), median, open, late
    assert idea[:4] == ["Ý tưởng sản phẩm", "Xã", "30 ngày", "3"]
    assert idea[4] == "66,7 % (2/3)"
    assert idea[5:] == ["5", "0", "0"]
    plan = _cells(html, "plan", "commune")
    assert plan[3] == "0" and plan[6:] == ["3", "3"]
    assert "31/12/2025" in html
    # the default: this year, as of today (nothing of 2025 ended this year), still a page
    assert client.get("/reports/process").status_code == 200


def test_a_commune_sees_its_commune_only_and_others_are_not_found(seeded, client):
    login(client, seeded, "assoc")
    html = text(client.get(f"/reports/process?{AT}"))
    assert "Phượng Sơn" in html
    idea = _cells(html, "idea", "commune")
    assert idea[3:] == ["2", "50,0 % (1/2)", "16", "0", "0"]
    for code in ("C3", "D1", "P", "NOPE"):
        assert client.get(f"/reports/process?{AT}&org={code}").status_code == 404, code


@pytest.mark.parametrize(
    "query",
    [
        "year=abc",
        "year=1999",
        "year=2025&at=2024-06-01",
        "at=2025-02-30",
        "at=31/02/2025",
        "at=2999-01-01",
        "year=20255",
    ],
)
def test_bad_years_and_days_are_400(seeded, client, query):
    login(client, seeded, "passoc")
    r = client.get(f"/reports/process?{query}")
    assert r.status_code == 400, query
    assert 'id="process-error"' in text(r) and 'id="process-filters"' in text(r)  # the reason, and the form kept


def test_the_api_gives_the_same_figures_and_scope(seeded):
    province = ApiClient(seeded.app, issue(seeded, "passoc"))
    body = province.get(f"{API}/reports/process?{AT}").get_json()
    rows = {(r["stage"], r["level"]): r for r in body["rows"]}
    idea = rows[("idea", "commune")]
    assert (idea["ended"], idea["within_sla"], idea["share_within_sla"], idea["median_working_days"]) == (3, 2, 66.7, 5)
    assert body["organisation"]["code"] == "P" and body["years"] == [2025]
    district = province.get(f"{API}/reports/process?{AT}&org=D2").get_json()
    assert {(r["stage"], r["ended"]) for r in district["rows"]} >= {("idea", 1)}
    commune = province.as_(issue(seeded, "assoc"))
    mine = commune.get(f"{API}/reports/process?{AT}").get_json()
    assert [r["ended"] for r in mine["rows"] if r["stage"] == "idea"] == [2]
    assert commune.get(f"{API}/reports/process?{AT}&org=C3").status_code == 404
    assert commune.get(f"{API}/reports/process?year=abc").status_code == 400
    assert commune.get(f"{API}/reports/process?year=1999").status_code == 400  # below the schema's minimum
    assert commune.get(f"{API}/reports/process?at=31/12/2025").status_code == 422  # "use YYYY-MM-DD"
    assert commune.get(f"{API}/reports/process?at=&org=").status_code == 200  # empty: today, your area
    # the right shape, refused by the rules: 422 with the reason
    assert commune.get(f"{API}/reports/process?at=2025-02-30").status_code == 422
    late = commune.get(f"{API}/reports/process?year=2026&at=2025-12-31")
    assert late.status_code == 422 and "2026" in late.get_json()["detail"]
    # a producer's own account may not read reports
    assert province.as_(issue(seeded, "producer")).get(f"{API}/reports/process").status_code == 403


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_the_page_at_1280_and_375_px(tmp_path, web_template):
    """At 375 px the page fits the phone and the table scrolls in its own box."""
    import threading

    from conftest import make_app
    from waitress.server import create_server

    sync_api = pytest.importorskip("playwright.sync_api")
    app, db = make_app(tmp_path, web_template)

    class _Env:
        pass

    env = _Env()
    env.app, env.db, env.world = app, db, web_template
    _seed(env)
    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.effective_port}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            for width in (1280, 375):
                context = browser.new_context(viewport={"width": width, "height": 800}, locale="vi-VN")
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("input[name=email]", web_template.emails["passoc"])
                page.fill("input[name=password]", PASSWORD)
                page.click("main form input[type=submit]")
                page.wait_for_url(base + "/")
                page.goto(f"{base}/reports/process?{AT}")
                assert page.inner_text("#process-table tr[data-stage=idea] td:nth-child(5)").startswith("66,7 %")
                page.screenshot(path=str(SHOTS / f"process-{width}.png"), full_page=True)
                page_width = page.evaluate("document.documentElement.scrollWidth")
                assert page_width <= width, f"the page is {page_width} px wide at {width} px"
                box = page.evaluate(
                    "(() => { const b = document.getElementById('process-scroll');"
                    " return [b.scrollWidth, b.clientWidth]; })()"
                )
                if width == 375:
                    assert box[0] > box[1], "the table should scroll inside its box on a phone"
                context.close()
            browser.close()
    finally:
        srv.close()
        thread.join(timeout=5)
        db.dispose()


def test_the_page_reads_days_as_people_write_them(seeded, client):
    login(client, seeded, "passoc")
    r = client.get("/reports/process?year=2025&at=31/12/2025")
    assert r.status_code == 200 and "31/12/2025" in text(r) and 'id="process-error"' not in text(r)
