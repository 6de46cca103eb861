"""The OCOP product certificate (Giấy chứng nhận sản phẩm OCOP) as a one-page printable PDF.

Why a PDF built here and not a Word template: a certificate is printed and framed by the producer
and checked by buyers, so it must look the same on every machine and must not be editable like the
decision DOCX the secretariat finishes in Word. It carries the national form's content (the motto,
the recognising body, the title, product, group, producer, address, the star drawn and written,
the recognition decision, issue date and validity, the signer, the certificate code) and a QR
code that encodes the public verification address, so anyone holding the paper or a photo of the
label can check it is genuine and still valid.

Why a shipped font: the PDF core fonts have no Vietnamese letters, and a system font may be
missing on a fresh machine; DejaVu Sans (in `ocop_workflow/data/fonts/`, licence alongside) covers
every precomposed Vietnamese letter and is embedded (subset) into the file. Text is normalised to
NFC first, because fpdf2 draws combining marks as separate glyphs without text shaping.

The builder takes a plain `CertificateDoc` (no database objects), so the web page, the API, the
CLI and the tests all print the same document from the same data. The output is deterministic:
the PDF's creation date is the issue date.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from ..i18n import Text
from .common import day, safe_name, stars
from .decision_docx import vn_date_parts

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT = "DejaVu"


@dataclass(frozen=True)
class CertificateDoc:
    """What a certificate shows, as plain values (the caller reads them from the database)."""

    code: str
    product_name: str
    product_group: str
    producer_name: str
    commune_name: str
    province_name: str
    star: int
    recognising_body: str
    decision_number: str | None
    decision_date: date | None
    issued_on: date
    expires_on: date  # the first day it is no longer valid
    signer_name: str
    signer_title: str
    verify_url: str


MOTTO = (
    Text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIETNAM"),
    Text("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
)
T = {
    "title": Text("GIẤY CHỨNG NHẬN SẢN PHẨM OCOP", "OCOP PRODUCT CERTIFICATE"),
    "programme": Text("Chương trình Mỗi xã một sản phẩm (OCOP)", "One Commune One Product (OCOP) programme"),
    "rank": Text("Sản phẩm đạt hạng {stars}", "Product rated {stars}"),
    "product": Text("Tên sản phẩm:", "Product:"),
    "group": Text("Nhóm sản phẩm:", "Product group:"),
    "producer": Text("Chủ thể sản xuất:", "Producer:"),
    "address": Text("Địa chỉ:", "Address:"),
    "decision": Text("Quyết định công nhận:", "Recognition decision:"),
    "decision_full": Text("Số {n} ngày {d} của {body}", "No. {n} of {d} by {body}"),
    "decision_no_date": Text("Số {n} của {body}", "No. {n} by {body}"),
    "decision_date_only": Text("Ngày {d} của {body}", "Of {d} by {body}"),
    "decision_none": Text(
        "{body} (giấy chứng nhận nhập từ hồ sơ lưu trữ)", "{body} (certificate imported from archived records)"
    ),
    "issued": Text("Ngày cấp:", "Issued on:"),
    "valid": Text("Có giá trị đến hết ngày:", "Valid until (inclusive):"),
    "code": Text("Mã số giấy chứng nhận:", "Certificate code:"),
    "scan": Text("Quét mã QR để xác minh giấy chứng nhận:", "Scan the QR code to verify this certificate:"),
    "signed_day": Text("Ngày {d} tháng {m} năm {y}", "Date: {d}/{m}/{y}"),
}

# Colours: the red of state documents for the title and frame, gold stars.
RED = (180, 20, 30)
GOLD = (240, 180, 20)
DARK = (30, 30, 30)

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
BODY_X, BODY_W = 28.0, 241.0
LABEL_W = 62.0
BODY_TOP, BODY_BOTTOM = 86.0, 146.0  # the data rows must fit between these; the QR and signer sit below


def _t(key: str, locale: str, **values: object) -> str:
    return T[key].get(locale).format(**values)


def _nfc(doc: CertificateDoc) -> CertificateDoc:
    """Every text field in NFC (precomposed letters), which the embedded font draws correctly."""
    changes = {
        f.name: unicodedata.normalize("NFC", value)
        for f in fields(doc)
        if isinstance(value := getattr(doc, f.name), str)
    }
    return replace(doc, **changes)


def certificate_filename(doc: CertificateDoc) -> str:
    """An ASCII download name, e.g. "giay-chung-nhan-OCOP-24-2026-00007.pdf"."""
    return f"giay-chung-nhan-{safe_name(doc.code, 'ocop')}.pdf"


def qr_png(data: str, scale: int = 10) -> bytes:
    """A QR code of `data` as PNG bytes, with the four-module quiet zone readers need."""
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(15, 15, 15)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.c_margin = 0.5


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*RED)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_line_width(0.4)
    pdf.rect(11, 11, PAGE_W - 22, PAGE_H - 22)


def _boxed(pdf: FPDF, x: float, y: float, w: float, text: str, size: float, max_lines: int, style: str = "B") -> float:
    """`text` centred in at most `max_lines` lines of width `w` at `size` pt or smaller (down to 7 pt),
    cut with "…" if even that is not enough, so a long name never runs into its neighbours.
    Answers the y below the text."""
    while True:
        pdf.set_font(FONT, style, size)
        lines = pdf.multi_cell(w, size * 0.5, text, dry_run=True, output="LINES")
        if len(lines) <= max_lines or size <= 7:
            break
        size -= 0.5
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1].rstrip()[:-1] + "…"]
    pdf.set_xy(x, y)
    for line in lines:
        pdf.cell(w, size * 0.5, line, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _header(pdf: FPDF, doc: CertificateDoc, locale: str) -> None:
    pdf.set_text_color(*DARK)
    body_end = _boxed(pdf, 16, 16, 112, doc.recognising_body.upper(), 10.5, 3)
    pdf.set_draw_color(*DARK)
    pdf.set_line_width(0.3)
    pdf.line(52, body_end + 1.2, 92, body_end + 1.2)

    pdf.set_xy(146, 16)
    pdf.set_font(FONT, "B", 10.5)
    pdf.cell(135, 5.2, MOTTO[0].get(locale), align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(135, 5.6, MOTTO[1].get(locale), align=Align.C)
    pdf.line(189, 28.5, 238, 28.5)


def _title(pdf: FPDF, doc: CertificateDoc, locale: str) -> None:
    pdf.set_text_color(*RED)
    pdf.set_font(FONT, "B", 24)
    pdf.set_xy(15, 38)
    pdf.cell(PAGE_W - 30, 11, _t("title", locale), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*DARK)
    pdf.set_font(FONT, "", 11)
    pdf.cell(PAGE_W - 30, 6, _t("programme", locale), align=Align.C)

    # The star as shapes (gold, outlined) and in words.
    count = max(0, min(doc.star, 5))
    r_out, gap = 5.2, 13.0
    first = PAGE_W / 2 - gap * (count - 1) / 2
    pdf.set_fill_color(*GOLD)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.3)
    for i in range(count):
        pdf.star(first + i * gap, 64.5, r_out * 0.42, r_out, 5, rotate_degrees=-90, style="DF")
    pdf.set_font(FONT, "B", 13)
    pdf.set_text_color(*RED)
    pdf.set_xy(15, 71)
    pdf.cell(PAGE_W - 30, 7, _t("rank", locale, stars=stars(doc.star, locale)), align=Align.C)
    pdf.set_text_color(*DARK)


def _decision_text(doc: CertificateDoc, locale: str) -> str:
    body = doc.recognising_body
    if doc.decision_number and doc.decision_date:
        return _t("decision_full", locale, n=doc.decision_number, d=day(doc.decision_date), body=body)
    if doc.decision_number:
        return _t("decision_no_date", locale, n=doc.decision_number, body=body)
    if doc.decision_date:
        return _t("decision_date_only", locale, d=day(doc.decision_date), body=body)
    return _t("decision_none", locale, body=body)


def _rows(doc: CertificateDoc, locale: str) -> list[tuple[str, str, bool]]:
    """(label, value, emphasised) for the data rows, in print order."""
    last_valid_day = doc.expires_on - timedelta(days=1)
    return [
        (_t("product", locale), doc.product_name, True),
        (_t("group", locale), doc.product_group, False),
        (_t("producer", locale), doc.producer_name, True),
        (_t("address", locale), f"{doc.commune_name}, {doc.province_name}", False),
        (_t("decision", locale), _decision_text(doc, locale), False),
        (_t("issued", locale), day(doc.issued_on), False),
        (_t("valid", locale), day(last_valid_day), True),
        (_t("code", locale), doc.code, True),
    ]


def _rows_height(pdf: FPDF, rows: list[tuple[str, str, bool]], size: float) -> float:
    line, total = size * 0.5, 0.0
    for i, (label, value, emphasised) in enumerate(rows):
        pdf.set_font(FONT, "B" if emphasised else "", size + (2 if i == 0 else 0))
        value_lines = pdf.multi_cell(BODY_W - LABEL_W, line, value, dry_run=True, output="LINES")
        pdf.set_font(FONT, "", size)
        label_lines = pdf.multi_cell(LABEL_W - 2, line, label, dry_run=True, output="LINES")
        total += max(len(value_lines), len(label_lines)) * line + 1.2
    return total


def _body(pdf: FPDF, doc: CertificateDoc, locale: str) -> None:
    """The data rows at the largest size (13 pt down to 6 pt) at which they fit their box, so a
    200-character name wraps and the certificate stays one page."""
    rows = _rows(doc, locale)
    size = 13.0
    while size > 6 and _rows_height(pdf, rows, size) > BODY_BOTTOM - BODY_TOP:
        size -= 0.5
    line = size * 0.5
    y = BODY_TOP
    for i, (label, value, emphasised) in enumerate(rows):
        pdf.set_font(FONT, "", size)
        pdf.set_xy(BODY_X, y)
        pdf.multi_cell(LABEL_W - 2, line, label, align=Align.L)
        label_end = pdf.get_y()
        pdf.set_font(FONT, "B" if emphasised else "", size + (2 if i == 0 else 0))
        if i == 0:
            pdf.set_text_color(*RED)
        pdf.set_xy(BODY_X + LABEL_W, y)
        pdf.multi_cell(BODY_W - LABEL_W, line, value, align=Align.L)
        pdf.set_text_color(*DARK)
        y = max(label_end, pdf.get_y()) + 1.2


def _qr(pdf: FPDF, doc: CertificateDoc, locale: str) -> None:
    size = 36.0
    x, y = 20.0, 150.0
    pdf.image(io.BytesIO(qr_png(doc.verify_url)), x=x, y=y, w=size, h=size)
    pdf.set_font(FONT, "", 8)
    pdf.set_xy(x + size + 3, y + 8)
    pdf.multi_cell(95, 4, _t("scan", locale), align=Align.L)
    pdf.set_x(x + size + 3)
    pdf.set_font(FONT, "B", 8)
    pdf.multi_cell(95, 4, doc.code, align=Align.L)
    # The address in full under the code, so it can be typed in when no camera is at hand.
    pdf.set_font(FONT, "", 7.5)
    pdf.set_xy(x, y + size + 1)
    pdf.multi_cell(135, 3.6, doc.verify_url, align=Align.L)


def _signer(pdf: FPDF, doc: CertificateDoc, locale: str) -> None:
    x, w = 165.0, 115.0
    d, m, y = vn_date_parts(doc.issued_on)
    pdf.set_font(FONT, "", 11)
    pdf.set_xy(x, 150)
    pdf.cell(w, 6, _t("signed_day", locale, d=d, m=m, y=y), align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    # A title may run over lines ("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"); up to three above the signature.
    _boxed(pdf, x, pdf.get_y(), w, doc.signer_title.upper(), 11.5, 3)
    if doc.signer_name:
        _boxed(pdf, x, 185, w, doc.signer_name, 12, 2)


def build_certificate_pdf(doc: CertificateDoc, locale: str = "vi") -> bytes:
    """The certificate as PDF bytes, its labels in Vietnamese (default) or English; the data
    (names, the recognising body) are printed as recorded."""
    doc = _nfc(doc)
    pdf = _Certificate()
    pdf.set_creation_date(datetime(doc.issued_on.year, doc.issued_on.month, doc.issued_on.day, tzinfo=UTC))
    pdf.set_title(f"{_t('title', locale)} {doc.code}")
    pdf.set_subject(doc.product_name)
    pdf.set_author(doc.recognising_body)
    pdf.set_creator("OCOP Workflow")
    pdf.set_producer("OCOP Workflow")
    pdf.set_lang("en" if locale.startswith("en") else "vi")
    pdf.add_page()
    _frame(pdf)
    _header(pdf, doc, locale)
    _title(pdf, doc, locale)
    _body(pdf, doc, locale)
    _qr(pdf, doc, locale)
    _signer(pdf, doc, locale)
    return bytes(pdf.output())
