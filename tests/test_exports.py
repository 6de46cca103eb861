"""The round's files read back as a person would open them: the minutes in Word (python-docx), the
score tables in Excel (openpyxl), the paper form typed in again; and the minutes filed in each
closed product's dossier when the round closes."""

from __future__ import annotations

import io

import pytest
from docx import Document as Docx
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from ocop_workflow.errors import InvalidData
from ocop_workflow.exports import (
    build_minutes,
    build_sheets_xlsx,
    close_round_and_file_minutes,
    read_sheet_xlsx,
    template_xlsx,
)
from ocop_workflow.models import Document, RoundProduct
from ocop_workflow.services import rounds
from ocop_workflow.services.access import load_actor

from .rounds_setup import (
    CHAIR,
    MEMBER1,
    MEMBER2,
    SECRETARY,
    make_council,
    make_round,
    recuse,
    score,
    to_district_review,
)


def docx_text(data: bytes) -> str:
    doc = Docx(io.BytesIO(data))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append(" | ".join(c.text for c in row.cells))
    return "\n".join(lines)


def docx_rows(data: bytes) -> list[list[str]]:
    """The results table (the one whose first heading is STT / No.)."""
    doc = Docx(io.BytesIO(data))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text in ("STT", "No."))
    return [[c.text for c in row.cells] for row in table.rows[1:]]


@pytest.fixture
def closed_round(db, registry, world, upload_dir):
    """Two products of C1 through a district round: one forwarded (85,50), one recognised 3★ (62,33)."""
    lychee = to_district_review(db, registry, world, upload_dir, name="Vải thiều Lục Ngạn")
    noodles = to_district_review(db, registry, world, upload_dir, name="Mỳ Chũ", kind="household")
    sec = world.user("district_secretariat", "D1")
    council = make_council(db, registry, sec, world.orgs["D1"])
    round_id = make_round(db, registry, sec, council, [lychee, noodles])
    score(db, registry, CHAIR, round_id, lychee, 90)
    score(db, registry, MEMBER1, round_id, lychee, 81)
    recuse(db, registry, MEMBER2, round_id, lychee, "Người nhà của chủ thể")
    for email, total in ((CHAIR, 60), (MEMBER1, 65), (MEMBER2, 62)):
        score(db, registry, email, round_id, noodles, total)
    with db.transaction() as s:
        who = load_actor(s, SECRETARY, policy=registry.policy)
        rounds.close_product(s, registry, who, round_id, lychee)
        rounds.close_product(s, registry, who, round_id, noodles)
        close_round_and_file_minutes(s, registry, who, round_id, upload_dir=upload_dir, max_bytes=5 * 1024 * 1024)
    return round_id, lychee, noodles


def view_of(db, registry, round_id):
    s = db.session()
    return s, rounds.round_view(s, registry, load_actor(s, SECRETARY, policy=registry.policy), round_id)


def test_minutes_name_the_council_the_members_and_each_result(db, registry, closed_round):
    round_id, lychee, noodles = closed_round
    s, view = view_of(db, registry, round_id)
    with s:
        data = build_minutes(view, registry)
        english = build_minutes(view, registry, "en")
        outcomes = {e.product.id: (e.entry.outcome, e.entry.star) for e in view.entries}
    assert outcomes[lychee][0] == "forwarded" and outcomes[noodles] == ("recognised", 3)
    text = docx_text(data)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BIÊN BẢN HỌP HỘI ĐỒNG",
        "Hội đồng đánh giá, phân hạng sản phẩm OCOP huyện Lục Ngạn",
        "Quyết định số 123/QĐ-UBND ngày 05/01/2026",
        "ngày 10/03/2026",
        "Đợt 1 năm 2026",
        "Lê Văn Cường (Người nhà của chủ thể)",  # recused on the lychee, with the reason
        "Chấm điểm: Nguyễn Văn Chủ, Trần Thị Bình",
        "CHỦ TỊCH HỘI ĐỒNG",
        "THƯ KÝ",
        "Phạm Thị Thư",  # the secretary signs
    ):
        assert expected in text, expected
    rows = {r[1]: r for r in docx_rows(data)}
    forwarded = rows["Vải thiều Lục Ngạn"]
    assert forwarded[2] == "Chủ thể cooperative"
    assert forwarded[3:5] == ["2", "85,50"]
    assert forwarded[6] == "Đề nghị cấp trên"
    recognised = rows["Mỳ Chũ"]
    assert recognised[2] == "Chủ thể household"
    assert recognised[3:7] == ["3", "62,33", "3 sao", "Công nhận ở cấp này"]
    english_rows = docx_rows(english)
    assert any(r[4] == "85.50" and r[6] == "Forwarded to the next level" for r in english_rows)
    assert any(r[5] == "3 stars" and r[6] == "Recognised at this level" for r in english_rows)
    assert "SOCIALIST REPUBLIC OF VIETNAM" in docx_text(english)


