"""The recognition decision DOCX read back with python-docx, as Word would open it: the number and
date line, the title, the "Căn cứ" lines, the articles, the signer, and the annex table with the
products' names in Vietnamese, the score with a decimal comma and the star in words; a draft
carries "DỰ THẢO" on every page and a signed decision nowhere."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT

from ocop_workflow.exports.decision_docx import DecisionDoc, DecisionEntry, build_decision_docx, decision_filename

ENTRIES = [
    DecisionEntry(
        "Vải thiều Lục Ngạn sấy khô", "Hợp tác xã Nông sản Phượng Sơn", "Xã Phượng Sơn", "Thực phẩm", 85.5, 4
    ),
    DecisionEntry("Gà đồi Yên Thế", "Công ty TNHH Gà đồi Yên Thế", "Xã Đồng Kỳ", "Thực phẩm", 72.25, 3),
    DecisionEntry("Rượu làng Vân", "Hộ kinh doanh Nguyễn Thị Hương", "Xã Vân Hà", "Đồ uống", None, 3),
]
BASIS = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025",
    "Căn cứ Quyết định số 148/QĐ-TTg ngày 24/02/2023 của Thủ tướng Chính phủ ban hành Bộ tiêu chí và quy trình "
    "đánh giá, phân hạng sản phẩm Chương trình Mỗi xã một sản phẩm",
    "Căn cứ Biên bản họp Hội đồng đánh giá, phân hạng sản phẩm OCOP tỉnh Bắc Giang ngày 20/01/2026",
]
SIGNED = DecisionDoc(
    issuing_body="ỦY BAN NHÂN DÂN TỈNH BẮC GIANG",
    place="Bắc Giang",
    number="1234/QĐ-UBND",
    signed_on=date(2026, 2, 5),
    title="Về việc công nhận sản phẩm đạt chuẩn OCOP năm 2026 (đợt 1)",
    legal_basis=BASIS,
    council_name="Hội đồng đánh giá, phân hạng sản phẩm OCOP tỉnh Bắc Giang",
    round_name="Đợt 1/2026",
    certificate_months=36,
    signer_name="Nguyễn Văn Gấu",
    signer_title="Chủ tịch",
    entries=ENTRIES,
)
DRAFT = replace(SIGNED, number=None, signed_on=None, signer_name=None, signer_title=None)


def read(doc: DecisionDoc, locale: str = "vi"):
    return Document(io.BytesIO(build_decision_docx(doc, locale)))


def all_text(document) -> str:
    """Every paragraph, table cell and page header, as a reader sees them."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
    return "\n".join(parts)


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text.strip()]


def annex(document):
    return document.tables[-1]


def test_a_signed_decision_has_its_number_date_title_basis_articles_and_signer():
    document = read(SIGNED)
    texts = paragraphs(document)
    head = document.tables[0]
    assert head.cell(0, 0).text.splitlines() == ["ỦY BAN NHÂN DÂN TỈNH BẮC GIANG", "Số: 1234/QĐ-UBND"]
    assert head.cell(0, 1).text.splitlines() == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Bắc Giang, ngày 05 tháng 02 năm 2026",
    ]
    assert "QUYẾT ĐỊNH" in texts
    assert "Về việc công nhận sản phẩm đạt chuẩn OCOP năm 2026 (đợt 1)" in texts
    title_at = texts.index("Về việc công nhận sản phẩm đạt chuẩn OCOP năm 2026 (đợt 1)")
    assert texts[title_at + 1] == "ỦY BAN NHÂN DÂN TỈNH BẮC GIANG"
    # The "Căn cứ" lines in order, each closed with ";", then the council's results, then the articles.
    basis = [t for t in texts if t.startswith("Căn cứ")]
    assert basis == [line + ";" for line in BASIS]
    considering = next(t for t in texts if t.startswith("Xét"))
    assert "Hội đồng đánh giá, phân hạng sản phẩm OCOP tỉnh Bắc Giang" in considering
    assert "Đợt 1/2026" in considering and considering.endswith(".")
    assert texts.index(basis[-1]) < texts.index(considering) < texts.index("QUYẾT ĐỊNH:")
    article1 = next(t for t in texts if t.startswith("Điều 1."))
    assert "Công nhận 3 sản phẩm đạt chuẩn OCOP" in article1
    assert "1 sản phẩm 4 sao, 2 sản phẩm 3 sao" in article1
    assert "Phụ lục" in article1
    article2 = next(t for t in texts if t.startswith("Điều 2."))
    assert "có giá trị 36 tháng kể từ ngày ký" in article2
    assert any(t.startswith("Điều 3.") for t in texts)
    signer = document.tables[1].cell(0, 1).text
    assert signer.splitlines()[0] == "CHỦ TỊCH"
    assert signer.splitlines()[-1] == "Nguyễn Văn Gấu"
    assert "DỰ THẢO" not in all_text(document)
    assert "None" not in all_text(document)


def test_the_validity_follows_certificate_months():
    texts = paragraphs(read(replace(SIGNED, certificate_months=24)))
    assert "có giá trị 24 tháng kể từ ngày ký" in next(t for t in texts if t.startswith("Điều 2."))


