"""Issue #10, acceptance: the public verification page in a real browser (Chromium, headless), no login.

A valid and a revoked certificate (made through a round and a signed decision, test_public_pages) are
opened as a consumer would after scanning the QR code, on a 1280 px screen and on a 375 px phone; the
register is searched without diacritics. Nothing may overflow the phone's width and the Content Security
Policy must never block anything. Screenshots go to test-artifacts/screenshots/ (test_browser.SHOTS).
"""

from __future__ import annotations

import threading

import pytest
from test_browser import CHROMIUM, SHOTS, browser  # noqa: F401  (fixture)
from test_public_pages import certified_template, public_app  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

WIDE, PHONE = 1280, 375


@pytest.fixture
def public_server(tmp_path, web_template, certified_template):  # noqa: F811
    from waitress.server import create_server

    app, db = public_app(tmp_path, web_template, certified_template)
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", certified_template
    srv.close()
    thread.join(timeout=5)
    db.dispose()


def _open(browser, width: int):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)
    return context, page, complaints


def _shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"public-{name}-{width}.png"), full_page=True)


def _fits(page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, (scroll, inner)


@pytest.mark.parametrize("width", [WIDE, PHONE])
def test_a_consumer_checks_a_valid_and_a_revoked_certificate(public_server, browser, width):  # noqa: F811
    base, made = public_server
    context, page, complaints = _open(browser, width)
    try:
        response = page.goto(f"{base}/xac-minh/{made.vai}")
        assert response.status == 200 and "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert page.inner_text("#cert-status") == "Còn hiệu lực"
        assert page.inner_text("#cert-product") == "Vải thiều Lục Ngạn"
        assert page.inner_text("#cert-star") == "Ba sao"
        assert page.inner_text("#cert-district") == "Lục Ngạn" and page.inner_text("#cert-province") == "Bắc Giang"
        assert "777/QĐ-UBND" in page.inner_text("#cert-decision")
        assert page.locator("#cert-status").is_visible()
        _fits(page)
        _shot(page, "valid", width)

        page.click("#lang-en")
        page.wait_for_url(f"{base}/xac-minh/{made.vai}?lang=en")
        assert page.inner_text("#cert-status") == "Valid" and page.inner_text("#cert-star") == "Three stars"
        _shot(page, "valid-en", width)

        page.goto(f"{base}/xac-minh/{made.mien}")
        assert page.inner_text("#cert-status") == "Đã bị thu hồi"
        assert "55/QĐ-UBND" in page.inner_text("#cert-revoked")
        assert "BIMAT" not in page.content()
        _fits(page)
        _shot(page, "revoked", width)

        page.goto(f"{base}/xac-minh/{made.cam_old}")
        assert page.inner_text("#cert-status") == "Đã được thay thế"
        page.click("#cert-successor")
        page.wait_for_url(f"{base}/xac-minh/{made.cam_new}")
        assert page.inner_text("#cert-star") == "Bốn sao"
        _shot(page, "superseded-then-newer", width)

        response = page.goto(f"{base}/xac-minh/KHONG-CO-SO-NAY")
        assert response.status == 404
        assert "Không có giấy chứng nhận OCOP nào mang số «KHONG-CO-SO-NAY»" in page.inner_text("#error-message")
        _fits(page)
        _shot(page, "unknown", width)
        page.fill("#code", made.vai)
        page.click("#lookup button[type=submit]")
        page.wait_for_url(f"{base}/xac-minh/{made.vai}")

        page.goto(f"{base}/so-dang-ky-ocop")
        page.fill("#q", "vai thieu luc ngan")
        page.click("#register-filters button[type=submit]")
        page.wait_for_load_state()
        rows = page.locator("#register tbody tr")
        assert rows.count() == 1 and "Vải thiều Lục Ngạn" in rows.first.inner_text()
        _fits(page)
        _shot(page, "register-search", width)
        page.click(f"#register a:has-text('{made.vai}')")
        page.wait_for_url(f"{base}/xac-minh/{made.vai}")
        assert complaints == []
    finally:
        context.close()
