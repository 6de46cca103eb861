"""The recognition decision (Quyết định công nhận sản phẩm đạt chuẩn OCOP) as a DOCX.

The layout is the administrative decision form of Decree 30/2020/NĐ-CP, as the minutes
(`minutes.py`) use it: the issuing body and the number on the left, the national motto and the
place and date on the right, "QUYẾT ĐỊNH" and its title, the authority, the "Căn cứ" lines, the
articles (Điều 1 recognises the products of the annex, Điều 2 the certificates' validity, Điều 3
who carries it out), the signer's block; then the annex with one row per recognised product on a
landscape page. It is what the secretariat prints and the chair signs, and Vietnamese offices
finish such papers in Word, so it is plain paragraphs and tables, no fields or macros.

A draft (no number yet) prints "Số: ....../QĐ-UBND", a blank date and a "DỰ THẢO" (DRAFT) mark
on every page, so a printed draft can never pass for the signed decision.

The builder takes a plain `DecisionDoc` (no database objects); the caller reads the decision,
its council and round and the listed products from the database.
"""

from __future__ import annotations

import io
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor

from ..i18n import Text
from .common import day, number, safe_name, stars
from .docx_parts import centered, fill_cell


@dataclass(frozen=True)
class DecisionEntry:
    """One recognised product, a row of the annex."""

    product_name: str
    producer_name: str
    commune_name: str
    product_group: str
    score: float | None
    star: int


@dataclass(frozen=True)
class DecisionDoc:
    """What a recognition decision says, as plain values; `number`, `signed_on` and the signer are
    None while it is a draft."""

    issuing_body: str
    place: str
    number: str | None
    signed_on: date | None
    title: str
    legal_basis: list[str]
    council_name: str | None
    round_name: str | None
    certificate_months: int
    signer_name: str | None
    signer_title: str | None
    entries: list[DecisionEntry]


