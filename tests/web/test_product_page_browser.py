"""The product page in Chromium at 1280 px and 375 px (issue #11): a row's own upload ticks the row
and keeps its type, a refused step leaves the address bar on the product page, and a withdrawal
asks for a confirmation that states its consequence. Screenshots: test-artifacts/page-*.png; the
page's height at both widths is printed (the issue measured 4,242 px at 375 px before)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSWORD, PDF
from test_browser import CHROMIUM, browser, server  # noqa: F401  (fixtures shared with the other browser tests)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]


def _implementation_product(app, web_template) -> int:
    """A food product of a co-operative group at "Implementation", returned once by the district."""
    from ocop_workflow.services.access import load_actor
    from ocop_workflow.services.documents import attach_document
    from ocop_workflow.services.products import advance, create_product

    ocop = app.extensions["ocop"]
    reg, email = ocop.registry, web_template.emails

    def attach(s, pid: int, doc_type: str) -> None:
        attach_document(
            s,
            load_actor(s, email["officer"]),
            pid,
            doc_type,
            f"{doc_type}.pdf",
            PDF,
            upload_dir=ocop.upload_dir,
            max_bytes=1024 * 1024,
            known_types=reg.catalogue.document_types,
            registry=reg,
        )

    with ocop.db.transaction() as s:
        officer = load_actor(s, email["officer"])
        pid = create_product(
            s, reg, officer, name="Vải thiều sấy Phượng Sơn", product_group="food", producer_id=web_template.producer
        ).id
    steps = [
        ("idea_registration",),
        ("business_plan", "organisation_intro"),
        ("registration_form", "self_assessment_report", "product_story", "food_safety_certificate"),
    ]
    for trigger, docs in zip(("accept_idea", "approve_plan"), steps, strict=False):
        with ocop.db.transaction() as s:
            for doc_type in docs:
                attach(s, pid, doc_type)
            advance(s, reg, pid, trigger, load_actor(s, email["officer"]))
    with ocop.db.transaction() as s:
        for doc_type in steps[2]:
            attach(s, pid, doc_type)
        attach(s, pid, "business_plan")  # a replaced version
    return pid


def test_the_product_page_in_a_browser(server, browser, web_template):  # noqa: F811
    base, app = server
    pid = _implementation_product(app, web_template)
    ARTIFACTS.mkdir(exist_ok=True)
    heights = {}
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(base + "/login")
        page.fill("input[name=email]", web_template.emails["officer"])
        page.fill("input[name=password]", PASSWORD)
        page.click("main form input[type=submit]")
        page.wait_for_url(base + "/")
        page.goto(f"{base}/products/{pid}")
        assert page.locator("#checklist li.check.missing").count() > 0
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        heights[width] = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(ARTIFACTS / f"page-officer-{width}.png"), full_page=True)
        context.close()
    print(f"\n[product page] height at 1280 px: {heights[1280]} px; at 375 px: {heights[375]} px")

    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/login")
    page.fill("input[name=email]", web_template.emails["officer"])
    page.fill("input[name=password]", PASSWORD)
    page.click("main form input[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(f"{base}/products/{pid}")
    # a row's own upload: the type is the row's, the page comes back to the row, ticked
    scan = ARTIFACTS / "page-scan.pdf"
    scan.write_bytes(PDF)
    try:
        page.set_input_files("#doc-lab_test_report input[type=file]", str(scan))
        page.click("#doc-lab_test_report button[type=submit]")
        page.wait_for_load_state()
    finally:
        scan.unlink()
    assert page.url.endswith(f"/products/{pid}?doc_type=lab_test_report#doc-lab_test_report")
    assert "ok" in (page.get_attribute("#doc-lab_test_report", "class") or "").split()
    assert page.input_value("#upload select[name=doc_type]") == "lab_test_report"
    assert "Tải lên: Phiếu kết quả kiểm nghiệm (page-scan.pdf)" in page.inner_text("#history")
    page.screenshot(path=str(ARTIFACTS / "page-after-upload-375.png"), full_page=True)
    # a refused step: back on the product page (not /advance), the message at the step
    assert not page.is_visible("#step-withdraw button[type=submit]")  # folded apart from the next step
    page.click("#final-steps > summary")
    page.click("#step-withdraw button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/products/{pid}#step-withdraw")
    assert "cần ghi ý kiến/lý do" in page.inner_text("#step-withdraw")
    # the withdrawal: a confirmation first (cancel keeps the product), then the confirmed step
    page.fill("#step-withdraw textarea[name=comment]", "Hộ dừng sản xuất vải sấy")
    page.click("#step-withdraw button[type=submit]")
    page.wait_for_load_state()
    assert "không thể hoàn tác" in page.inner_text("#consequence")
    page.screenshot(path=str(ARTIFACTS / "page-confirm-withdraw-375.png"), full_page=True)
    page.click("#cancel-final-step")
    page.wait_for_load_state()
    assert page.inner_text("#current-state") == "Triển khai phương án"
    if not page.is_visible("#step-withdraw textarea[name=comment]"):
        page.click("#final-steps > summary")
    page.fill("#step-withdraw textarea[name=comment]", "Hộ dừng sản xuất vải sấy")
    page.click("#step-withdraw button[type=submit]")
    page.wait_for_load_state()
    page.click("#confirm-final-step")
    page.wait_for_load_state()
    assert page.inner_text("#current-state") == "Đã rút hồ sơ"
    page.screenshot(path=str(ARTIFACTS / "page-withdrawn-375.png"), full_page=True)
    context.close()
