"""What the minutes and the score tables share: names of people, numbers and stars as a reader
of each language writes them (Vietnamese: decimal comma, 85,50)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from ..formats import format_number
from ..i18n import Text
from ..models import Council, ScoreSheet
from ..services.rounds import OUTCOME_LABELS, EntryView, RoundView, stored_left_reason


def number(value: float | None, locale: str = "vi", decimals: int = 2) -> str:
    """85.5 → "85,50" in Vietnamese, "85.50" in English; None → "—" (formats.format_number: the same
    symbols as the pages, grouping included)."""
    return format_number(value, "en" if locale == "en" else "vi", decimals)


def day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value is not None else "—"


def stars(star: int | None, locale: str = "vi") -> str:
    if star is None:
        return "—"
    if locale == "en":
        return f"{star} star" if star == 1 else f"{star} stars"
    return f"{star} sao"


def people(view: RoundView) -> dict[int, str]:
    """user id → name, for everyone the round names (its members, and whoever filled a sheet)."""
    names = {m.user_id: m.user.name for m in view.council.members}
    for ev in view.entries:
        for sheet in ev.entry.sheets:
            if sheet.user is not None:
                names.setdefault(sheet.user_id, sheet.user.name)
    return names


def positions(council: Council, policy) -> dict[int, Text]:
    labels = policy.council.positions
    return {m.user_id: labels[m.position] for m in council.members if m.position in labels}


def seat_holders(council: Council, position: str) -> list[str]:
    return [m.user.name for m in council.members if m.position == position]


def outcome_text(ev: EntryView) -> Text:
    """What became of a product in the round: its outcome once closed, else why it is not."""
    entry = ev.entry
    if entry.status == "closed" and entry.outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[entry.outcome]
    if entry.status == "left" or ev.left is not None:
        why = ev.left or stored_left_reason(entry) or Text("", "")
        return Text(f"Rời đợt: {why.vi}", f"Left the round: {why.en}")
    return Text("Chưa kết thúc chấm điểm", "Still being scored")


def recusals(ev: EntryView) -> list[ScoreSheet]:
    return [s for s in ev.entry.sheets if s.status == "recused"]


def safe_name(text: str, fallback: str = "dot-danh-gia") -> str:
    """An ASCII file name part from a Vietnamese title ("Đợt 1/2026" → "Dot-1-2026")."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = folded.encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", ascii_only).strip("-")
    return cleaned[:60] or fallback
