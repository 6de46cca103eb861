"""SLA calendars: calendar days, or Vietnamese working days (weekends and public holidays skipped).

A definition chooses with `sla_calendar: calendar | working`. Both calendars answer the same
three questions, in "units" (days of their kind):

* `elapsed(since, now)`: how many units have passed since a product entered its state;
* `stalled_before(now, n)`: the exclusive bound on the entry time of products with
  `elapsed >= n`, so the sweep can ask the database `state_entered_at < bound` with an index
  instead of loading every product (`entered < stalled_before(now, n)` iff `elapsed(entered, now) >= n`);
* `due_at(since, n)`: the moment `elapsed` reaches n (shown in messages).

Calendar days are 24-hour periods from the moment of entry: a 30-day SLA runs out exactly
30 days later. Working days are read the way an administrative deadline "within N working
days" is: the deadline is the end of the N-th working day after the day of entry, in the
programme's time zone (Asia/Ho_Chi_Minh), so `elapsed` counts the working days strictly after
the day of entry and strictly before today. Holidays come from the `holidays` package
(Tết, Hùng Kings, 30/4, 1/5, National Day and the substitute days it knows about).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from ..i18n import Text

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
WEEKEND = (5, 6)  # Saturday, Sunday: the Vietnamese civil service works Monday to Friday
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def vn_holidays(year: int) -> frozenset[date]:
    """Vietnamese public holidays of one year (including the observed/substitute days)."""
    return frozenset(holidays.country_holidays("VN", years=year))


class CalendarDays:
    kind = "calendar"
    unit = Text("ngày", "days")

    def __init__(self, tz: ZoneInfo | str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def elapsed(self, since: datetime, now: datetime) -> float:
        return (now - since) / _ONE_DAY

    def stalled_before(self, now: datetime, n: int) -> datetime:
        return now - n * _ONE_DAY + timedelta(microseconds=1)

    def due_at(self, since: datetime, n: int) -> datetime:
        return since + n * _ONE_DAY


class WorkingDays:
    """Monday to Friday except Vietnamese public holidays, counted in local dates."""

    kind = "working"
    unit = Text("ngày làm việc", "working days")

    def __init__(self, tz: ZoneInfo | str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._base: date | None = None  # prefix[i] = working days in [base, base + i days)
        self._end: date | None = None
        self._prefix: list[int] = []

    def is_working(self, d: date) -> bool:
        return d.weekday() not in WEEKEND and d not in vn_holidays(d.year)

    def _ensure(self, lo: date, hi: date) -> None:
        if self._base is not None and self._base <= lo and hi < self._end:
            return
        first = min(lo.year, self._base.year if self._base else lo.year)
        last = max(hi.year, (self._end - _ONE_DAY).year if self._end else hi.year)
        base, end = date(first, 1, 1), date(last + 1, 1, 1)
        prefix = [0]
        d = base
        while d < end:
            prefix.append(prefix[-1] + self.is_working(d))
            d += _ONE_DAY
        self._base, self._end, self._prefix = base, end, prefix

    def count(self, after: date, upto: date) -> int:
        """Working days d with after < d <= upto."""
        if upto <= after:
            return 0
        self._ensure(after, upto)
        origin = self._base.toordinal()
        return self._prefix[upto.toordinal() - origin + 1] - self._prefix[after.toordinal() - origin + 1]

    def add(self, start: date, n: int) -> date:
        """The n-th working day after `start` (n >= 1)."""
        span = 2 * n + 31
        while True:
            self._ensure(start, start + timedelta(days=span))
            origin = self._base.toordinal()
            target = self._prefix[start.toordinal() - origin + 1] + n  # working days in [base, answer]
            i = bisect_left(self._prefix, target)
            if i < len(self._prefix):
                return date.fromordinal(origin + i - 1)
            span *= 2

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _midnight(self, d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=self.tz).astimezone(UTC)

    def elapsed(self, since: datetime, now: datetime) -> int:
        return self.count(self._local_date(since), self._local_date(now) - _ONE_DAY)

    def stalled_before(self, now: datetime, n: int) -> datetime:
        # elapsed >= n  iff  the entry day lies before w, the n-th working day counted back from yesterday
        if n < 1:
            raise ValueError("n must be at least 1")
        d = self._local_date(now) - _ONE_DAY
        found = 0
        while True:
            if self.is_working(d):
                found += 1
                if found >= n:
                    return self._midnight(d)
            d -= _ONE_DAY

    def due_at(self, since: datetime, n: int) -> datetime:
        return self._midnight(self.add(self._local_date(since), n) + _ONE_DAY)


def sla_calendar(kind: str, tz: ZoneInfo | str = DEFAULT_TZ) -> CalendarDays | WorkingDays:
    """The calendar a definition's `sla_calendar` names."""
    if kind == "working":
        return WorkingDays(tz)
    if kind == "calendar":
        return CalendarDays(tz)
    raise ValueError(f"unknown sla_calendar {kind!r}")
