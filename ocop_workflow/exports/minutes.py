"""The round's minutes (biên bản họp Hội đồng đánh giá, phân hạng sản phẩm OCOP) as a DOCX.

The layout follows the administrative document form of Decree 30/2020/NĐ-CP that offices use for
minutes: the issuing body on the left and the national motto on the right, the title, the
council and its establishment decision, the meeting date, who sat and who recused per product,
the results table, and the signature blocks of the secretary and the chair. It is a starting
point the secretary edits in Word before signing, so it is plain paragraphs and tables, no
fields or macros. The numbers are the ones the application recorded when each product was
closed (average rounded half-up to two decimals, `services.rounds.average_of`).
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Pt

from ..engine import Registry
from ..i18n import Text
from ..services.rounds import RoundView
from .common import day, number, outcome_text, people, positions, recusals, seat_holders, stars
from .docx_parts import centered, fill_cell

MOTTO = (
    Text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIETNAM"),
    Text("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
)
T = {
    "title": Text("BIÊN BẢN HỌP HỘI ĐỒNG", "MINUTES OF THE COUNCIL MEETING"),
    "subtitle": Text("Đánh giá, phân hạng sản phẩm OCOP", "Evaluation and ranking of OCOP products"),
    "council": Text("Hội đồng", "Council"),
    "decision": Text("thành lập theo Quyết định số {n} ngày {d}", "set up by Decision No. {n} of {d}"),
    "meeting": Text("Thời gian họp: ngày {d}", "Meeting date: {d}"),
    "round": Text("Đợt đánh giá: {name}", "Evaluation round: {name}"),
    "members": Text("I. Thành phần Hội đồng", "I. Members of the council"),
    "scored": Text("tham gia chấm điểm", "scored"),
    "not_scored": Text("không chấm sản phẩm nào", "scored no product"),
    "results": Text("II. Kết quả đánh giá, phân hạng", "II. Results of the evaluation and ranking"),
    "rule": Text(
        "Điểm của sản phẩm là trung bình cộng tổng điểm các phiếu đánh giá hợp lệ (đã nộp) của thành viên Hội "
        "đồng, làm tròn đến hai chữ số thập phân (từ 5 trở lên làm tròn lên); phiếu của thành viên không chấm "
        "vì xung đột lợi ích và phiếu chưa nộp không được tính.",
        "A product's score is the mean of the totals of the members' valid (submitted) sheets, rounded half-up "
        "to two decimals; the sheets of members who recused for a conflict of interest and sheets not "
        "submitted do not count.",
    ),
    "cols": (
        Text("STT", "No."),
        Text("Sản phẩm", "Product"),
        Text("Chủ thể", "Producer"),
        Text("Số phiếu hợp lệ", "Valid sheets"),
        Text("Điểm trung bình", "Average"),
        Text("Hạng sao", "Star"),
        Text("Kết quả", "Outcome"),
    ),
    "attendance": Text("III. Thành viên chấm điểm và không chấm theo từng sản phẩm", "III. Who scored each product"),
    "present": Text("Chấm điểm", "Scored"),
    "recused": Text("Không chấm (xung đột lợi ích)", "Recused (conflict of interest)"),
    "none": Text("không có", "none"),
    "cap": Text(
        "hạng sao giới hạn ở {n} vì đa số phiếu không đạt tiêu chí bắt buộc",
        "star capped at {n}: most sheets failed a mandatory criterion",
    ),
    "closing": Text(
        "Biên bản được lập và thông qua tại cuộc họp; các thành viên thống nhất với nội dung trên.",
        "These minutes were drawn up and approved at the meeting; the members agree with their content.",
    ),
    "secretary": Text("THƯ KÝ", "SECRETARY"),
    "chair": Text("CHỦ TỊCH HỘI ĐỒNG", "CHAIR OF THE COUNCIL"),
    "sign": Text("(Ký, ghi rõ họ tên)", "(Signature and full name)"),
}


def _t(key: str, locale: str, **values: object) -> str:
    return T[key].get(locale).format(**values)


def _cell(cell, lines: list[tuple[str, bool]], italic_last: bool = False) -> None:
    """(text, bold) lines, the last one italic when `italic_last` (a signature's name)."""
    fill_cell(cell, [(text, bold, italic_last and i == len(lines) - 1) for i, (text, bold) in enumerate(lines)])


def build_minutes(view: RoundView, registry: Registry, locale: str = "vi") -> bytes:
    """The minutes of `view`'s round as DOCX bytes, in Vietnamese (default) or English."""
    found, council = view.round, view.council
    names = people(view)
    seats = positions(council, registry.policy)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell(head.cell(0, 0), [(council.organisation.name.upper(), False), (council.name.upper(), True)])
    _cell(head.cell(0, 1), [(MOTTO[0].get(locale), True), (MOTTO[1].get(locale), True)])

    doc.add_paragraph()
    centered(doc, _t("title", locale), bold=True, size=14)
    centered(doc, _t("subtitle", locale), bold=True)
    centered(doc, _t("round", locale, name=found.name), italic=True)

    doc.add_paragraph(
        f"{_t('council', locale)}: {council.name}, "
        + _t("decision", locale, n=council.decision_number, d=day(council.decision_date))
        + "."
    )
    doc.add_paragraph(_t("meeting", locale, d=day(found.meeting_date)) + ".")

    doc.add_paragraph().add_run(_t("members", locale)).bold = True
    scored_any = {uid for ev in view.entries for uid in (ev.entry.present or [])}
    for m in council.members:
        label = seats.get(m.user_id)
        role = label.get(locale) if label else m.position
        status = _t("scored", locale) if m.user_id in scored_any else _t("not_scored", locale)
        doc.add_paragraph(f"{m.user.name} — {role} ({status})", style="List Bullet")

    doc.add_paragraph().add_run(_t("results", locale)).bold = True
    doc.add_paragraph(_t("rule", locale))
    table = doc.add_table(rows=1, cols=len(T["cols"]))
    table.style = "Table Grid"
    for i, label in enumerate(T["cols"]):
        table.rows[0].cells[i].text = label.get(locale)
        for run in table.rows[0].cells[i].paragraphs[0].runs:
            run.bold = True
    for n, ev in enumerate(view.entries, start=1):
        entry, product = ev.entry, ev.product
        closed = entry.status == "closed"
        outcome = outcome_text(ev).get(locale)
        if closed and entry.star_cap is not None:
            outcome += "; " + _t("cap", locale, n=entry.star_cap)
        row = table.add_row().cells
        row[0].text = str(n)
        row[1].text = product.name
        row[2].text = product.producer.name
        row[3].text = str(len(entry.present or [])) if closed else "—"
        row[4].text = number(entry.average, locale) if closed else "—"
        row[5].text = stars(entry.star, locale) if closed else "—"
        row[6].text = outcome

    doc.add_paragraph()
    doc.add_paragraph().add_run(_t("attendance", locale)).bold = True
    none = _t("none", locale)
    for n, ev in enumerate(view.entries, start=1):
        entry = ev.entry
        doc.add_paragraph(f"{n}. {ev.product.name}")
        present = ", ".join(names.get(uid, f"#{uid}") for uid in entry.present or []) or none
        doc.add_paragraph(f"{_t('present', locale)}: {present}", style="List Bullet")
        out = [f"{names.get(s.user_id, f'#{s.user_id}')} ({s.recusal_reason})" for s in recusals(ev)]
        doc.add_paragraph(f"{_t('recused', locale)}: {', '.join(out) or none}", style="List Bullet")

    doc.add_paragraph(_t("closing", locale))
    doc.add_paragraph()
    signs = doc.add_table(rows=1, cols=2)
    signs.alignment = WD_TABLE_ALIGNMENT.CENTER
    for col, (key, position) in enumerate((("secretary", "secretary"), ("chair", "chair"))):
        holders = seat_holders(council, position)
        lines = [(_t(key, locale), True), (_t("sign", locale), False), ("", False), ("", False)]
        lines += [(name, True) for name in holders] or [("", False)]
        _cell(signs.cell(0, col), lines)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
