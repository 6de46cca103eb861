"""The demo's plan page in a real browser (issue #12): the provincial association opens Decision 615's scheme
at 1280 px and on a 375 px phone; the page fits the phone, the charts show, each indicator's yearly chart
carries its label and its values. Screenshots: test-artifacts/plans-1280.png, plans-375.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import CHROMIUM, browser, open_menu  # noqa: F401  (the browser fixture)

from ocop_workflow.demo import DEMO_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]


def _login(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form input[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("width", [1280, 375])
def test_the_scheme_page_at_desktop_and_phone_width(demo_site, browser, width):  # noqa: F811

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _login(page, demo_site.base, "hoind.tinh@demo.ocop.vn")
        open_menu(page)
        page.click("#nav-plans")
        page.click("a.plan-link:has-text('Hội Nông dân')")
        page.wait_for_selector("#targets")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"plans-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
        charts = page.locator("figure.chart svg")
        assert charts.count() >= 9  # a yearly chart per indicator, and the districts
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 50 and box["x"] + box["width"] <= width
        yearly = page.locator("svg.plan-years")
        for i in range(yearly.count()):
            svg = yearly.nth(i)
            label = svg.get_attribute("aria-label")
            words = " ".join(svg.locator("text").all_text_contents())
            name = label.split(" — ")[0]
            assert name.split()[0] in words  # the indicator's label is drawn …
            for part in label.split(" — ")[1].split("; "):
                year, value = part.split(": ")
                assert year in words and value in words  # … and each year's value
        assert page.locator("svg.plan-ranking text:has-text('Lạng Giang')").count() == 1
        assert page.locator(".light-met").count() > 1 and page.locator(".light-behind").count() > 1
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        context.close()


def test_a_commune_user_sees_only_its_commune_in_the_browser(demo_site, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _login(page, demo_site.base, "hoind.phuongson@demo.ocop.vn")
        page.goto(demo_site.base + "/plans")
        page.click("a.plan-link:has-text('Hội Nông dân')")
        assert page.inner_text("#report-area") == "Xã Phượng Sơn"
        assert page.locator("svg.plan-ranking").count() == 0
        assert "Lạng Giang" not in page.content()
    finally:
        context.close()