def test_the_annex_lists_every_product_with_score_and_star():
    document = read(SIGNED)
    texts = paragraphs(document)
    assert "PHỤ LỤC: DANH SÁCH SẢN PHẨM ĐƯỢC CÔNG NHẬN" in texts
    assert "(Kèm theo Quyết định số 1234/QĐ-UBND ngày 05/02/2026)" in texts
    rows = [[cell.text for cell in row.cells] for row in annex(document).rows]
    assert rows[0] == ["STT", "Tên sản phẩm", "Nhóm sản phẩm", "Chủ thể", "Xã", "Điểm", "Hạng sao"]
    assert rows[1:] == [
        [
            "1",
            "Vải thiều Lục Ngạn sấy khô",
            "Thực phẩm",
            "Hợp tác xã Nông sản Phượng Sơn",
            "Xã Phượng Sơn",
            "85,50",
            "4 sao",
        ],
        ["2", "Gà đồi Yên Thế", "Thực phẩm", "Công ty TNHH Gà đồi Yên Thế", "Xã Đồng Kỳ", "72,25", "3 sao"],
        ["3", "Rượu làng Vân", "Đồ uống", "Hộ kinh doanh Nguyễn Thị Hương", "Xã Vân Hà", "—", "3 sao"],
    ]
    # The annex is its own landscape page after the signature.
    assert len(document.sections) == 2
    assert document.sections[1].orientation == WD_ORIENT.LANDSCAPE
    assert document.sections[1].page_width > document.sections[1].page_height


def test_a_draft_says_so_on_every_page_and_leaves_number_date_and_signer_blank():
    document = read(DRAFT)
    assert paragraphs(document)[0] == "DỰ THẢO"
    for section in document.sections:
        assert "DỰ THẢO" in [p.text for p in section.header.paragraphs]
    head = document.tables[0]
    assert head.cell(0, 0).text.splitlines()[1] == "Số: ....../QĐ-UBND"
    assert head.cell(0, 1).text.splitlines()[2] == "Bắc Giang, ngày ...... tháng ...... năm ......"
    assert "(Kèm theo Quyết định số ....../QĐ-UBND ngày ......)" in paragraphs(document)
    signer = document.tables[1].cell(0, 1).text
    assert "(chưa ký)" in signer and "Nguyễn Văn Gấu" not in signer
    assert "None" not in all_text(document)
    # The draft lists the same products.
    assert [row.cells[1].text for row in annex(document).rows[1:]] == [e.product_name for e in ENTRIES]


def test_a_draft_of_the_ministry_does_not_claim_a_peoples_committee_number():
    central = replace(DRAFT, issuing_body="BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG", place="Hà Nội")
    head = read(central).tables[0]
    number_line = head.cell(0, 0).text.splitlines()[1]
    assert number_line.startswith("Số: ......") and "UBND" not in number_line


def test_english_labels_with_the_same_data():
    document = read(SIGNED, "en")
    texts = paragraphs(document)
    text = all_text(document)
    head = document.tables[0]
    assert head.cell(0, 0).text.splitlines()[1] == "No.: 1234/QĐ-UBND"
    assert head.cell(0, 1).text.splitlines()[:2] == [
        "SOCIALIST REPUBLIC OF VIETNAM",
        "Independence - Freedom - Happiness",
    ]
    assert "DECISION" in texts and "DECIDES:" in texts
    assert "ANNEX: LIST OF RECOGNISED PRODUCTS" in texts
    assert any(t.startswith("Article 2.") and "valid for 36 months" in t for t in texts)
    rows = [[cell.text for cell in row.cells] for row in annex(document).rows]
    assert rows[0] == ["No.", "Product", "Product group", "Producer", "Commune", "Score", "Star"]
    assert rows[1][1] == "Vải thiều Lục Ngạn sấy khô"
    assert rows[1][5:] == ["85.50", "4 stars"]
    for vietnamese_label in ("QUYẾT ĐỊNH", "PHỤ LỤC", "Hạng sao", "Điều 1", "4 sao"):
        assert vietnamese_label not in text, vietnamese_label
    draft = all_text(read(DRAFT, "en"))
    assert "DRAFT" in draft and "DỰ THẢO" not in draft and "(not signed)" in draft


def test_one_product_reads_in_the_singular():
    texts = paragraphs(read(replace(SIGNED, entries=ENTRIES[:1]), "en"))
    assert any(t.startswith("Article 1. One product is recognised") for t in texts)


def test_a_hundred_products_build():
    entries = [
        DecisionEntry(
            f"Sản phẩm đặc sản số {n} Lục Ngạn",
            f"Hợp tác xã số {n}",
            "Xã Phượng Sơn",
            "Thực phẩm",
            70 + n / 10,
            3 + n % 3,
        )
        for n in range(1, 101)
    ]
    document = read(replace(SIGNED, entries=entries))
    rows = annex(document).rows
    assert len(rows) == 101
    assert [c.text for c in rows[100].cells] == [
        "100",
        "Sản phẩm đặc sản số 100 Lục Ngạn",
        "Thực phẩm",
        "Hợp tác xã số 100",
        "Xã Phượng Sơn",
        "80,00",
        "4 sao",
    ]
    assert "Công nhận 100 sản phẩm" in next(t for t in paragraphs(document) if t.startswith("Điều 1."))


def test_file_names_are_ascii():
    assert decision_filename(SIGNED) == "quyet-dinh-1234-QD-UBND.docx"
    draft = decision_filename(DRAFT)
    assert draft.isascii() and draft.startswith("du-thao-quyet-dinh-") and draft.endswith(".docx")
    assert "Ve-viec-cong-nhan" in draft
