"""Issue #9: the score sheet's script (web/static/sheet.js) on a phone, in a real browser (Chromium).

What a tester found: unsent answers kept on a shared phone were sent as the next member's sheet;
answers kept on a phone from an old version were saved over the sheet the member had since submitted
from a desktop; and a Vietnamese browser read "25,5" typed in a score box as 255. Each test here
walks one of them as a member would, and checks what the server holds.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import Env
from rounds_world import open_round_with, setup_council
from sqlalchemy import select
from test_browser import CHROMIUM, Walker, browser, open_menu, server  # noqa: F401  (fixtures)

from ocop_workflow.models import ScoreSheet, User
from ocop_workflow.services import sheets as sheet_service
from ocop_workflow.services.access import load_actor

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]


class Phone(Walker):
    """A member's phone (375 px, vi-VN); no screenshots (test_rounds_browser takes those)."""

    def __init__(self, browser, base: str, who: str, **context) -> None:  # noqa: F811
        self.context = browser.new_context(viewport={"width": 375, "height": 800}, locale="vi-VN", **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.on("console", self._console)
        self.base, self.who = base, who

    def shot(self, name: str) -> None:
        pass

    def logout(self) -> None:
        self.page.goto(self.base + "/")
        open_menu(self.page)
        self.page.click("header form[action$='/logout'] button")
        self.page.wait_for_url(re.compile(r".*/login.*"))

    def kept(self) -> str:
        return self.page.evaluate("Object.values(localStorage).join(' ')")


@pytest.fixture
def sheet_world(server, tmp_path, web_template):  # noqa: F811
    base, app = server
    env = Env(app, web_template, app.extensions["ocop"].db, tmp_path / "uploads")
    seats = setup_council(env)
    pid = env.product(name="Vải thiều Lục Ngạn")
    env.to_district(pid)
    rid = open_round_with(env, seats, [pid])
    Walker.csp_violations.clear()
    yield base, env, seats, f"{base}/rounds/{rid}/products/{pid}/sheet", (rid, pid)
    assert Walker.csp_violations == []


def sheet_of(env: Env, email: str) -> ScoreSheet | None:
    with env.db.session() as s:
        return s.scalars(
            select(ScoreSheet).join(User, User.id == ScoreSheet.user_id).where(User.email == email)
        ).one_or_none()


def mark(phone: Phone, marks: dict[str, str]) -> None:
    """Type the scores key by key, as on a phone's keyboard, then leave the field (a change)."""
    for code, value in marks.items():
        box = phone.page.locator(f"input[name='c:{code}']")
        box.fill("")
        box.press_sequentially(value)
    phone.page.locator("#sheet-form").dispatch_event("change")


def save_offline(phone: Phone, url: str, marks: dict[str, str]) -> None:
    """Open the sheet, lose the connection, score and save: the answers stay on the phone only.
    Then the page is closed and the connection comes back."""
    phone.page.goto(url)
    phone.context.set_offline(True)
    mark(phone, marks)
    phone.page.click("#save-draft")
    phone.page.wait_for_selector("#sheet-status.error")
    assert "Mất kết nối" in phone.page.inner_text("#sheet-status")
    phone.page.close()
    phone.context.set_offline(False)
    phone.page = phone.context.new_page()


def test_a_shared_phone_never_sends_one_members_answers_as_anothers(sheet_world, browser):  # noqa: F811
    base, env, seats, url, _ids = sheet_world
    phone = Phone(browser, base, "shared")
    phone.login(seats.emails["m1"])
    save_offline(phone, url, {"A": "30", "B": "12"})
    phone.page.goto(base + "/")
    assert "30" in phone.kept()
    phone.logout()

    # member 2 on the same phone: an empty sheet, nothing restored, nothing sent in their name
    phone.login(seats.emails["m2"])
    phone.page.goto(url)
    phone.page.wait_for_load_state("networkidle")
    assert phone.page.input_value("input[name='c:A']") == ""
    assert phone.page.inner_text("#sheet-status") == ""
    assert phone.page.inner_text("#total") == "0,00"
    assert sheet_of(env, seats.emails["m2"]) is None

    # even a record of member 1 found under member 2's key is not restored (it says whose it is)
    record = phone.page.evaluate(
        "(() => { for (const k of Object.keys(localStorage)) { const r = JSON.parse(localStorage.getItem(k));"
        " if (r && r.answers && r.answers.A) { return r; } } return null; })()"
    )
    assert record is not None and record["answers"]["A"] == "30"
    phone.page.evaluate(
        "r => localStorage.setItem('ocop-sheet:' + document.getElementById('sheet-form').dataset.key, r)",
        json.dumps(record),
    )
    phone.page.reload()
    phone.page.wait_for_load_state("networkidle")
    assert phone.page.input_value("input[name='c:A']") == ""
    assert sheet_of(env, seats.emails["m2"]) is None
    phone.logout()

    # member 1 comes back: their answers are restored and sent as theirs
    phone.login(seats.emails["m1"])
    phone.page.goto(url)
    phone.page.wait_for_selector("#sheet-status.ok")
    assert phone.page.input_value("input[name='c:A']") == "30"
    saved = sheet_of(env, seats.emails["m1"])
    assert saved.status == "draft" and saved.answers == {"A": 30, "B": 12}
    assert sheet_of(env, seats.emails["m2"]) is None
    phone.close()


def submit_from_desktop(env: Env, email: str, ids: tuple[int, int], answers: dict[str, str]) -> ScoreSheet:
    rid, pid = ids
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        who = load_actor(s, email)
        current = sheet_service.sheet_view(s, registry, who, rid, pid).sheet
        sheet_service.save_sheet(
            s, registry, who, rid, pid, answers, submit=True, expected_version=current.version if current else 0
        )
    return sheet_of(env, email)


def test_answers_kept_from_an_old_version_do_not_overwrite_a_newer_sheet(sheet_world, browser):  # noqa: F811
    base, env, seats, url, ids = sheet_world
    email = seats.emails["m1"]
    phone = Phone(browser, base, "phone")
    phone.login(email)
    phone.page.goto(url)
    mark(phone, {"A": "10"})
    phone.page.click("#save-draft")
    phone.page.wait_for_selector("#sheet-status.ok")
    save_offline(phone, url, {"A": "20"})  # made from the draft's version, never sent
    desk = submit_from_desktop(env, email, ids, {"A": "35", "B": "20", "C": "30"})
    assert desk.status == "submitted" and desk.total == 85

    # the phone reopens the sheet: the kept answers are refused, the member is asked
    phone.page.goto(url)
    phone.page.wait_for_load_state("networkidle")
    after = sheet_of(env, email)
    assert after.status == "submitted" and after.total == 85 and after.version == desk.version
    phone.page.wait_for_selector("#sheet-conflict:not([hidden])")
    assert "đã được sửa ở nơi khác" in phone.page.inner_text("#sheet-conflict")
    # the page shows what the phone kept (and would send), not a mix with the submitted sheet
    assert phone.page.input_value("input[name='c:A']") == "20" and phone.page.input_value("input[name='c:B']") == ""
    assert phone.page.inner_text("#total") == "20,00"
    # discard: the page shows the submitted sheet, nothing is kept
    phone.page.click("#conflict-discard")
    phone.page.wait_for_load_state("networkidle")
    assert phone.page.input_value("input[name='c:A']") == "35"
    assert phone.page.inner_text("#total") == "85,00"
    assert phone.page.evaluate("localStorage.length") == 0
    assert phone.page.is_hidden("#sheet-conflict")
    after = sheet_of(env, email)
    assert after.status == "submitted" and after.version == desk.version

    # again, and this time the member keeps the phone's answers on purpose
    save_offline(phone, url, {"A": "21"})
    desk = submit_from_desktop(env, email, ids, {"A": "36", "B": "20", "C": "30"})
    phone.page.goto(url)
    phone.page.wait_for_selector("#sheet-conflict:not([hidden])")
    assert sheet_of(env, email).total == 86
    phone.page.click("#conflict-apply")
    phone.page.wait_for_selector("#sheet-status.ok")
    after = sheet_of(env, email)
    assert after.status == "draft" and after.answers == {"A": 21, "B": 20, "C": 30}
    assert phone.page.evaluate("localStorage.length") == 0
    phone.close()


@pytest.mark.parametrize(("typed", "stored"), [("15", 15), ("15,5", 15.5)])  # a decimal comma is the same answer
def test_a_save_whose_reply_was_lost_is_still_a_success(sheet_world, browser, typed, stored):  # noqa: F811
    base, env, seats, url, _ids = sheet_world
    email = seats.emails["m1"]
    phone = Phone(browser, base, "phone")
    phone.login(email)
    phone.page.goto(url)
    mark(phone, {"A": "10"})
    phone.page.click("#save-draft")
    phone.page.wait_for_selector("#sheet-status.ok")
    lost = []

    def lose_the_reply(route) -> None:  # the server gets the save; its answer never comes back
        if lost:
            route.continue_()
            return
        route.fetch()
        lost.append(True)
        route.abort()

    phone.page.route(re.compile(r".*/sheet$"), lose_the_reply)
    mark(phone, {"A": typed})
    phone.page.click("#save-draft")
    phone.page.wait_for_selector("#sheet-status.error")
    assert lost and sheet_of(env, email).answers == {"A": stored}
    phone.page.wait_for_selector("#sheet-status.ok", timeout=20_000)  # the retry: 409, but it was ours
    assert phone.page.is_hidden("#sheet-conflict")
    assert phone.page.evaluate("localStorage.length") == 0
    mark(phone, {"B": "5"})  # and the page goes on from the server's version
    with phone.page.expect_response(lambda r: r.url == url and r.request.method == "POST") as reply:
        phone.page.click("#save-draft")
    assert reply.value.status == 200
    phone.page.wait_for_load_state("networkidle")
    assert sheet_of(env, email).answers == {"A": stored, "B": 5}
    assert phone.page.is_hidden("#sheet-conflict")
    phone.close()


def test_a_decimal_comma_typed_on_a_vietnamese_phone(sheet_world, browser):  # noqa: F811
    base, env, seats, url, _ids = sheet_world
    email = seats.emails["m1"]
    phone = Phone(browser, base, "phone")
    phone.login(email)
    phone.page.goto(url)
    mark(phone, {"A": "25,5", "B": "14.25"})
    assert phone.page.input_value("input[name='c:A']") == "25,5"
    assert phone.page.inner_text("#total-A") == "25,50" and phone.page.inner_text("#total") == "39,75"
    phone.page.click("#save-draft")
    phone.page.wait_for_selector("#sheet-status.ok")
    assert sheet_of(env, email).answers == {"A": 25.5, "B": 14.25}
    phone.page.reload()
    assert phone.page.input_value("input[name='c:A']") == "25,5"  # shown as the member writes it
    phone.close()

    # without JavaScript the form posts as typed, and the server reads the comma
    plain = Phone(browser, base, "no-script", java_script_enabled=False)
    plain.login(seats.emails["m2"])
    plain.page.goto(url)
    for code, value in {"A": "30,75", "B": "20", "C": "30"}.items():
        plain.page.locator(f"input[name='c:{code}']").press_sequentially(value)
    plain.page.click("#submit-sheet")
    plain.page.wait_for_url(re.compile(r".*/queue$"))
    saved = sheet_of(env, seats.emails["m2"])
    assert saved.status == "submitted" and saved.answers == {"A": 30.75, "B": 20, "C": 30} and saved.total == 80.75
    plain.close()