def test_closing_the_round_files_the_minutes_in_each_dossier(db, registry, closed_round):
    round_id, lychee, noodles = closed_round
    with db.session() as s:
        for pid in (lychee, noodles):
            doc = s.scalars(
                select(Document).where(
                    Document.product_id == pid, Document.doc_type == "council_minutes", Document.current.is_(True)
                )
            ).one()
            assert doc.original_name == "Bien-ban-Dot-1-nam-2026.docx"
            assert doc.content_type.endswith("wordprocessingml.document")
        assert {e.status for e in s.scalars(select(RoundProduct).where(RoundProduct.round_id == round_id))} == {
            "closed"
        }


def test_sheets_xlsx_has_a_row_per_member_and_product_and_the_averages(db, registry, closed_round):
    round_id, lychee, noodles = closed_round
    s, view = view_of(db, registry, round_id)
    with s:
        data = build_sheets_xlsx(view, registry)
    wb = load_workbook(io.BytesIO(data))
    summary = wb.worksheets[0]
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows[lychee][1] == "Vải thiều Lục Ngạn" and rows[lychee][5] == 85.5
    assert rows[lychee][7] == "Đề nghị cấp trên"
    assert (rows[noodles][4], rows[noodles][5], rows[noodles][6]) == (3, 62.33, "3 sao")
    sheet = wb["food"]
    heading = [c.value for c in sheet[1]]
    assert heading[4:7] == ["A", "B", "C"] and heading[-2:] == ["Tổng điểm", "Trạng thái"]
    body = [r for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(body) == 2 * 3  # three scoring members × two products (the secretary does not score)
    by = {(r[0], r[3]): r for r in body}
    assert by[(lychee, CHAIR)][4:7] == (40, 25, 25) and by[(lychee, CHAIR)][-2:] == (90, "Đã nộp")
    assert by[(lychee, MEMBER1)][-2] == 81
    assert by[(lychee, MEMBER2)][-2:] == (None, "Không chấm (xung đột lợi ích)")
    assert by[(noodles, MEMBER2)][2] == "Lê Văn Cường" and by[(noodles, MEMBER2)][-2] == 62


def test_marks_stay_out_of_the_file_until_a_product_is_closed(db, registry, world, upload_dir):
    pid = to_district_review(db, registry, world, upload_dir, name="Gà đồi")
    sec = world.user("district_secretariat", "D1")
    round_id = make_round(db, registry, sec, make_council(db, registry, sec, world.orgs["D1"]), [pid])
    score(db, registry, CHAIR, round_id, pid, 88)
    s, view = view_of(db, registry, round_id)
    with s:
        data = build_sheets_xlsx(view, registry)
        minutes = docx_text(build_minutes(view, registry))
    rows = list(load_workbook(io.BytesIO(data))["food"].iter_rows(min_row=2, values_only=True))
    chair = next(r for r in rows if r[3] == CHAIR)
    assert chair[4:8] == (None, None, None, None) and chair[-1] == "Đã nộp"
    assert "88" not in minutes and "Chưa kết thúc chấm điểm" in minutes


def test_the_paper_form_reads_back_with_decimal_commas_and_per_member_columns(registry):
    sheet = registry.criteria.sheet_for("ocop-148", "food", None, kind="council")
    wb = load_workbook(io.BytesIO(template_xlsx(sheet)))
    ws = wb.active
    head = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "Mã")
    codes = [ws.cell(row=r, column=1).value for r in range(head + 1, ws.max_row + 1)]
    assert codes == [c.code for c in sheet.criteria]
    ws.cell(row=head + 1, column=6).value = "35,5"
    ws.cell(row=head + 2, column=6).value = 20
    ws.cell(row=head, column=7).value = "uyvien1@hd.test.vn"
    ws.cell(row=head + 1, column=7).value = 30.25
    out = io.BytesIO()
    wb.save(out)
    assert read_sheet_xlsx(out.getvalue(), sheet) == {
        "Điểm": {"A": 35.5, "B": 20.0},
        "uyvien1@hd.test.vn": {"A": 30.25},
    }


def _workbook(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "vi", "en"),
    [
        (b"", "Tệp trống", "The file is empty"),
        (b"%PDF-1.4 not a workbook", "không phải là bảng tính Excel", "not an Excel workbook"),
        (b"PK\x03\x04broken zip", "không phải là bảng tính Excel", "not an Excel workbook"),
        (_workbook([["x", "y"]]), "Không thấy dòng tiêu đề", "No heading row"),
        (_workbook([["Mã", "Điểm"], ["Z9", 3]]), "Ô A2: mã tiêu chí «Z9»", "Cell A2: there is no criterion “Z9”"),
        (_workbook([["Mã", "Điểm"], ["A", "ba mươi"]]), "Ô B2: «ba mươi»", "Cell B2: “ba mươi”"),
        (_workbook([["Mã", "Điểm"], ["A", 3], ["A", 4]]), "tiêu chí A ghi hai lần", "criterion A appears twice"),
    ],
)
def test_a_bad_form_is_refused_with_a_clear_message(registry, content, vi, en):
    sheet = registry.criteria.sheet_for("ocop-148", "food", None, kind="council")
    with pytest.raises(InvalidData) as refused:
        read_sheet_xlsx(content, sheet)
    assert vi in refused.value.message("vi") and en in refused.value.message("en")
