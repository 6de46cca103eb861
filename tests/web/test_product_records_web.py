"""The product page's "Support and market" section (issue #12): what it shows, who sees its forms, the
forms recording support, listings and revenue (303 back with a flash), refusals next to the field (4xx,
never 500), 403 with the reason and 404 outside the area."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import Env, csrf, login, text
from test_browser import CHROMIUM, Walker, browser, server  # noqa: F401  (fixtures)

from ocop_workflow.models import MaterialArea, MaterialAreaProduct, ProductSupport
from ocop_workflow.services.certificates import local_day


def _post(client, path: str, token: str, **fields):
    return client.post(path, data={"csrf_token": token, **fields})


def _count(env, model) -> int:
    from sqlalchemy import func, select

    with env.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_an_association_officer_records_support_listing_and_revenue(env, client):
    pid = env.product()
    with env.db.transaction() as s:
        area = MaterialArea(name="Vùng vải thiều VietGAP", commune_id=env.world.orgs["C1"], area_ha=85.5)
        s.add(area)
        s.flush()
        s.add(MaterialAreaProduct(area_id=area.id, product_id=pid, linked_on=date(2024, 5, 1)))
    login(client, env, "assoc")
    page = text(client.get(f"/products/{pid}"))
    assert "Hỗ trợ và thị trường" in page and 'id="support-form"' in page and 'id="revenue-form"' in page
    assert "Vùng vải thiều VietGAP" in page and "85,5 ha" in page
    token = csrf(client, f"/products/{pid}")

    r = _post(client, f"/products/{pid}/supports", token, organisation_id=env.world.orgs["C1"],
              officer=env.world.emails["assoc"], started_on="01/03/2025", note="Hướng dẫn bao bì")  # fmt: skip
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/products/{pid}#support-market")
    r = _post(client, f"/products/{pid}/listings", token, platform="postmart",
              url="https://postmart.vn/vai-thieu-123", listed_on="15/06/2025")  # fmt: skip
    assert r.status_code == 303
    r = _post(client, f"/products/{pid}/revenues", token, year="2025", amount="1.250.000.000")
    assert r.status_code == 303
    page = text(client.get(f"/products/{pid}"))
    assert "Đã kê khai doanh thu năm 2025." in page  # the flash
    section = page[page.index('id="support-market"') :]
    assert "Phượng Sơn" in section and "01/03/2025" in section and "Người dùng assoc" in section
    assert "Sàn TMĐT Postmart" in section and 'href="https://postmart.vn/vai-thieu-123"' in section
    assert "1.250.000.000 đ" in section

    # end the support, remove the listing
    with env.db.session() as s:
        support_id = s.query(ProductSupport.id).scalar()
    today = local_day().strftime("%d/%m/%Y")
    assert _post(client, f"/products/{pid}/supports/{support_id}/end", token, ended_on=today).status_code == 303
    listing_id = int(re.search(r'id="listing-(\d+)"', section).group(1))
    r = _post(client, f"/products/{pid}/listings/{listing_id}/remove", token, removed_on="28/02/2025")
    assert r.status_code == 422  # before it was listed: said next to the date
    body = text(r)
    assert "has-error" in body and "phải từ «Lên sàn từ ngày» (15/06/2025)" in body
    assert _post(client, f"/products/{pid}/listings/{listing_id}/remove", token, removed_on=today).status_code == 303
    section = text(client.get(f"/products/{pid}"))
    section = section[section.index('id="support-market"') :]
    assert f"{today}</td>" in section and 'id="end-support-' not in section and 'id="remove-listing-' not in section


def test_refusals_are_shown_next_to_the_field(env, client):
    pid = env.product()
    login(client, env, "assoc")
    token = csrf(client, f"/products/{pid}")
    c1, c3 = str(env.world.orgs["C1"]), str(env.world.orgs["C3"])
    cases = [
        ("revenues", {"year": "1999", "amount": "5"}, "Năm phải từ 2000", 422),
        ("revenues", {"year": "2025", "amount": "1,25 tỷ"}, "số đồng nguyên", 422),
        ("listings", {"platform": "shopee", "url": "ftp://shopee.vn/x", "listed_on": "01/01/2025"}, "http://", 422),
        ("listings", {"platform": "amazon", "url": "https://a.vn/x", "listed_on": "1/1/2025"}, "Lựa chọn không", 422),
        ("listings", {"platform": "shopee", "url": "https://shopee.vn/x", "listed_on": "31/31/25"}, "dd/mm/yyyy", 422),
        ("supports", {"organisation_id": c3, "started_on": "01/01/2025"}, "phải là cơ sở Hội", 422),
        ("supports", {"organisation_id": c1, "started_on": "01/01/2099"}, "chưa đến", 422),
        ("supports", {"organisation_id": c1, "officer": "officer@test.ocop.vn",
                      "started_on": "01/01/2025"}, "không phải cán bộ Hội Nông dân", 422),
        ("supports", {"organisation_id": "x", "started_on": "01/01/2025"}, "Lựa chọn không hợp lệ", 422),
    ]  # fmt: skip
    for what, fields, message, status in cases:
        r = _post(client, f"/products/{pid}/{what}", token, **fields)
        assert r.status_code == status, (what, fields, text(r)[:300])
        assert message in text(r), (what, fields)
        assert "has-error" in text(r) or 'id="record-error"' in text(r)
    assert _count(env, ProductSupport) == 0
    # a second open support by the same unit is a conflict
    ok = {"organisation_id": str(env.world.orgs["C1"]), "started_on": "01/01/2025"}
    assert _post(client, f"/products/{pid}/supports", token, **ok).status_code == 303
    r = _post(client, f"/products/{pid}/supports", token, **ok)
    assert r.status_code == 409 and "đang hỗ trợ sản phẩm này từ 01/01/2025" in text(r)
    # no CSRF token: refused
    assert client.post(f"/products/{pid}/revenues", data={"year": "2025", "amount": "1"}).status_code == 400


def test_who_sees_the_forms_and_who_is_refused(env, client):
    pid = env.product()
    other = env.product(key="officer3", name="Gà đồi Yên Thế", producer=env.world.producer3)
    login(client, env, "officer")  # the commune's OCOP officer: records the market, not the support
    page = text(client.get(f"/products/{pid}"))
    assert 'id="revenue-form"' in page and 'id="listing-form"' in page and 'id="support-form"' not in page
    token = csrf(client, f"/products/{pid}")
    r = _post(client, f"/products/{pid}/supports", token, organisation_id=env.world.orgs["C1"], started_on="01/01/2025")
    assert r.status_code == 403 and "Hội Nông dân" in text(r)
    # another district's product is not found, whatever the form
    assert _post(client, f"/products/{other}/revenues", token, year="2025", amount="1").status_code == 404
    assert _post(client, f"/products/{pid}/listings/999/remove", token, removed_on="01/01/2025").status_code == 404
    assert _post(client, f"/products/{pid}/supports/999/end", token, ended_on="01/01/2025").status_code == 404

    reader = env.app.test_client()
    login(reader, env, "dcouncil")  # a council member reads the section, records nothing
    page = text(reader.get(f"/products/{pid}"))
    assert "Hỗ trợ và thị trường" in page and "record-form" not in page
    token = csrf(reader, f"/products/{pid}")
    assert _post(reader, f"/products/{pid}/revenues", token, year="2025", amount="1").status_code == 403

    district = env.app.test_client()
    login(district, env, "dassoc")  # the district's association names its unit or the commune's
    page = text(district.get(f"/products/{pid}"))
    options = re.findall(r'<option[^>]*value="(\d+)"[^>]*>', page[page.index('id="support-form"') :])
    assert set(options) == {str(env.world.orgs["C1"]), str(env.world.orgs["D1"])}
    assert re.search(rf'<option selected value="{env.world.orgs["D1"]}"|value="{env.world.orgs["D1"]}" selected', page)


def test_the_revenue_example_is_written_as_the_reader_writes_numbers(env, client):
    pid = env.product()
    login(client, env, "officer")
    assert 'placeholder="1.250.000.000"' in text(client.get(f"/products/{pid}"))
    english = env.app.test_client()
    login(english, env, "officer")
    english.post("/language", data={"csrf_token": csrf(english, "/"), "locale": "en"})
    page = text(english.get(f"/products/{pid}"))
    assert 'placeholder="1,250,000,000"' in page and "1.250.000.000" not in page


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_the_records_section_fits_a_phone_in_english_with_its_forms_open(server, browser, web_template):  # noqa: F811
    """At 375 px in English (the longer labels: "Remove from the platform") with every folded form of the
    section opened, nothing runs off the screen sideways."""
    from sqlalchemy import update

    from ocop_workflow.models import User
    from ocop_workflow.services import product_records as records
    from ocop_workflow.services.access import load_actor

    base, app = server
    env = Env(app, web_template, app.extensions["ocop"].db, None)
    pid = env.product(name="Vải thiều Lục Ngạn sấy khô loại đặc biệt")
    email = env.world.emails["assoc"]
    with env.db.transaction() as s:
        who = load_actor(s, email)
        records.add_support(s, who, pid, organisation_id=env.world.orgs["C1"], started_on=date(2025, 3, 1))
        platforms = app.extensions["ocop"].registry.catalogue.ecommerce_platforms
        records.add_listing(
            s, who, pid, platform="postmart", url="https://postmart.vn/gian-hang/vai-thieu-luc-ngan-say-kho-dac-biet",
            listed_on=date(2025, 4, 1), platforms=platforms,
        )  # fmt: skip
        s.execute(update(User).where(User.email == email).values(locale="en"))
    walker = Walker(browser, base, "records-375-en", width=375)
    walker.login(email)
    walker.goto(f"/products/{pid}", "product")
    walker.page.evaluate("document.querySelectorAll('#support-market details').forEach(d => d.open = true)")
    assert walker.page.locator("#support-market [value='Remove from the platform']").is_visible()
    walker.shot("forms-open")
    overflow = walker.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = walker.page.evaluate(
        "[...document.querySelectorAll('#support-market *')].filter(e => e.getBoundingClientRect().right >"
        " window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"
    )
    walker.close()
    assert overflow <= 0, (overflow, wide)
