"""The workflow's pages (issue #11): the diagram on the product page and on a page per definition, the menu
link, and the new-product form (an empty producer choice; the rules in force today, explained)."""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import PASSWORD, csrf, login, make_app, text

from ocop_workflow.engine import get_registry

SVG_RE = re.compile(r"<svg .*?</svg>", re.S)
SVG = "{http://www.w3.org/2000/svg}"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+\s*=|javascript:", re.I)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _svg(page: str) -> ET.Element:
    found = SVG_RE.findall(page)
    assert len(found) == 1
    return ET.fromstring(found[0])


def _classes(root: ET.Element, state: str) -> list[str]:
    return next(g.get("class").split() for g in root.iter(f"{SVG}g") if g.get("data-state") == state)


def _new_product(client, **fields):
    data = {"csrf_token": csrf(client, "/"), "name": "Vải thiều Phượng Sơn", "product_group": "food", "subgroup": ""}
    data.update(fields)
    return client.post("/products/new", data=data)


@pytest.mark.parametrize("key", ["ocop-148", "ocop-1489"])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_page_per_definition_shows_its_diagram_dates_states_and_steps(env, client, key, locale):
    login(client, env, "admin" if locale == "en" else "officer")
    listing = text(client.get("/workflows"))
    assert 'id="nav-workflows"' in listing and f"/workflows/{key}/2" in listing
    r = client.get(f"/workflows/{key}")
    page = text(r)
    assert r.status_code == 200 and not INLINE.search(page)
    d = get_registry().latest(key)
    root = _svg(page)
    loc = "en" if "Legal basis" in page else "vi"
    for state in d.states.values():
        assert html.escape(state.label.get(loc), quote=False) in page
    assert not [g for g in root.iter(f"{SVG}g") if "current" in (g.get("class") or "").split()]
    assert "<details" in page and ">=" not in page
    if key == "ocop-148":
        assert "24/02/2023" in page and "05/07/2025" in page
        assert "≥ 70" in page  # the district forwards from 70 points
    else:
        assert "06/07/2025" in page
    assert client.get("/workflows/ocop-148/9").status_code == 404
    assert client.get("/workflows/nope").status_code == 404


def test_the_product_page_draws_the_diagram_with_the_state_and_path(env, client):
    login(client, env, "officer")
    r = _new_product(client, producer_id=env.world.producer, workflow_key="ocop-148")
    assert r.status_code == 302, text(r)
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    page = text(client.get(f"/products/{pid}"))
    assert not INLINE.search(page) and 'class="flow"' not in page
    root = _svg(page)
    assert "current" in _classes(root, "idea") and "current" not in _classes(root, "production_plan")
    assert 'href="/workflows/ocop-148/2"' in page
    env.attach(pid, "idea_registration")
    env.fire(pid, "accept_idea")
    root = _svg(text(client.get(f"/products/{pid}")))
    assert "visited" in _classes(root, "idea") and "current" in _classes(root, "production_plan")
    taken = [p for p in root.iter(f"{SVG}path") if "taken" in (p.get("class") or "").split()]
    assert [(p.get("data-from"), p.get("data-to")) for p in taken] == [("idea", "production_plan")]


