"""SLA calendars: calendar days and Vietnamese working days (Tết, weekends), no database needed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocop_workflow.reminders.calendar import CalendarDays, WorkingDays, sla_calendar, vn_holidays
from ocop_workflow.reminders.sweep import add_months

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WORKING = WorkingDays(VN)
CALENDAR = CalendarDays(VN)


def test_tet_2026_and_weekends_are_not_working_days():
    assert date(2026, 2, 17) in vn_holidays(2026)  # Mùng 1 Tết Bính Ngọ
    tet_week = [date(2026, 2, 14) + timedelta(days=i) for i in range(9)]  # Sat 14 – Sun 22 February
    assert [WORKING.is_working(d) for d in tet_week] == [False] * 9
    assert WORKING.is_working(date(2026, 2, 13)) and WORKING.is_working(date(2026, 2, 23))
    assert not WORKING.is_working(date(2026, 9, 2))  # National Day
    assert WORKING.count(date(2026, 2, 13), date(2026, 2, 22)) == 0
    assert WORKING.count(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert WORKING.add(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert WORKING.add(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert WORKING.add(date(2026, 2, 13), 30) == date(2026, 4, 3)


def test_a_working_day_deadline_is_the_end_of_the_nth_working_day():
    entered = datetime(2026, 2, 13, 16, 30, tzinfo=VN)  # Friday afternoon before Tết
    assert WORKING.due_at(entered, 1) == datetime(2026, 2, 24, 0, 0, tzinfo=VN)
    assert WORKING.elapsed(entered, datetime(2026, 2, 23, 23, 59, tzinfo=VN)) == 0
    assert WORKING.elapsed(entered, datetime(2026, 2, 24, 0, 0, tzinfo=VN)) == 1
    # stalled_before is the exclusive bound on entry times the database is asked for
    assert WORKING.stalled_before(datetime(2026, 2, 24, 8, 0, tzinfo=VN), 1) == datetime(2026, 2, 23, tzinfo=VN)
    assert WORKING.stalled_before(datetime(2026, 2, 23, 8, 0, tzinfo=VN), 1) == datetime(2026, 2, 13, tzinfo=VN)
    with pytest.raises(ValueError):
        WORKING.stalled_before(datetime(2026, 2, 23, tzinfo=VN), 0)


def test_calendar_days_count_from_the_moment_of_entry():
    entered = datetime(2026, 2, 13, 16, 30, tzinfo=VN)
    assert CALENDAR.due_at(entered, 30) == entered + timedelta(days=30)
    assert CALENDAR.elapsed(entered, entered + timedelta(days=30)) == 30
    assert entered < CALENDAR.stalled_before(entered + timedelta(days=30), 30)
    assert not entered < CALENDAR.stalled_before(entered + timedelta(days=30, microseconds=-1), 30)
    assert sla_calendar("working").kind == "working" and sla_calendar("calendar").kind == "calendar"
    with pytest.raises(ValueError):
        sla_calendar("lunar")


moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(
    entered=moments,
    after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    n=st.integers(min_value=1, max_value=200),
    working=st.booleans(),
)
def test_the_database_cutoff_agrees_with_elapsed_and_due_at(entered, after, n, working):
    """`entered < stalled_before(now, n)` exactly when `elapsed(entered, now) >= n`, exactly when
    `now >= due_at(entered, n)`: the indexed query finds precisely the stalled products."""
    cal = WORKING if working else CALENDAR
    now = entered + after
    stalled = cal.elapsed(entered, now) >= n
    assert (entered < cal.stalled_before(now, n)) == stalled
    assert (now >= cal.due_at(entered, n)) == stalled


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)), n=st.integers(min_value=1, max_value=300)
)
def test_add_is_the_nth_working_day(start, n):
    end = WORKING.add(start, n)
    assert WORKING.is_working(end)
    assert WORKING.count(start, end) == n and WORKING.count(start, end - timedelta(days=1)) == n - 1


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 3, 2), 36) == date(2029, 3, 2)
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), -36) == date(2023, 3, 15)