MOTTO = (
    Text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIETNAM"),
    Text("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
)
T = {
    "draft": Text("DỰ THẢO", "DRAFT"),
    "number": Text("Số: {n}", "No.: {n}"),
    "dated": Text("{place}, ngày {d} tháng {m} năm {y}", "{place}, {d}/{m}/{y}"),
    "undated": Text("{place}, ngày ...... tháng ...... năm ......", "{place}, date ......"),
    "decision": Text("QUYẾT ĐỊNH", "DECISION"),
    "decides": Text("QUYẾT ĐỊNH:", "DECIDES:"),
    "considering": Text(
        "Xét kết quả đánh giá, phân hạng sản phẩm của {council}{round}.",
        "Having considered the evaluation and ranking results of {council}{round}.",
    ),
    "in_round": Text(" tại {name}", " in {name}"),
    "art1": Text(
        "Điều 1. Công nhận {n} sản phẩm đạt chuẩn OCOP ({by_star}), có danh sách kèm theo tại Phụ lục "
        "của Quyết định này.",
        "Article 1. {n} products are recognised as meeting the OCOP standard ({by_star}), as listed in the "
        "annex to this Decision.",
    ),
    "art1_one": Text(
        "Điều 1. Công nhận 1 sản phẩm đạt chuẩn OCOP ({by_star}), có thông tin tại Phụ lục của Quyết định này.",
        "Article 1. One product is recognised as meeting the OCOP standard ({by_star}), as listed in the annex to "
        "this Decision.",
    ),
    "art2": Text(
        "Điều 2. Giấy chứng nhận sản phẩm OCOP có giá trị {months} tháng kể từ ngày ký Quyết định này. Các "
        "chủ thể có sản phẩm được công nhận có trách nhiệm duy trì, nâng cao chất lượng sản phẩm và sử dụng "
        "nhãn OCOP đúng hạng sao được công nhận.",
        "Article 2. The OCOP product certificates are valid for {months} months from the date this Decision is "
        "signed. The producers of the recognised products shall maintain and improve their quality and use the "
        "OCOP label only with the star recognised.",
    ),
    "art3": Text(
        "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng, Thủ trưởng các cơ quan, đơn vị có "
        "liên quan và các chủ thể có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này.",
        "Article 3. This Decision takes effect on the date it is signed. The Chief of Office, the heads of the "
        "agencies and units concerned and the producers named in Article 1 are responsible for carrying it out.",
    ),
    "recipients": Text("Nơi nhận:", "Recipients:"),
    "recipient_lines": (
        Text("- Như Điều 3;", "- As in Article 3;"),
        Text("- Lưu: VT.", "- Archived: Records office."),
    ),
    "unsigned": Text("(chưa ký)", "(not signed)"),
    "annex": Text("PHỤ LỤC: DANH SÁCH SẢN PHẨM ĐƯỢC CÔNG NHẬN", "ANNEX: LIST OF RECOGNISED PRODUCTS"),
    "annex_of": Text("(Kèm theo Quyết định số {n} ngày {d})", "(Attached to Decision No. {n} of {d})"),
    "cols": (
        Text("STT", "No."),
        Text("Tên sản phẩm", "Product"),
        Text("Nhóm sản phẩm", "Product group"),
        Text("Chủ thể", "Producer"),
        Text("Xã", "Commune"),
        Text("Điểm", "Score"),
        Text("Hạng sao", "Star"),
    ),
    "count": Text("{n} sản phẩm {stars}", "{n} × {stars}"),
}
RED = RGBColor(0xC0, 0x10, 0x20)


def _t(key: str, locale: str, **values: object) -> str:
    return T[key].get(locale).format(**values)


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def vn_date_parts(value: date) -> tuple[str, str, str]:
    """Day, month and year as Decree 30/2020 writes them (05, 02, 2026; 15, 9, 2026)."""
    d = f"{value.day:02d}"
    m = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return d, m, str(value.year)


def _suffix(issuing_body: str) -> str:
    """The number's suffix a draft shows: People's Committees sign "QĐ-UBND"."""
    return "QĐ-UBND" if "ỦY BAN NHÂN DÂN" in _nfc(issuing_body).upper() else "QĐ-......"


def _number(doc: DecisionDoc) -> str:
    return _nfc(doc.number) if doc.number else f"....../{_suffix(doc.issuing_body)}"


def decision_filename(doc: DecisionDoc) -> str:
    """An ASCII download name: "quyet-dinh-1234-QD-UBND.docx", or "du-thao-quyet-dinh-<title>.docx"."""
    if doc.number:
        return f"quyet-dinh-{safe_name(doc.number, 'ocop')}.docx"
    return f"du-thao-quyet-dinh-{safe_name(doc.title, 'cong-nhan-ocop')}.docx"


def _draft_mark(section, locale: str) -> None:
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(_t("draft", locale))
    run.bold = True
    run.font.color.rgb = RED


def _header(doc, d: DecisionDoc, locale: str) -> None:
    body = _nfc(d.issuing_body).upper()
    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    fill_cell(head.cell(0, 0), [(body, True, False), (_t("number", locale, n=_number(d)), False, False)])
    if d.signed_on is not None:
        dd, mm, yy = vn_date_parts(d.signed_on)
        dated = _t("dated", locale, place=_nfc(d.place), d=dd, m=mm, y=yy)
    else:
        dated = _t("undated", locale, place=_nfc(d.place))
    fill_cell(
        head.cell(0, 1),
        [(MOTTO[0].get(locale), True, False), (MOTTO[1].get(locale), True, False), (dated, False, True)],
    )


def _basis(doc, d: DecisionDoc, locale: str) -> None:
    lines = [_nfc(line).strip() for line in d.legal_basis if line and line.strip()]
    if d.council_name:
        rnd = _t("in_round", locale, name=_nfc(d.round_name)) if d.round_name else ""
        lines.append(_t("considering", locale, council=_nfc(d.council_name), round=rnd))
    for i, line in enumerate(lines):
        if line[-1] not in ".;:":
            line += "." if i == len(lines) - 1 else ";"
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Cm(1)
        p.add_run(line).italic = True


def _by_star(entries: list[DecisionEntry], locale: str) -> str:
    counts = Counter(e.star for e in entries)
    parts = [_t("count", locale, n=counts[s], stars=stars(s, locale)) for s in sorted(counts, reverse=True)]
    return ", ".join(parts) or "—"


def _articles(doc, d: DecisionDoc, locale: str) -> None:
    for key, values in (
        ("art1_one" if len(d.entries) == 1 else "art1", {"n": len(d.entries), "by_star": _by_star(d.entries, locale)}),
        ("art2", {"months": d.certificate_months}),
        ("art3", {}),
    ):
        text = _t(key, locale, **values)
        head, _, rest = text.partition(". ")
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Cm(1)
        p.add_run(head + ".").bold = True
        p.add_run(" " + rest)


def _signature(doc, d: DecisionDoc, locale: str) -> None:
    doc.add_paragraph()
    signs = doc.add_table(rows=1, cols=2)
    signs.alignment = WD_TABLE_ALIGNMENT.CENTER
    recipients = [(_t("recipients", locale), True, True)]
    recipients += [(line.get(locale), False, False) for line in T["recipient_lines"]]
    fill_cell(signs.cell(0, 0), recipients, align=WD_ALIGN_PARAGRAPH.LEFT)
    # A title may run over lines ("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH").
    titles = _nfc(d.signer_title).upper().splitlines() if d.signer_title else ["……………"]
    lines = [(title, True, False) for title in titles] + [("", False, False)] * 3
    if d.signer_name:
        lines.append((_nfc(d.signer_name), True, False))
    else:
        lines.append((_t("unsigned", locale), False, True))
    fill_cell(signs.cell(0, 1), lines)


def _annex(doc, d: DecisionDoc, locale: str) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    centered(doc, _t("annex", locale), bold=True, size=14)
    when = day(d.signed_on) if d.signed_on else "......"
    centered(doc, _t("annex_of", locale, n=_number(d), d=when), italic=True)
    table = doc.add_table(rows=1, cols=len(T["cols"]))
    table.style = "Table Grid"
    for i, label in enumerate(T["cols"]):
        cell = table.rows[0].cells[i]
        cell.text = label.get(locale)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for n, entry in enumerate(d.entries, start=1):
        row = table.add_row().cells
        row[0].text = str(n)
        row[1].text = _nfc(entry.product_name)
        row[2].text = _nfc(entry.product_group)
        row[3].text = _nfc(entry.producer_name)
        row[4].text = _nfc(entry.commune_name)
        row[5].text = number(entry.score, locale)
        row[6].text = stars(entry.star, locale)


def build_decision_docx(doc: DecisionDoc, locale: str = "vi") -> bytes:
    """The decision as DOCX bytes, its labels in Vietnamese (default) or English; the data (names,
    title, legal basis) are printed as given."""
    out_doc = Document()
    style = out_doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    draft = doc.number is None

    if draft:
        p = out_doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = p.add_run(_t("draft", locale))
        run.bold = True
        run.font.color.rgb = RED
    _header(out_doc, doc, locale)
    out_doc.add_paragraph()
    centered(out_doc, _t("decision", locale), bold=True, size=14)
    centered(out_doc, _nfc(doc.title), bold=True)
    centered(out_doc, _nfc(doc.issuing_body).upper(), bold=True)
    _basis(out_doc, doc, locale)
    centered(out_doc, _t("decides", locale), bold=True)
    _articles(out_doc, doc, locale)
    _signature(out_doc, doc, locale)
    _annex(out_doc, doc, locale)
    if draft:
        # The annex's section shares the first section's header (linked), so this marks every page.
        _draft_mark(out_doc.sections[0], locale)

    out = io.BytesIO()
    out_doc.save(out)
    return out.getvalue()
