"""Paragraphs and cells the DOCX documents share (the round's minutes, the recognition decision): the
centred lines of an official heading and the header cells of the Decree 30 layout."""

from __future__ import annotations

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt


def centered(doc, text: str, *, bold: bool = False, size: int | None = None, italic: bool = False):
    """A centred paragraph of one run (titles, the motto)."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    return p


def fill_cell(cell, lines: list[tuple[str, bool, bool]], align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    """Fill a table cell with (text, bold, italic) lines, one paragraph each."""
    cell.text = ""
    first = cell.paragraphs[0]
    for i, (text, bold, italic) in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        p.alignment = align
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
