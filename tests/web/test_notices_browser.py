"""Issue #11 in a real browser (Chromium, headless) with a real SMTP server (aiosmtpd): each hand-over
of the cycle rings the next role's bell, and mail goes out as each user chose, exactly once.

* the commune officer sends the dossier to the district → the district secretariat (one mail each) and the
  district council member (no e-mail: the bell only);
* the district secretariat returns it for revision → the commune officer and the producer's own account
  (daily digest: the notice comes in the digest);
* the district council's result (closed through a round; recorded here by the system) → the province's
  secretariat, who must act next;
* the district chair signs the recognition decision → whoever drafted it and the commune.

The bells are saved at 1280 px and 375 px as test-artifacts/notices-<role>-<width>.png.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Env
from sqlalchemy import select
from test_browser import CHROMIUM, PASSWORD, Walker, browser, server  # noqa: F401  (fixtures)
from test_recognition_web import CHAIR, add_district_chair, awaiting

from ocop_workflow.models import Notification, User
from ocop_workflow.notify import set_email_mode
from ocop_workflow.reminders.sweep import run_sweep
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.decisions import draft_decision
from tests.helpers import rate

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDE, PHONE = 1280, 375


class Tab(Walker):
    def __init__(self, browser, base: str, who: str, email: str) -> None:  # noqa: F811
        super().__init__(browser, base, who, width=WIDE)
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form input[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def badge(self) -> int:
        badge = self.page.locator("#bell .badge")
        return int(badge.inner_text()) if badge.count() else 0

    def bell(self, name: str) -> str:
        """Open the bell; the page is saved at both widths and must fit a phone's screen."""
        self.page.click("#bell")
        self.page.wait_for_url(re.compile(r".*/notifications/$"))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width in (WIDE, PHONE):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(ARTIFACTS / f"notices-{name}-{width}.png"), full_page=True)
            if width == PHONE:
                overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"the bell of {name} is {overflow}px wider than a 375 px screen"
        self.page.set_viewport_size({"width": WIDE, "height": 900})
        return self.page.inner_text("main")

    def step(self, product_id: int, trigger: str, comment: str | None = None) -> None:
        self.page.goto(f"{self.base}/products/{product_id}")
        form = f"#step-{trigger}"
        if comment is not None:
            self.page.fill(f"{form} textarea[name=comment]", comment)
        confirm = self.page.locator(f"{form} input[name=confirm]")
        if confirm.count():
            confirm.check()
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_url(re.compile(rf".*/products/{product_id}$"))
        assert self.page.locator(".flash.success").count(), self.page.inner_text("main")[:500]


def mode(env: Env, key: str, value: str) -> None:
    with env.db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.email == env.world.emails[key]))
        set_email_mode(s, uid, value)


