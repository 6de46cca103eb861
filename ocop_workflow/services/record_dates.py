"""The days of the programme's records (issue #12), checked one way for a product's records
(`product_records`: supports, listings) and a unit's (`programme`: area links, chains, sales points,
trainings): a record tells what has happened, so its days are not in the future, an end never comes
before its start, and a record ends once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidData
from ..i18n import Text


def past_day(value: object, label: Text, field: str, today: date, *, required: bool = True) -> date | None:
    """A day that records the past: a date (not a datetime), not after `today`; None when absent and not
    `required`."""
    if value is None:
        if required:
            raise InvalidData(Text(f"Cần nhập «{label.vi}»", f"“{label.en}” is required"), field=field)
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidData(Text(f"«{label.vi}» phải là một ngày", f"“{label.en}” must be a date"), field=field)
    if value > today:
        raise InvalidData(
            Text(
                f"«{label.vi}» ({value:%d/%m/%Y}) chưa đến: chỉ ghi nhận việc đã xảy ra (hôm nay {today:%d/%m/%Y})",
                f"“{label.en}” ({value:%d/%m/%Y}) is in the future: record what has happened (today is "
                f"{today:%d/%m/%Y})",
            ),
            field=field,
        )
    return value


def not_before(value: date | None, start: date, label: Text, start_label: Text, field: str) -> None:
    """`value` (an end) is not before `start`."""
    if value is not None and value < start:
        raise InvalidData(
            Text(
                f"«{label.vi}» ({value:%d/%m/%Y}) phải từ «{start_label.vi}» ({start:%d/%m/%Y}) trở đi",
                f"“{label.en}” ({value:%d/%m/%Y}) cannot come before “{start_label.en}” ({start:%d/%m/%Y})",
            ),
            field=field,
        )


def end_once(
    session: Session,
    record: object,
    *,
    start: str,
    end: str,
    day: date | None,
    today: date,
    labels: tuple[Text, Text],
    already: Callable[[date], Text],
) -> date:
    """Close a dated record on `day` (default today): once (a second close is a Conflict saying when it
    closed), not before its `start`, not in the future. `labels`: the end's and the start's names."""
    ended = getattr(record, end)
    if ended is not None:
        raise Conflict(already(ended), field=end)
    end_label, start_label = labels
    closed = past_day(day if day is not None else today, end_label, end, today)
    not_before(closed, getattr(record, start), end_label, start_label, end)
    setattr(record, end, closed)
    session.flush()
    return closed
