"""Files a round produces for people outside the application: the minutes (DOCX), every score
sheet (XLSX), and the blank paper form a council scores on when it meets without the app.

Why files at all: Vietnamese offices edit and sign minutes in Word, and keep score tables in
Excel; the exports are what a council's secretary files and prints. Why here and not in `web`:
the web pages, the API and the CLI all offer the same downloads, and the core (this package)
never imports Flask. Every function takes what `services.rounds.round_view` answers, so what a
file shows is exactly what the caller may see (members' marks only once a product is closed).
"""

from __future__ import annotations

from .attach import attach_minutes, close_round_and_file_minutes, minutes_doc_type, minutes_filename
from .minutes import build_minutes
from .sheets import build_sheets_xlsx, read_sheet_xlsx, sheets_filename, template_filename, template_xlsx

__all__ = [
    "attach_minutes",
    "build_minutes",
    "build_sheets_xlsx",
    "close_round_and_file_minutes",
    "minutes_doc_type",
    "minutes_filename",
    "read_sheet_xlsx",
    "sheets_filename",
    "template_filename",
    "template_xlsx",
]