def test_each_hand_over_rings_the_next_bell_and_mails_once(server, browser, tmp_path, web_template, smtp):  # noqa: F811
    base, app = server
    st = app.extensions["ocop"]
    env = Env(app, web_template, st.db, tmp_path / "uploads")
    emails = web_template.emails
    mode(env, "dcouncil", "off")
    mode(env, "producer", "digest")
    Walker.csp_violations.clear()

    # 1. the commune officer sends the dossier to the district council, in the browser
    pid = env.product(name="Mật ong rừng Phượng Sơn")
    env.attach(pid, "idea_registration")
    env.fire(pid, "accept_idea")
    for t in ("business_plan", "organisation_intro"):
        env.attach(pid, t)
    env.fire(pid, "approve_plan")
    for t in ("registration_form", "self_assessment_report", "product_story"):
        env.attach(pid, t)
    officer = Tab(browser, base, "officer", emails["officer"])
    officer.step(pid, "submit_to_district")
    assert officer.badge() == 0  # the one who moved is not told

    dsec = Tab(browser, base, "dsec", emails["dsec"])
    assert dsec.badge() == 1
    page = dsec.bell("district_secretariat")
    assert "«Mật ong rừng Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện" in page
    assert "Việc cần làm tiếp:" in page and "submit_to_district" not in page
    dcouncil = Tab(browser, base, "dcouncil", emails["dcouncil"])
    assert dcouncil.badge() == 1

    # 2. the district secretariat returns it for revision
    dsec.step(pid, "return_for_revision", comment="Bổ sung câu chuyện sản phẩm")
    officer.context.close()
    officer = Tab(browser, base, "officer", emails["officer"])
    assert officer.badge() == 1
    page = officer.bell("commune_officer")
    assert "Trả lại để bổ sung" in page and "Bổ sung câu chuyện sản phẩm" in page
    producer = Tab(browser, base, "producer", emails["producer"])
    assert producer.badge() == 1
    page = producer.bell("producer")
    assert "«Mật ong rừng Phượng Sơn»: Trả lại để bổ sung" in page

    # 3. the district council's result (a round's close, recorded here by the system) forwards another product
    other = env.product(name="Vải thiều sấy Phượng Sơn")
    env.to_district(other)
    assert rate(env.db, st.registry, other, "rate_district", 75) == "province_review"
    psec = Tab(browser, base, "psec", emails["psec"])
    assert psec.badge() == 1
    page = psec.bell("province_secretariat")
    assert "«Vải thiều sấy Phượng Sơn»: Kết quả Hội đồng huyện" in page

    # 4. the district chair signs the decision the secretariat drafted
    add_district_chair(env)
    third = awaiting(env, "Bánh đa Kế", 62.5)
    with env.db.transaction() as s:
        decision = draft_decision(
            s, st.registry, load_actor(s, emails["dsec"]), organisation_id=web_template.orgs["D1"], product_ids=[third]
        )
        decision_id = decision.id
    dsec_before = len(env_notices(env, "dsec"))
    chair = Tab(browser, base, "chair", CHAIR)
    chair.page.goto(f"{base}/decisions/{decision_id}")
    chair.page.fill("#sign-form input[name=number]", "31/QĐ-UBND")
    chair.page.click("#sign-form input[type=submit]")
    chair.page.wait_for_load_state()
    assert chair.page.inner_text("#decision-status") == "Đã ký"
    assert len(env_notices(env, "dsec")) == dsec_before + 1
    dsec.context.close()
    dsec = Tab(browser, base, "dsec", emails["dsec"])
    page = dsec.bell("drafter")
    assert "«Bánh đa Kế»: Ký quyết định công nhận (UBND huyện)" in page
    assert "Bánh đa Kế" in env_notices(env, "officer")[-1]

    # mail: the sweep sends each one-by-one mail exactly once, none for "off", the digest for "digest"
    settings = replace(st.settings, smtp_url=smtp.url)
    at = datetime.now(UTC).replace(hour=3) + timedelta(days=1)  # 10:00 in Vietnam: after the digest hour
    run_sweep(env.db, st.registry, settings, now=at)
    run_sweep(env.db, st.registry, settings, now=at + timedelta(minutes=5))
    to_dsec = [m["Subject"] for m in smtp.sink.to(emails["dsec"])]
    assert to_dsec.count("[OCOP] «Mật ong rừng Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện") == 1
    assert to_dsec.count("[OCOP] «Bánh đa Kế»: Ký quyết định công nhận (UBND huyện)") == 1
    assert not [m for m in smtp.sink.to(emails["dcouncil"]) if "Mật ong" in m["Subject"]]  # "off": bell only
    (digest,) = smtp.sink.to(emails["producer"])
    assert "«Mật ong rừng Phượng Sơn»: Trả lại để bổ sung" in digest.get_content()
    to_psec = [m["Subject"] for m in smtp.sink.to(emails["psec"])]
    assert len([s for s in to_psec if "Vải thiều sấy" in s]) == 1
    assert Walker.csp_violations == []


def env_notices(env: Env, key: str) -> list[str]:
    with env.db.session() as s:
        uid = s.scalar(select(User.id).where(User.email == env.world.emails[key]))
        return list(s.scalars(select(Notification.title).where(Notification.user_id == uid).order_by(Notification.id)))
