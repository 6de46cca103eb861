"""Issue #10 in a real browser (Chromium, headless): the district secretariat drafts a recognition
decision from the products awaiting it, the district chair signs it, and the certificate it issued
opens with its public address. The decision and certificate pages are saved at 1280 px and 375 px
under test-artifacts/ (decision-1280.png, decision-375.png, certificate-1280.png, certificate-375.png);
at 375 px no page is wider than the phone's screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Env
from test_browser import CHROMIUM, PASSWORD, Walker, browser, server  # noqa: F401  (fixtures)
from test_recognition_web import CHAIR, add_district_chair, awaiting

from ocop_workflow.services.certificates import local_day

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDE, PHONE = 1280, 375


class Tab(Walker):
    def __init__(self, browser, base: str, who: str) -> None:  # noqa: F811
        super().__init__(browser, base, who, width=WIDE)

    def login_as(self, email: str) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form input[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def save(self, name: str) -> None:
        """The page at 1280 px and at 375 px under test-artifacts/; at 375 px it fits the screen."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width in (WIDE, PHONE):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            if width == PHONE:
                overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{name} is {overflow}px wider than a 375 px screen"
        self.page.set_viewport_size({"width": WIDE, "height": 900})


def test_draft_sign_and_open_the_certificate(server, browser, tmp_path, web_template):  # noqa: F811
    base, app = server
    env = Env(app, web_template, app.extensions["ocop"].db, tmp_path / "uploads")
    add_district_chair(env)
    awaiting(env, "Vải thiều Lục Ngạn", 72.5 - 10)
    awaiting(env, "Bánh đa Kế", 55.25)
    Walker.csp_violations.clear()

    sec = Tab(browser, base, "secretariat")
    sec.login_as(web_template.emails["dsec"])
    sec.page.click("#nav-decisions")
    sec.page.wait_for_url(re.compile(r".*/decisions$"))
    assert "Vải thiều Lục Ngạn" in sec.page.inner_text("#awaiting")
    sec.save("decisions")
    sec.page.click("#awaiting a.draft-link")
    sec.page.wait_for_url(re.compile(r".*/decisions/new.*"))
    assert sec.page.is_checked("#draft-form input[name=product_id] >> nth=0")
    sec.page.click("#draft-form input[type=submit]")
    sec.page.wait_for_url(re.compile(r".*/decisions/\d+$"))
    decision_url = sec.page.url
    assert sec.page.inner_text("#decision-status") == "Dự thảo"
    scores = sec.page.locator("#decision-products td.score").all_inner_texts()
    assert sorted(scores) == ["55,25", "62,50"]

    chair = Tab(browser, base, "chair")
    chair.login_as(CHAIR)
    chair.page.goto(decision_url)
    chair.page.fill("#sign-form input[name=number]", "25/QĐ-UBND")
    assert chair.page.input_value("#sign-form input[name=signed_on]") == local_day().strftime("%d/%m/%Y")
    chair.page.click("#sign-form input[type=submit]")
    chair.page.wait_for_load_state()
    assert chair.page.inner_text("#decision-status") == "Đã ký"
    assert chair.page.inner_text("#decision-number") == "25/QĐ-UBND"
    codes = chair.page.locator("#decision-certificates a.cert-code").all_inner_texts()
    assert len(codes) == 2
    assert chair.page.is_visible("#filed-docx")
    chair.save("decision")

    chair.page.click("#decision-certificates a.cert-code >> nth=0")
    chair.page.wait_for_url(re.compile(r".*/certificates/.+"))
    assert chair.page.inner_text("#certificate-status") == "Còn hiệu lực"
    assert chair.page.inner_text("#certificate-code") in codes
    assert chair.page.inner_text("#certificate-issued") == local_day().strftime("%d/%m/%Y")
    href = chair.page.get_attribute("#public-link", "href")
    assert href.endswith("/xac-minh/" + chair.page.inner_text("#certificate-code"))
    assert chair.page.is_visible("#revoke-form")
    chair.save("certificate")
    assert Walker.csp_violations == []
