"""Issue #11, acceptance: every page of the demo fits a phone, and no Vietnamese page writes a decimal point.

The demo data is loaded into a fresh SQLite and served by a real server thread (waitress). Each demo role
logs in (Chromium, headless) and visits every page its menu reaches, the pages those lists link to first
(a product, a round, a sheet, a decision, a certificate, a user …: the list is built from what the pages
link to, so pages other engineers add are covered once the menu or a list reaches them), a product of
each of several states and the public pages. Each page is opened at 375 px and 1280 px; the test fails if
at 375 px the page scrolls sideways or the header is taller than 120 px, or if a Vietnamese page shows a
number meant for people with a decimal point ("85.5", "63.42", "17.2 KB"; dates, certificate and
decision numbers, versions, e-mails and addresses are not such numbers). Screenshots:
test-artifacts/layout-<role>-<page>-<width>.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE, WIDE = 375, 1280
MAX_HEADER = 120
# one e-mail per demo role (README, "Demo logins")
ROLES = {
    "commune": "xa.phuongson@demo.ocop.vn",
    "farmers": "hoind.phuongson@demo.ocop.vn",
    "producer": "chuthe.phuongson@demo.ocop.vn",
    "district": "huyen.lucngan@demo.ocop.vn",
    "district-council": "hoidong.lucngan@demo.ocop.vn",
    "district-chair": "chutich.lucngan@demo.ocop.vn",
    "province": "tinh.bacgiang@demo.ocop.vn",
    "province-council": "hoidong.tinh@demo.ocop.vn",
    "province-chair": "chutich.tinh@demo.ocop.vn",
    "ministry": "lanhdao.bo@demo.ocop.vn",
    "central-council": "hoidong.trunguong@demo.ocop.vn",
    "admin": "admin@demo.ocop.vn",
}
PASSWORD = "ocop-demo-2025"
# the first link of each kind a menu page shows is visited too (by its path's shape)
DETAILS = {
    "product": re.compile(r"^/products/\d+$"),
    "producer": re.compile(r"^/producers/\d+(/edit)?$"),
    "council": re.compile(r"^/councils/\d+$"),
    "round": re.compile(r"^/rounds/\d+$"),
    "sheet": re.compile(r"^/rounds/\d+/products/\d+/sheet$"),
    "decision": re.compile(r"^/decisions/\d+$"),
    "certificate": re.compile(r"^/certificates/[^/]+$"),
    "certificate-format": re.compile(r"^/organisations/\d+/certificate-format$"),
    "product-new": re.compile(r"^/products/new$"),
    "product-edit": re.compile(r"^/products/\d+/edit$"),
    "producer-new": re.compile(r"^/producers/new$"),
    "council-new": re.compile(r"^/councils/new$"),
    "decision-new": re.compile(r"^/decisions/new$"),
    "user-new": re.compile(r"^/admin/users/new$"),
    "tokens": re.compile(r"^/account/tokens$|^/tokens$"),
    "user": re.compile(r"^/admin/users/\d+$"),
    "outbox": re.compile(r"^/admin/outbox$"),
    "rounds": re.compile(r"^/rounds$"),
    "inbox": re.compile(r"^/inbox$"),
    "verify": re.compile(r"^/xac-minh/[^/]+$"),
}
SKIP = re.compile(r"/(logout|language|download|export|files?|docx|pdf|xlsx)(/|$)|\.(docx|pdf|xlsx|png|svg)$")

# a number with a decimal point, as a token of its own (not in an e-mail, an address, a file or version name)
TOKEN = re.compile(r"[\w@:/.\-]+")
DECIMAL = re.compile(r"\d\.\d")
GROUPED = re.compile(r"\d{1,3}(\.\d{3})+")  # 1.234.567: the Vietnamese thousands separator


def decimal_points(text: str) -> list[str]:
    """The numbers written with a decimal point in `text` (what a Vietnamese reader must not see)."""
    found = []
    for raw in TOKEN.findall(text):
        token = raw.strip(".:-/")
        if not DECIMAL.search(token) or "@" in token or "://" in token or re.search(r"[^\W\d_]", token):
            continue
        if GROUPED.fullmatch(token) or "/" in token or "-" in token:
            continue
        found.append(token)
    return found


def test_the_decimal_point_scan() -> None:
    assert decimal_points("điểm 85.5; trung bình 63.42 (17.2 KB)") == ["85.5", "63.42", "17.2"]
    assert decimal_points("85,5 điểm · 1.234 sản phẩm · 25/11/2026 13:30 · a.b@demo.ocop.vn") == []
    assert decimal_points("ocop-148@v2 · v1.2 · OCOP-24-2025-001 · 1215/QĐ-UBND · http://x.vn/a.b") == []


@pytest.fixture(scope="module")
def demo_server(demo_site):
    """The shared demo site (tests/web/conftest.py) as this module reads it."""
    return demo_site.base, demo_site.states, demo_site.codes


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


class Visit:
    """One role's tab: every page at both widths, checked and saved."""

    def __init__(self, browser, base: str, role: str) -> None:
        self.context = browser.new_context(viewport={"width": WIDE, "height": 900}, locale="vi-VN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.base, self.role = base, role
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def login(self, email: str) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form input[type=submit], main form button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
        out = []
        for href in hrefs:
            if not href or href.startswith(("#", "mailto:", "javascript:")):
                continue
            parsed = urlparse(href)
            if parsed.netloc and parsed.netloc not in self.base:
                continue
            if SKIP.search(parsed.path):
                continue
            out.append(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
        return list(dict.fromkeys(out))

    def check(self, path: str, name: str | None = None) -> bool:
        if path in self.seen:
            return False
        self.seen.add(path)
        name = name or _slug(path)
        self.page.set_viewport_size({"width": WIDE, "height": 900})
        response = self.page.goto(self.base + path)
        status = response.status if response else 0
        if status >= 500 or status == 0:
            self.problems.append(f"{self.role} {path}: HTTP {status}")
            return False
        self.page.screenshot(path=str(ARTIFACTS / f"layout-{self.role}-{name}-{WIDE}.png"), full_page=True)
        self.page.set_viewport_size({"width": PHONE, "height": 740})
        self.page.wait_for_timeout(50)
        scroll = self.page.evaluate("document.documentElement.scrollWidth")
        if scroll > PHONE:
            wide = self.page.evaluate(
                """w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
                .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 40))""",
                PHONE,
            )
            self.problems.append(f"{self.role} {path}: {scroll}px wide at {PHONE}px ({wide})")
        header = self.page.evaluate("(document.querySelector('header') || {offsetHeight: 0}).offsetHeight")
        if header > MAX_HEADER:
            self.problems.append(f"{self.role} {path}: header {header}px tall at {PHONE}px")
        if self.page.evaluate("document.documentElement.lang") == "vi":
            shown = self.page.evaluate("document.body.innerText")
            bad = decimal_points(shown)
            if bad:
                self.problems.append(f"{self.role} {path}: decimal point in {bad[:5]}")
        self.page.screenshot(path=str(ARTIFACTS / f"layout-{self.role}-{name}-{PHONE}.png"), full_page=True)
        return True

    def close(self) -> None:
        self.context.close()


def test_the_phone_menu_and_the_filters_open_and_close_without_script(demo_server, chromium) -> None:
    base, _states, _codes = demo_server
    context = chromium.new_context(viewport={"width": PHONE, "height": 740}, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    try:
        tab = Visit.__new__(Visit)
        tab.page, tab.base = page, base
        tab.login(ROLES["province"])
        assert page.evaluate("document.querySelector('header').offsetHeight") <= MAX_HEADER
        assert not page.is_visible("#main-nav") and page.is_visible("#menu-button")
        page.click("#menu-button")
        assert page.is_visible("#main-nav") and page.is_visible("#nav-certificates")
        # the opened menu lists its links one per line, none squeezed onto two lines
        heights = page.eval_on_selector_all("#main-nav a", "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and max(heights) < 2 * min(heights), heights
        page.click("#menu-button")
        assert not page.is_visible("#main-nav")
        # from the keyboard: Tab reaches the menu's toggle right after the brand, Space opens and closes it
        page.goto(base + "/")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
        assert 'id="menu-toggle"' in focused, focused
        page.keyboard.press("Space")
        assert page.is_visible("#main-nav")
        page.keyboard.press("Space")
        assert not page.is_visible("#main-nav")
        for path in ("/certificates", "/decisions"):
            page.goto(base + path)
            assert not page.is_visible("form.filters") and page.is_visible("label.fold-button")
            page.click("label.fold-button")
            assert page.is_visible("form.filters")
        page.set_viewport_size({"width": WIDE, "height": 900})
        page.goto(base + "/certificates")
        assert page.is_visible("form.filters") and not page.is_visible("label.fold-button")
        assert page.is_visible("#main-nav") and not page.is_visible("#menu-button")
    finally:
        context.close()


def test_every_demo_page_fits_a_phone_and_writes_vietnamese_numbers(demo_server, chromium) -> None:
    base, states, codes = demo_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    visited = 0
    for role, email in ROLES.items():
        tab = Visit(chromium, base, role)
        try:
            tab.login(email)
            tab.check("/", "dashboard")
            menu = tab.links("header nav a")
            assert menu, f"{role}: no menu"
            # the menu's pages, then the first link of each kind any visited page shows (a list's first
            # row, a round from its council, a sheet from the queue …)
            found: dict[str, str] = {}
            queue = list(menu)
            while queue:
                path = queue.pop(0)
                if not tab.check(path, next((k for k, rx in DETAILS.items() if rx.match(path.split("?")[0])), None)):
                    continue
                for link in tab.links("main a"):
                    kind = next((k for k, rx in DETAILS.items() if rx.match(link.split("?")[0])), None)
                    if kind and kind not in found:
                        found[kind] = link
                        queue.append(link)
            if role == "province":  # a product of several states, seen by the province's secretariat
                for state, pid in sorted(states.items())[:8]:
                    tab.check(f"/products/{pid}", f"product-{state}")
            visited += len(tab.seen)
            problems += tab.problems
        finally:
            tab.close()
    public = Visit(chromium, base, "public")
    try:
        for path in ["/login", "/so-dang-ky-ocop", "/xac-minh", *(f"/xac-minh/{c}" for c in codes)]:
            public.check(path)
        problems += public.problems
    finally:
        public.close()
    assert visited > 60, visited
    assert not problems, "\n".join(problems)
