"""Issue #11, phone-first pages: the admin's mail outbox in pages of compact rows (it was 12,070 px tall
on a phone), the header's menu and the list filters folding behind one button (markup; the browser test
test_layout_browser checks they open and close and that every page fits 375 px)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from conftest import login, text
from sqlalchemy import select

from ocop_workflow.models import MailOutbox, User


def _queue(env, n: int) -> None:
    with env.db.transaction() as s:
        user = s.scalars(select(User).where(User.email == env.world.emails["officer"])).one()
        for i in range(n):
            s.add(
                MailOutbox(
                    dedupe_key=f"paging-{i}",
                    kind="reminder",
                    user_id=user.id,
                    to_address=user.email,
                    locale="vi",
                    subject=f"Nhắc việc số {i + 1}",
                    body="…",
                    status="failed" if i % 2 else "pending",
                    attempts=i,
                    next_attempt_at=datetime(2026, 11, 25, 6, 30, tzinfo=UTC),
                    last_error="550 mailbox unavailable" if i % 2 else None,
                )
            )


def test_the_outbox_comes_in_pages_of_compact_rows(env, client):
    _queue(env, 2090)
    login(client, env, "admin")
    first = text(client.get("/admin/outbox"))
    assert first.count('<tr class="status-') == 25 and 'class="list compact"' in first
    # counts in the reader's format: 1.045 waiting and 1.045 failed, 84 pages of 25
    assert first.count("<strong>1.045</strong>") == 2 and "Trang 1/84" in first
    assert "Nhắc việc số 1<" in first and "Nhắc việc số 26<" not in first
    second = text(client.get("/admin/outbox?page=2"))
    assert "Nhắc việc số 26<" in second and "Nhắc việc số 1<" not in second
    last = text(client.get("/admin/outbox?page=999"))  # past the end: the last page, not an empty one
    assert "Nhắc việc số 2090<" in last and last.count('<tr class="status-') == 15
    for bad in ("abc", "0", "-1", "1.5", "9" * 30):
        r = client.get(f"/admin/outbox?page={bad}")
        assert r.status_code == 200 and "Nhắc việc số 1<" in text(r), bad
    failed = text(client.get("/admin/outbox?show=failed&page=2"))
    assert failed.count('<tr class="status-failed"') == 25 and "page=3" in failed and "show=failed" in failed


def test_the_header_menu_and_the_filters_fold_without_script(env, client):
    login(client, env, "psec")
    page = text(client.get("/certificates"))
    # a checkbox and its label: no script (the Content Security Policy forbids inline script)
    # real checkboxes, not `hidden`: the keyboard reaches them (Tab, then Space)
    assert '<input type="checkbox" id="menu-toggle" class="menu-toggle" aria-label="Menu">' in page
    assert '<label for="menu-toggle" class="menu-button button" id="menu-button"' in page
    assert re.search(r'id="filters-toggle" class="fold-toggle"><label for="filters-toggle"', page)
    assert '<form method="get" class="filters foldable">' in page and "Bộ lọc" in page
    assert "<script" not in page
    css = (Path(__file__).resolve().parents[2] / "web" / "static" / "style.css").read_text()
    assert ".fold-toggle:not(:checked) + .fold-button + .foldable { display: none; }" in css
    assert "@media (max-width: 700px)" in css and "details.section" in css
