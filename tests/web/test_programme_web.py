"""The programme pages (`/programme`): each kind listed in the reader's area with its create form and row
forms for those who may; refusals beside the field (4xx, never 500); 403 for a role that neither reads
reports nor records; 404 for another district's record; the menu entry."""

from __future__ import annotations

import re

import pytest
from conftest import Env, csrf, login, text
from sqlalchemy import select
from test_browser import CHROMIUM, Walker, browser, server  # noqa: F401  (fixtures)

from ocop_workflow.models import MaterialArea, SalesPoint, Training, ValueChain


def _count(env: Env, model) -> int:
    with env.db.session() as s:
        return len(s.scalars(select(model)).all())


def test_a_commune_association_records_its_programme(client, env: Env):
    product = env.product(name="Vải thiều Phượng Sơn")
    login(client, env, "assoc")
    token = csrf(client, "/programme")
    index = text(client.get("/programme"))
    assert 'id="nav-programme"' in index and 'id="tile-areas"' in index
    c1 = env.world.orgs["C1"]

    # an area: a bad size is refused beside its field, in Vietnamese, and nothing is written
    r = client.post(
        "/programme/areas", data={"csrf_token": token, "commune_id": c1, "name": "Vùng vải", "area_ha": "0"}
    )
    assert r.status_code == 422 and _count(env, MaterialArea) == 0
    assert re.search(r'has-error">\s*<label for="area_ha"', text(r)) and "lớn hơn 0" in text(r)
    # a sign or a size past any province gets the rule's own message, not the form's generic one
    for typed in ("-5", "1.250.000.000"):
        r = client.post(
            "/programme/areas", data={"csrf_token": token, "commune_id": c1, "name": "Vùng vải", "area_ha": typed}
        )
        page = text(r)
        assert r.status_code == 422 and "không quá 1.000.000 ha" in page and "số thập phân hợp lệ" not in page
    r = client.post(
        "/programme/areas",
        data={"csrf_token": token, "commune_id": c1, "name": "Vùng vải", "area_ha": "12,5", "growing_code": "BG-01"},
    )
    assert r.status_code == 303
    page = text(client.get(r.headers["Location"]))
    assert "Vùng vải" in page and "12,5" in page and "BG-01" in page
    with env.db.session() as s:
        area = s.scalars(select(MaterialArea)).one().id

    # link a product: a date in the future stays on the page with the reason in the area's row
    r = client.post(
        f"/programme/areas/{area}/links", data={"csrf_token": token, "product_id": product, "linked_on": "01/01/2999"}
    )
    assert r.status_code == 422 and "chưa đến" in text(r)
    r = client.post(
        f"/programme/areas/{area}/links", data={"csrf_token": token, "product_id": product, "linked_on": "05/01/2026"}
    )
    assert r.status_code == 303
    page = text(client.get("/programme/areas"))
    assert "Vải thiều Phượng Sơn" in page and "05/01/2026" in page
    link = re.search(rf"/programme/areas/{area}/links/(\d+)/end", page).group(1)
    r = client.post(f"/programme/areas/{area}/links/{link}/end", data={"csrf_token": token, "day": "31/02/2026"})
    assert r.status_code == 422
    r = client.post(f"/programme/areas/{area}/links/{link}/end", data={"csrf_token": token, "day": "01/02/2026"})
    assert r.status_code == 303
    # without the CSRF token nothing happens
    r = client.post("/programme/areas", data={"commune_id": c1, "name": "Không token"})
    assert r.status_code == 400 and _count(env, MaterialArea) == 1

    # a training with attendance by role; no role at all is refused beside the attendance boxes
    form = {
        "csrf_token": token,
        "organisation_id": c1,
        "kind": "training",
        "held_on": "02/04/2026",
        "topic": "Câu chuyện",
    }
    r = client.post("/programme/trainings", data=form)
    assert r.status_code == 422 and "ít nhất một đối tượng" in text(r) and _count(env, Training) == 0
    r = client.post("/programme/trainings", data={**form, "people_producer": "30", "people_association_officer": "12"})
    assert r.status_code == 303
    page = text(client.get("/programme/trainings"))
    assert "Câu chuyện" in page and "02/04/2026" in page and ": 30" in page
    # the same session sent again (a double click, a reload) is refused, naming the one recorded
    r = client.post("/programme/trainings", data={**form, "people_producer": "30", "people_association_officer": "12"})
    assert r.status_code == 409 and _count(env, Training) == 1
    with env.db.session() as s:
        first = s.scalars(select(Training)).one().id
    assert f"Đã có buổi tập huấn #{first}" in text(r)


