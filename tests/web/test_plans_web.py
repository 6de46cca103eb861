"""The plan pages (web/plans) on the demo: what each reader sees, the drill-down, the files, bad input."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from conftest import text
from sqlalchemy import select

from ocop_workflow import migrate_db
from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.demo import load_demo
from ocop_workflow.engine import get_registry
from ocop_workflow.models import Plan, User

SCHEME = "615/QĐ-UBND"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The demo, loaded once for this module, behind the web app (reading only)."""
    from web import create_app

    tmp = tmp_path_factory.mktemp("plans-web")
    url = f"sqlite:///{tmp / 'demo.sqlite3'}"
    migrate_db.upgrade(url)
    db = Database(url)
    load_demo(db, get_registry(), tmp / "uploads", now=datetime.now(UTC))
    with db.session() as s:
        plans = {p.basis_number: p.id for p in s.scalars(select(Plan))}
    db.dispose()
    settings = replace(
        Settings(),
        database_url=url,
        upload_dir=tmp / "uploads",
        instance_path=tmp / "instance",
        secret_key="plans-web-test-secret-key-0123456789",
    )
    app = create_app(settings, {"TESTING": True, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    yield app, plans
    app.extensions["ocop"].db.dispose()


def signed_in(app, local: str):
    """A test client logged in as a demo user (the session flask-login would have made, without argon2)."""
    from flask_login.utils import _create_identifier

    from ocop_workflow.services.sessions import start_session

    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
    with app.extensions["ocop"].db.transaction() as s:
        user = s.scalars(select(User).where(User.email == f"{local}@demo.ocop.vn")).one()
        token = start_session(s, user, lifetime=timedelta(hours=1)).token
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["_id"] = token, True, ident
    return client


def test_the_plans_list_and_menu(demo_app):
    app, plans = demo_app
    page = text(signed_in(app, "hoind.tinh").get("/plans"))
    assert 'id="nav-plans"' in page
    assert "615/QĐ-UBND, 22/04/2022" in page and "25/KH-UBND" in page
    assert "2022–2025" in page and re.search(r"\d+ đạt", page) and re.search(r"\d+ chậm", page)
    producer = signed_in(app, "chuthe.phuongson")
    assert 'id="nav-plans"' not in text(producer.get("/"))


def test_the_province_sees_every_district_ranked_with_lang_giang_last(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    response = client.get(f"/plans/{plans[SCHEME]}?at=31/12/2025")
    page = text(response)
    assert response.status_code == 200
    assert 'id="report-at">31/12/2025' in page and "Tỉnh Bắc Giang" in page
    codes = re.findall(r'<tr data-code="(\d+)">', page)
    assert len(codes) == 10 and codes[-1] == "217"
    for label in ("Sản phẩm mới được Hội hỗ trợ", "Mô hình liên kết chuỗi giá trị mới"):
        assert label in page
    assert page.count('class="plan-years"') >= 8 and 'class="plan-ranking"' in page
    assert "Đạt" in page and "Chậm tiến độ" in page
    assert f'href="/plans/{plans[SCHEME]}?at=31/12/2025&amp;org=219"' in page  # a district's own report


def test_a_commune_user_sees_only_its_commune(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.phuongson")
    page = text(client.get(f"/plans/{plans[SCHEME]}"))
    assert 'id="report-area">Xã Phượng Sơn' in page
    assert "Huyện Lạng Giang" not in page and "Xã Hồng Giang" not in page  # no other unit, not even in the picker
    assert 'class="plan-ranking"' not in page
    assert client.get(f"/plans/{plans[SCHEME]}?org=219").status_code == 404  # its district is outside
    assert client.get(f"/plans/{plans[SCHEME]}?org=07621").status_code == 404  # a neighbour commune too
    assert client.get(f"/plans/{plans[SCHEME]}?org=NOPE").status_code == 404
    target = re.search(r'href="(/plans/\d+/targets/\d+[^"]*)"', page).group(1).replace("&amp;", "&")
    drill = text(client.get(target))
    districts = set(re.findall(r'data-label="Huyện">([^<]*)<', drill))
    assert districts <= {"Huyện Lục Ngạn", ""}
    communes = set(re.findall(r'data-label="Xã">([^<]*)<', drill))
    assert communes <= {"Xã Phượng Sơn", ""}


def test_the_district_association_sees_its_communes(demo_app):
    app, plans = demo_app
    page = text(signed_in(app, "hoind.lucngan").get(f"/plans/{plans[SCHEME]}"))
    assert 'id="report-area">Huyện Lục Ngạn' in page
    assert set(re.findall(r'<tr data-code="(\w+)">', page)) == {"07606", "07621", "07660"}


def test_a_figure_drills_down_to_its_products(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    page = text(client.get(f"/plans/{plans[SCHEME]}?at=31/12/2024"))
    row = re.search(r'<tr class="target status-\w+" id="target-(\d+)">\s*<td[^>]*>Sản phẩm mới được Hội hỗ trợ', page)
    tid = row.group(1)
    figure = re.search(rf'targets/{tid}\?[^"]*" class="figure">([^<]+)<', page).group(1)
    drill = text(client.get(f"/plans/{plans[SCHEME]}/targets/{tid}?at=31/12/2024"))
    links = re.findall(r'<a href="/products/\d+">', drill)
    assert str(len(links)) == figure.split()[0]
    assert 'id="figure">' + figure in drill


@pytest.mark.parametrize("bad", ["31/02/2024", "hôm qua", "2024-13-01", "01/01/1800"])
def test_a_bad_day_is_400_with_the_form_again(demo_app, bad):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    response = client.get(f"/plans/{plans[SCHEME]}", query_string={"at": bad})
    assert response.status_code == 400
    assert 'id="at-error"' in text(response) and 'id="report-form"' in text(response)
    assert client.get(f"/plans/{plans[SCHEME]}/report.xlsx", query_string={"at": bad}).status_code == 400


def test_unknown_or_invisible_plans_are_404(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    assert client.get("/plans/999999").status_code == 404
    assert client.get(f"/plans/{plans[SCHEME]}/targets/999999").status_code == 404
    assert signed_in(app, "chuthe.phuongson").get(f"/plans/{plans[SCHEME]}").status_code in (403, 404)


def test_the_files_download_with_vietnamese_names(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    xlsx = client.get(f"/plans/{plans[SCHEME]}/report.xlsx?at=31/12/2024")
    assert xlsx.status_code == 200
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = xlsx.headers["Content-Disposition"]
    assert 'filename="Bao-cao-tien-do-615-QD-UBND-Tinh-Bac-Giang-31-12-2024.xlsx"' in disposition
    assert (
        unquote(disposition.split("filename*=UTF-8''")[1])
        == "Báo cáo tiến độ 615-QĐ-UBND Tỉnh Bắc Giang 31-12-2024.xlsx"
    )
    assert zipfile.ZipFile(io.BytesIO(xlsx.data)).namelist()  # an Office file is a zip
    csv = client.get(f"/plans/{plans[SCHEME]}/report-csv.zip?at=31/12/2024")
    assert csv.status_code == 200 and csv.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(csv.data)).namelist()
    assert names and all(n.endswith(".csv") for n in names)


def _target_id(page: str, label: str) -> str:
    """The id of the first target row of the plan page whose indicator is `label`."""
    return re.search(rf'<tr class="target status-\w+" id="target-(\d+)">\s*<td[^>]*>{label}', page).group(1)


def test_a_training_figure_lists_its_sessions_with_their_attendees_adding_up_to_it(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    page = text(client.get(f"/plans/{plans[SCHEME]}?at=31/12/2024"))
    tid = _target_id(page, "Lượt cán bộ Hội được tập huấn")
    drill = text(client.get(f"/plans/{plans[SCHEME]}/targets/{tid}?at=31/12/2024"))
    figure = re.search(r'id="figure">([^<]+)<', drill).group(1)
    assert 'class="num">Số người</th>' in drill
    people = [
        int(v.replace(".", "")) for v in re.findall(r'class="num member-value" data-label="Số người">([^<]+)<', drill)
    ]
    assert len(people) > 1 and min(people) > 1  # sessions, each with its attendees
    assert sum(people) == int(figure.replace(".", ""))
    assert re.search(r'>Tổng cộng</th><td class="num" id="members-sum"[^>]*>' + re.escape(figure) + "<", drill)
    # a revenue target lists each product's revenue of the year after its recognition, in đồng
    plan_2023 = text(client.get(f"/plans/{plans['25/KH-UBND']}?at=31/12/2025"))
    tid = _target_id(plan_2023, "Doanh thu sau 1 năm công nhận")
    drill = text(client.get(f"/plans/{plans['25/KH-UBND']}/targets/{tid}?at=31/12/2025"))
    amounts = re.findall(r'data-label="Doanh thu năm sau công nhận \(đồng\)">([\d.]+)<', drill)
    assert amounts and all(int(a.replace(".", "")) >= 1_000_000 for a in amounts)


def test_a_new_supported_product_says_since_when_in_a_readable_date(demo_app):
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    page = text(client.get(f"/plans/{plans[SCHEME]}"))
    tids = re.findall(r'<tr class="target status-\w+" id="target-(\d+)">\s*<td[^>]*>Sản phẩm mới được Hội hỗ trợ', page)
    drills = [text(client.get(f"/plans/{plans[SCHEME]}/targets/{tid}")) for tid in tids]
    drill = next(d for d in drills if 'href="/products/' in d)  # 2022's has none: no demo product existed yet
    details = re.findall(r'data-label="Chi tiết">([^<]*)<', drill)
    assert details and all(re.fullmatch(r"Hỗ trợ từ \d\d/\d\d/\d{4}", d) for d in details)  # as in the files
    assert not re.search(r"\d{4}-\d\d-\d\d", drill)
    assert "Số người" not in drill and 'id="members-sum"' not in drill  # one product adds one: no sum column


def test_a_long_drill_down_is_paginated_and_the_file_keeps_every_row(demo_app, monkeypatch):
    import openpyxl

    from web.plans import routes

    size = 4  # the real page is 100 rows: the demo's province has fewer sessions a year
    monkeypatch.setattr(routes, "MEMBERS_PAGE", size)
    app, plans = demo_app
    client = signed_in(app, "hoind.tinh")
    at = "31/12/2025"
    page = text(client.get(f"/plans/{plans[SCHEME]}?at={at}"))
    tid = _target_id(page, "Lượt cán bộ Hội được tập huấn")
    url = f"/plans/{plans[SCHEME]}/targets/{tid}"
    first = text(client.get(url, query_string={"at": at}))
    total = int(re.search(r'id="members-total">\((\d+)\)', first).group(1))
    assert total > 2 * size  # three pages at least
    pages = -(-total // size)
    assert f"Trang 1/{pages}" in first
    assert f"Dòng 1–{size} trong {total}" in first
    assert f'href="/plans/{plans[SCHEME]}/targets/{tid}?page=2&amp;at=31/12/2025"' in first
    seen, sums = [], set()
    for n in range(1, pages + 1):
        body = text(client.get(url, query_string={"at": at, "page": n}))
        rows = re.findall(r'<tr>\s*<td data-label="Tên">([^<]*)<', body)
        assert len(rows) == (size if n < pages else total - size * (pages - 1))
        seen += rows
        sums.add(re.search(r'id="members-sum"[^>]*>([^<]+)<', body).group(1))
    assert len(seen) == total and len(sums) == 1  # every page shows the total of all pages: the figure
    assert sums == {re.search(r'id="figure">([^<]+)<', first).group(1)}
    # a page past the end shows the last one, a malformed one the first (never a 500)
    assert f"Trang {pages}/{pages}" in text(client.get(url, query_string={"at": at, "page": 999}))
    assert "Trang 1/" in text(client.get(url, query_string={"at": at, "page": "x"}))
    xlsx = client.get(f"/plans/{plans[SCHEME]}/report.xlsx", query_string={"at": at})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Tập huấn cán bộ Hội"]
    year = re.search(r"<small class=\"muted\">(\d{4})</small>", first).group(1)
    assert sum(1 for row in sheet.iter_rows(min_row=2, values_only=True) if str(row[1]) == year) == total
