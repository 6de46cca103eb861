"""Checks of raw input shared by every caller of the core: control characters in free text.

PostgreSQL text cannot hold NUL at all (the driver refuses the whole statement, which used to
surface as a server error), and no person types the other control characters: they come from
broken clients, copy-paste accidents or probes, and would then sit in names, e-mails and
exports. The web and the API refuse them at the edge, before any view runs; the services refuse
them again with the same typed error so the CLI and any other caller are covered too.

Tab, line feed and carriage return are allowed only in multi-line text (comments).
"""

from __future__ import annotations

import re

from .errors import InvalidData
from .i18n import Text

MAX_ID = 2**31 - 1  # the largest id or version an INTEGER column holds on PostgreSQL

# C0 controls, DEL and C1 controls (Unicode category Cc)
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# the same without \t \n \r
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control(value: str, *, multiline: bool = False) -> bool:
    """Whether `value` holds a control character not allowed in (single- or multi-line) text."""
    return (_CONTROL_BUT_LINES if multiline else _ANY_CONTROL).search(value) is not None


def control_error(label: Text | str | None = None) -> InvalidData:
    """The typed error (422 on the web and the API) for text holding a control character."""
    if label is None:
        text = Text(
            "Dữ liệu gửi lên chứa ký tự điều khiển không hợp lệ (ví dụ NUL); hãy xoá ký tự đó rồi thử lại.",
            "The data sent contains a control character that is not allowed (such as NUL); remove it and try again.",
        )
    else:
        vi, en = (label.vi, label.en) if isinstance(label, Text) else (label, label)
        text = Text(
            f"«{vi}» chứa ký tự điều khiển không hợp lệ (ví dụ NUL); hãy xoá ký tự đó rồi thử lại.",
            f"“{en}” contains a control character that is not allowed (such as NUL); remove it and try again.",
        )
    return InvalidData(text, field=label.en if isinstance(label, Text) else label)


def check_text(value: str | None, label: Text, *, multiline: bool = False) -> None:
    """Raise InvalidData when `value` holds a control character (None passes)."""
    if value is not None and has_control(value, multiline=multiline):
        raise control_error(label)


def clean_line(value: object, label: Text, *, max_length: int, required: bool = True) -> str | None:
    """A single line of text, stripped: refused when missing (if required), too long or holding a
    control character. For names and numbers the core stores (council names, decision numbers)."""
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise InvalidData(Text(f"«{label.vi}» phải là chữ", f"“{label.en}” must be text"), field=label.en)
    if not text:
        if required:
            raise InvalidData(Text(f"Cần nhập «{label.vi}»", f"“{label.en}” is required"), field=label.en)
        return None
    check_text(text, label)
    if len(text) > max_length:
        raise InvalidData(
            Text(f"«{label.vi}» dài quá {max_length} ký tự", f"“{label.en}” is over {max_length} characters"),
            field=label.en,
        )
    return text


def valid_id(value: object) -> bool:
    """Whether `value` can be a row id (1 … MAX_ID, the int4 range both databases share): anything else
    is simply not found, never a database error."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


__all__ = ["MAX_ID", "check_text", "clean_line", "control_error", "has_control", "valid_id"]
