"""The lists and the dashboard in Chromium on the demo data, at 1280 and 375 px (issue #11).

Screenshots land in test-artifacts/lists-<page>-<width>.png. Skipped only when Debian's Chromium
(/usr/bin/chromium) is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ocop_workflow.demo import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")


@pytest.fixture(scope="module")
def demo_server(demo_site):
    """The shared demo site (tests/web/conftest.py): these pages only read it."""
    return demo_site.base


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_lists_and_dashboard_at_both_widths(demo_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(demo_server + "/login")
    page.fill("input[name=email]", "tinh.bacgiang@demo.ocop.vn")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form input[type=submit]")
    page.wait_for_url(demo_server + "/")
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"lists-{name}-{width}.png"), full_page=True)

    # the dashboard: stages in the cycle's order, each label once, no definition codes
    labels = page.locator("#stage-table tbody td:first-child").all_inner_texts()
    assert labels and len(labels) == len(set(labels)) and labels[0] == "Ý tưởng sản phẩm"
    tiles = page.locator("#waiting-tiles .count span").all_inner_texts()
    assert len(tiles) == len(set(tiles))
    assert "ocop-148" not in page.content() and len(page.locator("#area-table tbody tr").all()) == 10
    shot("dashboard")
    page.locator("#area-table tbody tr").first.locator("td").nth(2).locator("a").click()
    page.wait_for_load_state()
    assert len(page.locator("#area-table tbody tr").all()) == 3  # the communes of the first district
    shot("dashboard-communes")
    # the product list, most overdue first, with its red late marks
    page.goto(demo_server + "/products?sort=deadline")
    first = page.locator("table.list tbody tr").first
    assert "Quá hạn" in first.inner_text()
    assert first.locator(".late-mark.late").evaluate("e => getComputedStyle(e).color") == "rgb(185, 28, 28)"
    shot("products")
    page.goto(demo_server + "/products?late=1")
    marks = page.locator("table.list tbody tr .late-mark").all_inner_texts()
    assert marks and all(m.startswith("Quá hạn") for m in marks)
    shot("products-late")
    page.goto(demo_server + "/inbox")
    shot("inbox")
    context.close()
