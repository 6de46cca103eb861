"""Issue #9, acceptance: the whole path of an evaluation round in a real browser (Chromium, headless).

The district secretariat creates a round on its council's page, adds two products and opens the
round (1280 px); three members score on a 375 px phone: one recuses on the first product, one loses
the connection while saving and the sheet goes through when it is back; the secretary closes both
products and the round; each product lands in the state its average leads to; the minutes (DOCX)
and the sheets (XLSX) download and are read back. Every page is saved at 1280 px and 375 px under
test-artifacts/screenshots/ (test_browser.SHOTS).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import Env
from rounds_world import MEMBERS, meeting_day, setup_council
from sqlalchemy import select
from test_browser import CHROMIUM, PASSWORD, Walker, browser, open_menu, server  # noqa: F401  (fixtures)

from ocop_workflow.models import Product, RoundProduct, ScoreSheet, User

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

WIDE, PHONE = 1280, 375


class Tab(Walker):
    """A Walker whose every screenshot is taken at 1280 px and at 375 px."""

    def __init__(self, browser, base: str, who: str, width: int) -> None:  # noqa: F811
        super().__init__(browser, base, who, width=width)
        self.width = width

    def shot(self, name: str) -> None:
        for width in (self.width, PHONE if self.width != PHONE else WIDE):
            if width != self.width:
                self.page.set_viewport_size({"width": width, "height": 900})
            super().shot(f"{name}-{width}")
        self.page.set_viewport_size({"width": self.width, "height": 900})

    def login_as(self, email: str) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form input[type=submit]")
        self.page.wait_for_url(self.base + "/")
        self.shot("dashboard")


def score(tab: Tab, marks: dict[str, str]) -> None:
    for code, value in marks.items():
        tab.page.fill(f"input[name='c:{code}']", value)
    tab.page.locator("#sheet-form").dispatch_event("change")


def open_sheet(tab: Tab, product: str) -> None:
    open_menu(tab.page)
    tab.page.click("#nav-queue")
    tab.page.wait_for_url(re.compile(r".*/queue$"))
    tab.shot("queue")
    tab.page.click(f"a.queue-item:has-text('{product}')")
    tab.page.wait_for_url(re.compile(r".*/sheet$"))


def submit(tab: Tab, name: str) -> None:
    tab.shot(f"sheet-{name}")
    tab.page.click("#submit-sheet")
    tab.page.wait_for_url(re.compile(r".*/queue$"))
    tab.shot(f"submitted-{name}")


def test_a_round_in_the_browser(server, browser, tmp_path, web_template):  # noqa: F811
    base, app = server
    env = Env(app, web_template, app.extensions["ocop"].db, tmp_path / "uploads")
    seats = setup_council(env)
    vai = env.product(name="Vải thiều Lục Ngạn")
    banh = env.product(name="Bánh đa Kế")
    for pid in (vai, banh):
        env.to_district(pid)
    Walker.csp_violations.clear()

    # the secretariat: the council, a new round, two products, open
    sec = Tab(browser, base, "secretariat", WIDE)
    sec.login_as(web_template.emails["dsec"])
    sec.page.click("#nav-councils")
    sec.page.wait_for_url(re.compile(r".*/councils$"))
    sec.shot("councils")
    sec.page.click("#councils a")
    sec.shot("council")
    assert "Nguyễn Văn Chủ Tịch" in sec.page.inner_text("#members")
    sec.page.fill("#round-form input[name=name]", "Đợt đánh giá tháng 12")
    sec.page.fill("#round-form input[name=meeting_date]", meeting_day().strftime("%d/%m/%Y"))
    sec.page.click("#round-form input[type=submit]")
    sec.page.wait_for_url(re.compile(r".*/rounds/\d+$"))
    round_url = sec.page.url
    for pid in (vai, banh):
        sec.page.select_option("#add-product select[name=product_id]", str(pid))
        sec.page.click("#add-product input[type=submit]")
        sec.page.wait_for_load_state()
    sec.shot("round-draft")
    sec.page.click("#open-round button")
    sec.page.wait_for_load_state()
    sec.shot("round-open")
    assert sec.page.inner_text("#round-status") == "Đang chấm điểm"
    assert "Đã nộp 0/3; cần tối thiểu 2" in sec.page.inner_text(f"#entry-{vai}")

    # member 1 (chair) on a phone: running totals in the sticky bar, then submits both
    m1 = Tab(browser, base, "member1", PHONE)
    m1.login_as(seats.emails["m1"])
    assert m1.page.is_visible("#dashboard-queue")
    open_sheet(m1, "Vải thiều Lục Ngạn")
    score(m1, {"A": "35.5", "B": "20", "C": "30"})
    assert m1.page.inner_text("#total") == "85,50" and m1.page.inner_text("#total-A") == "35,50"
    bar = m1.page.locator("#sheet-bar").bounding_box()
    assert bar["width"] <= PHONE and bar["y"] + bar["height"] <= 900 + 1  # sticky: on screen while scrolling
    submit(m1, "vai")
    open_sheet(m1, "Bánh đa Kế")
    score(m1, {"A": "25", "B": "15", "C": "20"})
    submit(m1, "banh")
    m1.close()

    # member 2 recuses on the first product, scores the second
    m2 = Tab(browser, base, "member2", PHONE)
    m2.login_as(seats.emails["m2"])
    open_sheet(m2, "Vải thiều Lục Ngạn")
    m2.page.click("#recuse summary")
    m2.page.fill("#recuse-form textarea[name=reason]", "Tôi là thành viên của tổ hợp tác này")
    m2.shot("recuse")
    m2.page.click("#recuse-form input[type=submit]")
    m2.page.wait_for_url(re.compile(r".*/queue$"))
    m2.shot("recused")
    open_sheet(m2, "Bánh đa Kế")
    score(m2, {"A": "22", "B": "14", "C": "20"})
    submit(m2, "banh")
    m2.close()

    # member 3: a draft, the connection drops during the next save, and comes back
    m3 = Tab(browser, base, "member3", PHONE)
    m3.login_as(seats.emails["m3"])
    open_sheet(m3, "Vải thiều Lục Ngạn")
    score(m3, {"A": "30", "B": "20", "C": "20"})
    m3.page.click("#save-draft")
    m3.page.wait_for_selector("#sheet-status.ok")
    assert m3.page.inner_text("#sheet-status") == "Đã lưu nháp."
    m3.context.set_offline(True)
    score(m3, {"C": "25"})
    m3.page.click("#save-draft")
    m3.page.wait_for_selector("#sheet-status.error")
    m3.shot("offline")
    assert "Mất kết nối" in m3.page.inner_text("#sheet-status")
    assert "25" in m3.page.evaluate("Object.values(localStorage).join(' ')")
    m3.context.set_offline(False)
    m3.page.wait_for_selector("#sheet-status.ok", timeout=40_000)
    assert m3.page.evaluate("localStorage.length") == 0
    with env.db.session() as s:
        saved = s.scalars(
            select(ScoreSheet).join(User, User.id == ScoreSheet.user_id).where(User.email == seats.emails["m3"])
        ).one()
        assert saved.status == "draft" and saved.total == 75
    submit(m3, "vai")
    open_sheet(m3, "Bánh đa Kế")
    score(m3, {"A": "30", "B": "15", "C": "20"})
    submit(m3, "banh")
    m3.close()

    # the secretary sees who scored, closes both products and the round
    sec.page.goto(round_url)
    sec.shot("round-scored")
    entry = sec.page.inner_text(f"#entry-{vai}")
    assert "Đã nộp 2/3" in entry and "Tôi là thành viên của tổ hợp tác này" in entry and "85,50" not in entry
    for pid in (vai, banh):
        sec.page.click(f"#entry-{pid} form.close-product button")
        sec.page.wait_for_load_state()
    sec.shot("products-closed")
    assert "80,25" in sec.page.inner_text(f"#result-{vai}")  # (85.5 + 75) / 2
    assert "60,33" in sec.page.inner_text(f"#result-{banh}")  # (60 + 56 + 65) / 3 = 60.333…
    sec.page.click("#close-round button")
    sec.page.wait_for_load_state()
    sec.shot("round-closed")
    assert sec.page.inner_text("#round-status") == "Đã kết thúc"
    with env.db.session() as s:
        assert s.get(Product, vai).state == "province_review"
        closed = {e.product_id: e for e in s.scalars(select(RoundProduct))}
        assert closed[vai].average == 80.25 and closed[vai].outcome == "forwarded"
        assert closed[banh].average == 60.33 and closed[banh].star == 3 and closed[banh].outcome == "recognised"
        assert s.get(Product, banh).current_star == 3
        banh_state = s.get(Product, banh).state
    assert banh_state == "district_recognition"  # 3★ waits for the district chair's decision

    # the product page: the round, each member's total, the average
    sec.page.goto(f"{base}/products/{vai}")
    sec.shot("product")
    rounds_card = sec.page.inner_text("#product-rounds")
    assert "Đợt đánh giá tháng 12" in rounds_card and "85,50" in rounds_card and "75,00" in rounds_card
    assert "80,25" in rounds_card and "Hồ sơ tại Hội đồng tỉnh" in sec.state()

    # the minutes and the sheets, downloaded and read back
    sec.page.goto(round_url)
    with sec.page.expect_download() as got:
        sec.page.click("#download-minutes")
    minutes = got.value
    assert minutes.suggested_filename.endswith(".docx")
    import docx

    document = docx.Document(minutes.path())
    words = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    for name, _position in MEMBERS.values():
        assert name in words
    assert "Vải thiều Lục Ngạn" in words and "80,25" in words and "Bánh đa Kế" in words and "60,33" in words
    assert "3 sao" in words
    with sec.page.expect_download() as got:
        sec.page.click("#download-sheets")
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "Nguyễn Văn Chủ Tịch" in cells and "Lê Văn Ủy Viên" in cells
    numbers = {c for c in cells}
    assert {"85.5", "75", "80.25", "60.33"} <= numbers or {"85.5", "75.0", "80.25", "60.33"} <= numbers
    assert "3 sao" in cells
    sec.close()
    assert Walker.csp_violations == []