def test_district_chains_sales_points_scope_and_refusals(client, env: Env):
    login(client, env, "dassoc")
    token = csrf(client, "/programme/chains")
    d1, d2 = env.world.orgs["D1"], env.world.orgs["D2"]
    r = client.post(
        "/programme/chains",
        data={
            "csrf_token": token,
            "organisation_id": d1,
            "name": "Chuỗi vải thiều",
            "lead_producer_id": env.world.producer,
            "members": [env.world.producer2],
            "started_on": "10/01/2025",
        },
    )
    assert r.status_code == 303, text(r)
    with env.db.session() as s:
        chain = s.scalars(select(ValueChain)).one().id
    # a member that is not an id (a tampered or stale form) is refused beside its field, in Vietnamese
    r = client.post(
        "/programme/chains",
        data={"csrf_token": token, "organisation_id": d1, "name": "Chuỗi khác", "lead_name": "HTX"}
        | {"members": "abc", "started_on": "10/01/2025"},
    )
    page = text(r)
    assert r.status_code == 422 and "«abc» không có trong đó" in page and "could not be coerced" not in page
    assert _count(env, ValueChain) == 1
    r = client.post(f"/programme/chains/{chain}/working", data={"csrf_token": token, "day": "01/01/2025"})
    assert r.status_code == 422 and "trở đi" in text(r)  # «…» phải từ «…» trở đi
    assert (
        client.post(f"/programme/chains/{chain}/working", data={"csrf_token": token, "day": "01/09/2025"}).status_code
        == 303
    )
    assert "Đang hoạt động" in text(client.get("/programme/chains"))

    r = client.post(
        "/programme/sales-points",
        data={
            "csrf_token": token,
            "organisation_id": d1,
            "name": "Điểm bán Chũ",
            "address": "",
            "opened_on": "01/05/2023",
        },
    )
    assert r.status_code == 422 and _count(env, SalesPoint) == 0
    r = client.post(
        "/programme/sales-points",
        data={
            "csrf_token": token,
            "organisation_id": d1,
            "name": "Điểm bán Chũ",
            "address": "TT Chũ",
            "opened_on": "01/05/2023",
        },
    )
    assert r.status_code == 303
    # sent twice while the first is open: refused, nothing more written
    r = client.post(
        "/programme/sales-points",
        data={
            "csrf_token": token,
            "organisation_id": d1,
            "name": "Điểm bán Chũ",
            "address": "TT Chũ",
            "opened_on": "01/05/2023",
        },
    )
    assert r.status_code == 409 and "Đã có điểm bán #" in text(r) and _count(env, SalesPoint) == 1
    # another district's unit is not found; the filter over it too
    r = client.post(
        "/programme/sales-points",
        data={"csrf_token": token, "organisation_id": d2, "name": "X", "address": "Y", "opened_on": "01/05/2023"},
    )
    assert r.status_code in (404, 422) and _count(env, SalesPoint) == 1
    assert client.get(f"/programme/sales-points?org={d2}").status_code == 404
    with env.db.session() as s:
        point = s.scalars(select(SalesPoint)).one().id
    assert (
        client.post(
            f"/programme/sales-points/{point}/close", data={"csrf_token": token, "day": "31/12/2025"}
        ).status_code
        == 303
    )
    r = client.post(f"/programme/sales-points/{point}/close", data={"csrf_token": token, "day": "31/12/2025"})
    assert r.status_code == 409 and "đã đóng" in text(r)

    # the commune user of the other district sees none of it, and cannot act on it
    other = env.app.test_client()
    login(other, env, "officer3")
    other_token = csrf(other, "/programme")
    assert "Điểm bán Chũ" not in text(other.get("/programme/sales-points"))
    r = other.post(f"/programme/sales-points/{point}/close", data={"csrf_token": other_token, "day": "31/12/2025"})
    assert r.status_code == 404
    assert (
        other.post(f"/programme/chains/{chain}/stop", data={"csrf_token": other_token, "day": "31/12/2025"}).status_code
        == 404
    )


def test_who_sees_the_programme(client, env: Env):
    login(client, env, "producer")  # a producer's own account neither reads reports nor records
    assert client.get("/programme").status_code == 403
    assert 'id="nav-programme"' not in text(client.get("/"))
    reader = env.app.test_client()
    login(reader, env, "dcouncil")  # reads reports, records nothing: no forms
    page = text(reader.get("/programme/sales-points"))
    assert reader.get("/programme").status_code == 200 and 'id="new-sales-point"' not in page
    english = env.app.test_client()
    login(english, env, "passoc")
    english.set_cookie("lang", "en")
    page = text(english.get("/programme/areas?lang=en"))
    assert 'id="new-area"' in page


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_programme_pages_in_a_browser_at_1280_and_375(server, browser, web_template):  # noqa: F811
    """A district officer records a sales point on a phone; every page fits 375 px without sideways scrolling."""
    base, app = server
    env = Env(app, web_template, app.extensions["ocop"].db, None)
    env.product(name="Vải thiều Phượng Sơn")
    for width in (1280, 375):
        walker = Walker(browser, base, f"programme-{width}", width=width)
        walker.login(env.world.emails["dassoc"])
        if width == 375:
            walker.goto("/programme/sales-points", "sales-points-form")
            walker.page.fill("#name", "Điểm bán OCOP Chũ")
            walker.page.fill("#address", "Thị trấn Chũ")
            walker.page.fill("#opened_on", "01/05/2023")
            walker.page.click("#new-sales-point input[type=submit]")
            walker.page.wait_for_load_state()
            assert "Điểm bán OCOP Chũ" in walker.page.inner_text("#sales-points")
        for path in ("/programme", "/programme/areas", "/programme/chains", "/programme/sales-points"):
            walker.goto(path, path.strip("/").replace("/", "-"))
            overflow = walker.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (width, path, overflow)
        walker.goto("/programme/trainings", "trainings")
        walker.close()
    assert not Walker.csp_violations