@pytest.mark.app_config(DEFAULT_WORKFLOW="")
def test_the_form_asks_for_the_producer_and_defaults_to_the_rules_in_force(env, client):
    login(client, env, "officer")
    page = text(client.get("/products/new"))
    select = re.search(r'<select[^>]*name="producer_id".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>([^<]*)</option>", select)
    assert first.group(1) == "— Chọn chủ thể —" and 'value=""' in first.group(0)
    assert select.count("selected") == 1 and "selected" in first.group(0)  # no silent preselection
    rules = re.search(r'<select[^>]*name="workflow_key".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="ocop-1489"|<option value="ocop-1489" selected', rules)
    # the rules no longer in force are still listed (a province may choose them) but say so
    labels = dict(re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)</option>', rules))
    assert labels["ocop-148"].endswith("(không áp dụng hôm nay)") and "không áp dụng" not in labels["ocop-1489"]
    assert "Quy định áp dụng từ 06/07/2025" in page
    r = _new_product(client, producer_id="", workflow_key="ocop-1489")
    assert r.status_code == 422 and "Trường này là bắt buộc." in text(r)
    r = _new_product(client, producer_id=env.world.producer, workflow_key="ocop-148")
    assert r.status_code == 422 and "không áp dụng ngày" in text(r)
    r = _new_product(client, producer_id=env.world.producer, workflow_key="ocop-1489")
    assert r.status_code == 302


def test_the_provincial_secretariat_chooses_the_rules_of_new_products(env, client):
    """/workflows: the province's secretariat sees a form for its province and saves a choice, which the new-product
    form then follows; a commune officer sees no form and may not post one (403); the CSRF token is required."""
    province = env.world.orgs["P"]
    login(client, env, "officer")  # the province is outside a commune officer's area: no form, and 404
    assert f'id="province-rules-{province}"' not in text(client.get("/workflows"))
    data = {"csrf_token": csrf(client, "/workflows"), f"p{province}-workflow_key": ""}
    assert client.post(f"/workflows/provinces/{province}", data=data).status_code == 404
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, env, "chair")  # the province's chair sees the province but does not set this: 403
    assert f'id="province-rules-{province}"' not in text(client.get("/workflows"))
    data["csrf_token"] = csrf(client, "/workflows")
    assert client.post(f"/workflows/provinces/{province}", data=data).status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, env, "psec")
    page = text(client.get("/workflows"))
    assert f'id="province-rules-{province}"' in page and "— Theo quy trình áp dụng từng ngày —" in page
    url, field = f"/workflows/provinces/{province}", f"p{province}-workflow_key"
    assert client.post(url, data={field: "ocop-148"}).status_code == 400  # no CSRF token
    r = client.post(url, data={"csrf_token": csrf(client, "/workflows"), field: "ocop-2030"})
    assert r.status_code == 422 and "Not a valid choice" not in text(r)
    r = client.post(url, data={"csrf_token": csrf(client, "/workflows"), field: "ocop-148"}, follow_redirects=True)
    assert r.status_code == 200 and "Đã lưu: sản phẩm mới của Bắc Giang theo" in text(r)
    assert re.search(r'<option selected value="ocop-148"|<option value="ocop-148" selected', text(r))
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, env, "officer")
    form = text(client.get("/products/new"))
    assert "Tỉnh đã chọn cho sản phẩm mới" in form
    rules = re.search(r'<select[^>]*name="workflow_key".*?</select>', form, re.S).group(0)
    assert re.search(r'<option selected value="ocop-148"|<option value="ocop-148" selected', rules)
    assert "không áp dụng hôm nay" not in rules.split("ocop-148", 1)[1].split("</option>", 1)[0]


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_screenshots_of_the_diagram(tmp_path, web_template):
    sync_api = pytest.importorskip("playwright.sync_api")
    from waitress.server import create_server

    app, db = make_app(tmp_path, web_template)
    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    base = f"http://127.0.0.1:{srv.effective_port}"
    client = app.test_client()
    from conftest import Env

    env = Env(app, web_template, db, tmp_path / "uploads")
    login(client, env, "officer")
    pid = int(
        _new_product(client, producer_id=env.world.producer, workflow_key="ocop-148")
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            for width in (1280, 375):
                ctx = browser.new_context(viewport={"width": width, "height": 800})
                page = ctx.new_page()
                page.goto(base + "/login")
                page.fill("input[name=email]", env.world.emails["officer"])
                page.fill("input[name=password]", PASSWORD)
                page.click("main form input[type=submit]")
                page.wait_for_url(base + "/")
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                for path, name in ((f"/products/{pid}", "product"), ("/workflows/ocop-1489", "definition")):
                    page.goto(base + path)
                    box = page.locator("svg.workflow-diagram").bounding_box()
                    assert box and box["width"] <= width and box["height"] > 100
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    page.screenshot(path=str(ARTIFACTS / f"diagram-{name}-{width}.png"), full_page=True)
                assert not errors, errors  # nothing blocked by the CSP
                ctx.close()
            browser.close()
    finally:
        srv.close()
        db.dispose()
