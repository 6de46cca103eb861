"""The days a target looks at, and the programme's day of a moment.

A target for year Y looks at 1 January Y – 31 December Y, a target of the whole period at 1 January of
the plan's first year – 31 December of its last; both are cut at the report's as-of day, so a report
as of 30/06/2024 sees the first half of 2024 (reports/indicators.py). The history stores moments in
UTC; the programme dates them in Vietnam's time (`services.certificates.local_day`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, cast, func

from ..services.certificates import VN_TZ
from .model import Window


def year_window(year: int, at: date) -> Window:
    """1 January – 31 December of `year`, cut at `at`."""
    return cut(date(year, 1, 1), date(year, 12, 31), at)


def period_window(first_year: int, last_year: int, at: date) -> Window:
    """1 January of `first_year` – 31 December of `last_year`, cut at `at`."""
    return cut(date(first_year, 1, 1), date(last_year, 12, 31), at)


def cut(start: date, full_end: date, at: date) -> Window:
    """The window cut at `at`; a window that begins after `at` ends before it starts (nothing in it)."""
    return Window(start, min(full_end, at), full_end)


def started(window: Window) -> bool:
    return window.start <= window.end


def elapsed_share(window: Window) -> float:
    """The share of the window's days up to its (cut) end: 1 for a closed window, 0 before it starts."""
    if not started(window):
        return 0.0
    return ((window.end - window.start).days + 1) / ((window.full_end - window.start).days + 1)


def day_start_utc(day: date) -> datetime:
    """The first moment of `day` in Vietnam's time, in UTC: `at < day_start_utc(d + 1)` is "on or before d"."""
    return datetime.combine(day, time.min, VN_TZ).astimezone(UTC)


def end_of_day_utc(day: date) -> datetime:
    """The first moment after `day` (Vietnam's time), in UTC."""
    return day_start_utc(day + timedelta(days=1))


def local_date(moment: datetime) -> date:
    """The programme's day of a stored moment (UTC, or naive UTC from a raw SQLite read)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).date()


def local_date_sql(column, session):
    """SQL: the programme's day of a stored moment (Vietnam's time has kept UTC+7 since 1975, so SQLite, which
    stores naive UTC text, adds the offset; PostgreSQL converts with the zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(VN_TZ.key, column), Date)
    hours = int(datetime(2000, 1, 1, tzinfo=VN_TZ).utcoffset().total_seconds() // 3600)
    return func.date(column, f"{hours:+d} hours")
