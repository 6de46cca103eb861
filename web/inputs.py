"""Hostile or broken input is answered with a 4xx before it can reach the database.

Three rules, applied to every route of the web and the API:

- Ids in URLs go through `IdConverter`, registered in place of Flask's `int`: anything outside
  1 .. 2**31 - 1 (the range of an INTEGER column on PostgreSQL; SQLite would overflow at 2**63)
  does not match the route, so it is a 404 on both databases, like any unknown id.
- Numbers read from the query string (`int_arg`) are treated as absent when they are not a
  whole number in that same range; numbers read from hidden form fields (`hidden_int`) that are
  malformed mean the form was tampered with or is stale, answered 400 with the stale-form text.
- No form field, query argument (names included) may hold a control character (NUL and the
  like; tab and line breaks are allowed in form fields, which may be multi-line): 422 with a
  translated message, from one `before_request` hook. The services refuse the same characters
  (`ocop_workflow.validation`), so the CLI is covered as well.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from ocop_workflow.validation import MAX_ID, control_error, has_control


def range_regex(maximum: int) -> str:
    """A regular expression for the decimal numbers 1 .. `maximum` (no sign, no leading zero)."""
    digits = str(maximum)
    width = len(digits)
    parts = [rf"[1-9]\d{{0,{width - 2}}}"] if width > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = width - i - 1
            parts.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` limited to 1 .. 2**31 - 1 by its pattern.

    Out-of-range values do not match the rule, and the routing goes on to the next rule (the API's
    catch-all answers a problem): a converter that refused the value after matching would stop
    the routing there, with a 405 when another method's rule has the same path.
    """

    regex = range_regex(MAX_ID)


class StaleForm(BadRequest):
    """A hidden field the app wrote holds something it never writes: a tampered or stale form (400)."""


def parse_id(raw: object) -> int | None:
    """`raw` as an id (1 .. MAX_ID), or None when it is anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw or "").strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            return None
        value = int(text)
    return value if 1 <= value <= MAX_ID else None


def int_arg(name: str, default: int | None = None) -> int | None:
    """A query-string number in 1 .. MAX_ID; missing or malformed counts as absent (`default`)."""
    value = parse_id(request.args.get(name))
    return default if value is None else value


def hidden_int(raw: object) -> int | None:
    """A number from a hidden field: None when empty, StaleForm (400) when malformed or out of range."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = parse_id(raw)
    if value is None:
        raise StaleForm()
    return value


def _refuse_control_characters() -> None:
    for key, value in request.args.items(multi=True):
        if has_control(key or "") or has_control(value or ""):
            raise control_error()
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.mimetype.startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        return
    for key, value in request.form.items(multi=True):  # a malformed part header may leave a key None
        if has_control(key or "") or has_control(value or "", multiline=True):
            raise control_error()
    for key in request.files:
        if has_control(key or ""):
            raise control_error()


def register_input_checks(app: Flask) -> None:
    """Install the id converter (before any blueprint adds its rules) and the control-character check."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_control_characters)


__all__ = [
    "MAX_ID",
    "IdConverter",
    "StaleForm",
    "hidden_int",
    "int_arg",
    "parse_id",
    "range_regex",
    "register_input_checks",
]
