"""Acceptance 3: a real browser walks the cycle against a real server thread (waitress).

Skipped only when Debian's Chromium (/usr/bin/chromium) is absent: `apt-get install -y chromium`.
Screenshots of every page visited go to test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from conftest import PASSWORD, PDF, make_app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]


@pytest.fixture
def server(tmp_path, web_template):
    from waitress.server import create_server

    app, db = make_app(tmp_path, web_template)
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", app
    srv.close()
    thread.join(timeout=5)
    db.dispose()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def open_menu(page) -> None:
    """On a phone the header's links fold behind the menu button (issue #11): open it first."""
    if page.is_visible("#menu-button") and not page.is_checked("#menu-toggle"):
        page.click("#menu-button")


class Walker:
    """One user's browser tab that saves a screenshot of every page it reaches, and notes every
    complaint of the browser about the Content Security Policy (which must never block anything)."""

    counter = 0
    csp_violations: list[str] = []

    def __init__(self, browser, base: str, who: str, width: int = 1100) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.on("console", self._console)
        self.base, self.who = base, who

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            Walker.csp_violations.append(f"{self.who} {self.page.url}: {message.text}")

    def shot(self, name: str) -> None:
        Walker.counter += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{Walker.counter:02d}-{self.who}-{name}.png"), full_page=True)

    def goto(self, path: str, name: str) -> None:
        response = self.page.goto(self.base + path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        self.shot(name)

    def login(self, email: str) -> None:
        self.goto("/login", "login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form input[type=submit]")
        self.page.wait_for_url(self.base + "/")
        self.shot("dashboard")

    def step(self, trigger: str, *, comment: str | None = None, score: str | None = None) -> None:
        form = f"#step-{trigger}"
        if comment is not None:
            self.page.fill(f"{form} textarea[name=comment]", comment)
        if score is not None:
            self.page.fill(f"{form} input[name=score]", score)
        self.page.check(f"{form} input[name=confirm]")
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_load_state()
        self.shot(f"after-{trigger}")

    def upload(self, doc_type: str, path: Path) -> None:
        self.page.select_option("form.upload select[name=doc_type]", doc_type)
        self.page.set_input_files("form.upload input[type=file]", str(path))
        self.page.click("form.upload input[type=submit], form.upload button[type=submit]")
        self.page.wait_for_load_state()
        self.shot(f"uploaded-{doc_type}")

    def state(self) -> str:
        return self.page.inner_text("#current-state")

    def close(self) -> None:
        self.context.close()


def rate_as_a_round_would(app, pid: int, trigger: str, score: float, comment: str | None = None) -> None:
    """What closing a round records (the round pages are tested with them): the council's result."""
    from ocop_workflow.services.access import Actor
    from ocop_workflow.services.products import advance

    ocop = app.extensions["ocop"]
    with ocop.db.transaction() as s:
        system = Actor.system_actor(ocop.registry.policy)
        advance(s, ocop.registry, pid, trigger, system, comment=comment, data={"score": score})


def test_the_cycle_in_a_browser(server, browser, tmp_path, web_template):
    base, app = server
    emails = web_template.emails
    Walker.csp_violations.clear()
    officer = Walker(browser, base, "commune-officer", width=390)  # a phone
    officer.login(emails["officer"])
    officer.goto("/products", "products")
    officer.page.click("a.button.primary")
    officer.shot("new-product")
    officer.page.fill("input[name=name]", "Vải thiều Lục Ngạn")
    officer.page.select_option("select[name=product_group]", "tourism")
    officer.page.select_option("select[name=producer_id]", str(web_template.producer))
    officer.page.click("main form input[type=submit]")
    officer.page.wait_for_url(re.compile(r".*/products/\d+$"))
    officer.shot("product")
    product_url = officer.page.url.removeprefix(base)
    assert "Ý tưởng sản phẩm" in officer.state()

    files = tmp_path / "scans"
    files.mkdir()
    needed = {
        "accept_idea": ["idea_registration"],
        "approve_plan": ["business_plan", "organisation_intro"],
        "submit_to_district": ["registration_form", "self_assessment_report", "product_story"],
    }
    for trigger, doc_types in needed.items():
        for doc_type in doc_types:
            scan = files / f"Hồ sơ {doc_type} – bản quét.pdf"
            scan.write_bytes(PDF)
            officer.upload(doc_type, scan)
            assert scan.name in officer.page.content()
        officer.step(trigger)
    assert officer.state() == "Hồ sơ tại Hội đồng huyện"

    secretariat = Walker(browser, base, "district-secretariat")
    secretariat.login(emails["dsec"])
    secretariat.goto("/inbox", "inbox")
    secretariat.page.click("text=Vải thiều Lục Ngạn")
    secretariat.shot("product")
    secretariat.step("return_for_revision", comment="Thiếu câu chuyện sản phẩm có ảnh minh hoạ")
    assert secretariat.state() == "Triển khai phương án"
    secretariat.close()

    officer.goto(product_url, "returned")
    assert "Thiếu câu chuyện sản phẩm có ảnh minh hoạ" in officer.page.inner_text(".flash.returned")
    fixed = files / "Câu chuyện sản phẩm (bản 2).pdf"
    fixed.write_bytes(PDF + b"% v2\n")
    officer.upload("product_story", fixed)
    officer.step("submit_to_district")
    assert officer.state() == "Hồ sơ tại Hội đồng huyện"

    district = Walker(browser, base, "district-council")
    district.login(emails["dcouncil"])
    district.goto("/inbox", "inbox")
    district.goto(product_url, "product")
    # the council's score comes from an evaluation round's sheets, not from a button on the product
    assert district.page.locator("#step-rate_district").count() == 0
    district.close()
    pid = int(product_url.rstrip("/").rsplit("/", 1)[-1])
    rate_as_a_round_would(app, pid, "rate_district", 75)

    province = Walker(browser, base, "province-council")
    province.login(emails["pcouncil"])
    province.goto("/inbox", "inbox")
    province.goto(product_url, "product")
    assert province.state() == "Hồ sơ tại Hội đồng tỉnh"
    assert province.page.locator("#step-rate_province").count() == 0
    province.close()
    rate_as_a_round_would(app, pid, "rate_province", 84, comment="Đạt 4 sao")

    # 4★ waits for the province's recognition decision: its secretariat drafts it, its chair signs it
    officer.goto(product_url, "awaiting-recognition-vi")
    assert officer.state() == "Chờ UBND tỉnh quyết định công nhận"
    secretariat = Walker(browser, base, "province-secretariat")
    secretariat.login(emails["psec"])
    secretariat.goto("/decisions", "decisions")
    secretariat.page.click("#awaiting a.draft-link")
    secretariat.page.wait_for_url(re.compile(r".*/decisions/new.*"))
    secretariat.page.click("#draft-form input[type=submit]")
    secretariat.page.wait_for_url(re.compile(r".*/decisions/\d+$"))
    secretariat.shot("decision-draft")
    draft_url = secretariat.page.url
    secretariat.close()
    chair = Walker(browser, base, "province-chair")
    chair.login(emails["chair"])
    chair.page.goto(draft_url)
    chair.page.fill("#sign-form input[name=number]", "15/QĐ-UBND")
    chair.page.click("#sign-form input[type=submit]")
    chair.page.wait_for_load_state()
    chair.shot("decision-signed")
    assert "15/QĐ-UBND" in chair.page.content()
    chair.close()

    officer.goto(product_url, "rated-vi")
    assert officer.state().startswith("Đã đánh giá")
    assert "★★★★" in officer.page.inner_text("#current-star")
    open_menu(officer.page)
    officer.page.click("button[name=locale][value=en]")
    officer.page.wait_for_load_state()
    officer.shot("rated-en")
    assert officer.state() == "Rated"
    assert "★★★★" in officer.page.inner_text("#current-star")
    assert "certified" in officer.page.inner_text("#current-star")
    officer.goto("/products?star=4", "rated-list-en")
    assert "Vải thiều Lục Ngạn" in officer.page.content()
    officer.goto("/notifications", "notifications-en")
    officer.goto("/account", "account-en")
    officer.close()
    assert Walker.csp_violations == []
