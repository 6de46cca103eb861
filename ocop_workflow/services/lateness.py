"""Late work: how long a product has waited in its state, the last day of that state's time limit
(its SLA) and whether it is past it, for the product page, the lists and the inboxes.

The time limit is counted by the definition's `sla_calendar` through the reminders' own calendars
(`ocop_workflow.reminders.calendar`: working days skip weekends and Vietnamese public holidays), so a
list, the product page and the reminder sweep always agree on who is late. Two forms:

* `lateness(...)` for one product in Python: days waiting (calendar days since the local day it
  entered the state), the deadline (the last day, local date), days late or days left;
* SQL for lists of any size: `late_condition` (exactly the sweep's test `state_entered_at < bound`,
  one bound per state with a limit, given as parameters by `late_params`) and `deadline_order`, an
  ORDER BY key that sorts by the deadline's day, so "most overdue first" is one indexed-or-sorted
  query instead of loading every product. The key counts local days with the zone's offset of today
  on SQLite (exact for Asia/Ho_Chi_Minh, which has no daylight saving) and the zone itself on
  PostgreSQL. Under a working-day calendar it counts working days from the weekday arithmetic minus
  the public holidays of the last ten and next two years (a product that entered earlier than that
  only sorts as if those old holidays were working days: it is long overdue either way). When the
  definitions mix calendars the key is the working-day rank of the deadline's day, so a calendar-day
  deadline on a weekend sorts with the Friday before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from ..engine import Registry, WorkflowDefinition
from ..models import Product
from ..reminders.calendar import DEFAULT_TZ, CalendarDays, WorkingDays, sla_calendar, vn_holidays

NO_DEADLINE = 10**8  # the deadline key of a product whose state has no time limit: after every real one
_TICK = timedelta(microseconds=1)
HOLIDAY_YEARS_BACK, HOLIDAY_YEARS_AHEAD = 10, 2


@lru_cache(maxsize=16)
def calendar_for(kind: str, tz: str = DEFAULT_TZ) -> CalendarDays | WorkingDays:
    """One calendar per kind and zone (a working-day calendar keeps its table of days)."""
    return sla_calendar(kind, tz)


@dataclass(frozen=True, slots=True)
class Lateness:
    """Where a product stands against its state's time limit, on one day."""

    entered_on: date
    days_waiting: int  # calendar days since the local day it entered the state
    sla_days: int | None = None  # None: the state has no time limit (final states, open-ended ones)
    working: bool = False  # the limit counts working days
    deadline: date | None = None  # the last day of the limit
    late: bool = False  # past the limit (the reminder sweep's test)
    days_late: int = 0  # calendar days after the deadline (0: the limit ran out today)
    days_left: int | None = None  # calendar days until the deadline (0: today is the last day)


def lateness(
    definition: WorkflowDefinition, state: str, entered_at: datetime, now: datetime | None = None, tz: str = DEFAULT_TZ
) -> Lateness:
    """The product's standing against its state's time limit at `now` (the present by default)."""
    zone = ZoneInfo(tz)
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    entered_on = entered_at.astimezone(zone).date()
    waited = max(0, (today - entered_on).days)
    sdef = definition.states.get(state)
    n = sdef.sla_days if sdef is not None and not sdef.final else None
    if not n:
        return Lateness(entered_on, waited)
    due = calendar_for(definition.sla_calendar, tz).due_at(entered_at, n)
    last = (due - _TICK).astimezone(zone).date()
    late = now >= due
    return Lateness(
        entered_on,
        waited,
        n,
        definition.sla_calendar == "working",
        last,
        late,
        max(0, (today - last).days) if late else 0,
        None if late else max(0, (last - today).days),
    )


# --- SQL -------------------------------------------------------------------------------------
def _limits(registry: Registry) -> list[tuple[str, int, str, int, str]]:
    """(workflow, version, state, sla_days, calendar) of every state with a time limit, in a fixed order."""
    out = []
    for (key, version), d in sorted(registry.definitions.items()):
        for skey, sdef in d.states.items():
            if sdef.sla_days and not sdef.final:
                out.append((key, version, skey, sdef.sla_days, d.sla_calendar))
    return out


def _in_state(key: str, version: int, state: str) -> ColumnElement:
    return and_(Product.workflow_key == key, Product.workflow_version == version, Product.state == state)


def late_condition(registry: Registry) -> ColumnElement:
    """SQL on Product: it is past its state's time limit. Its parameters ("late0", "late1" …, the
    bounds on the entry time) come from `late_params`, so the statement is built once."""
    limits = _limits(registry)
    if not limits:
        return false()
    return or_(
        *[
            and_(_in_state(k, v, s), Product.state_entered_at < bindparam(f"late{i}"))
            for i, (k, v, s, _n, _kind) in enumerate(limits)
        ]
    )


def late_params(registry: Registry, now: datetime | None = None, tz: str = DEFAULT_TZ) -> dict[str, datetime]:
    """The values of `late_condition`'s parameters at `now`: the reminder sweep's own bounds."""
    now = now or datetime.now(UTC)
    return {
        f"late{i}": calendar_for(kind, tz).stalled_before(now, n)
        for i, (_k, _v, _s, n, kind) in enumerate(_limits(registry))
    }


def _local_ordinal(dialect: str, tz: str, offset: int) -> ColumnElement:
    """The local date the product entered its state, as `date.toordinal()` (days since 1 Jan of year 1)."""
    col = Product.state_entered_at
    if dialect == "postgresql":
        day = cast(func.timezone(literal(tz), col), Date)
        return cast(day - cast(literal("0001-01-01"), Date), Integer) + 1
    # SQLite keeps the UTC moment as text: date() shifts it, julianday() of a date is exact (x.5)
    jd = func.julianday(func.date(col, literal(f"{offset:+d} seconds")))
    return cast(jd + 0.5, Integer) - 1721425


def _weekdays_upto(x: ColumnElement) -> ColumnElement:
    """Monday-to-Friday days in [1, x] (ordinal 1 is a Monday)."""
    t = x - 1
    return 5 * (t // 7) + case((t % 7 >= 4, 5), else_=t % 7 + 1)


def _working_rank(x: ColumnElement, holidays: list[int]) -> ColumnElement:
    """Working days in [1, x]: weekdays minus the weekday holidays up to x."""
    if not holidays:
        return _weekdays_upto(x)
    # a small inline table of day numbers (SELECT … UNION ALL …: both databases read it; SQLite has no
    # column names on a VALUES list)
    hol = union_all(*[select(literal_column(str(int(h)), Integer).label("d")) for h in holidays]).subquery("hol")
    before = select(func.count()).select_from(hol).where(hol.c.d <= x).scalar_subquery()
    return _weekdays_upto(x) - before


def _weekday_holidays(today: date) -> list[int]:
    out = []
    for year in range(today.year - HOLIDAY_YEARS_BACK, today.year + HOLIDAY_YEARS_AHEAD + 1):
        out.extend(d.toordinal() for d in vn_holidays(year) if d.weekday() < 5)
    return sorted(out)


def deadline_order(registry: Registry, dialect: str, tz: str = DEFAULT_TZ, now: datetime | None = None) -> tuple:
    """ORDER BY terms: the earliest deadline first (so the most overdue come first), products without
    a time limit last, then the longest waiting. Built per registry, database, zone and year; cached."""
    now = now or datetime.now(UTC)
    offset = int(now.astimezone(ZoneInfo(tz)).utcoffset().total_seconds())
    year = now.astimezone(ZoneInfo(tz)).year
    return _deadline_order(registry, dialect, tz, offset if dialect != "postgresql" else 0, year)


_ORDER_CACHE: dict[tuple, tuple] = {}


def _deadline_order(registry: Registry, dialect: str, tz: str, offset: int, year: int) -> tuple:
    key = (id(registry), dialect, tz, offset, year)
    hit = _ORDER_CACHE.get(key)
    if hit is not None and hit[0] is registry:
        return hit[1]
    limits = _limits(registry)
    entered = _local_ordinal(dialect, tz, offset)
    if not limits:
        terms = (Product.state_entered_at.asc(), Product.id.asc())
    else:
        n = case(*[(_in_state(k, v, s), n) for k, v, s, n, _kind in limits], else_=None)
        if all(kind == "calendar" for *_x, kind in limits):
            key_expr = entered + n
        else:
            holidays = _weekday_holidays(date(year, 7, 1))
            working = or_(
                *[
                    and_(Product.workflow_key == k, Product.workflow_version == v)
                    for (k, v), d in sorted(registry.definitions.items())
                    if d.sla_calendar == "working"
                ]
            )
            key_expr = case(
                (working, _working_rank(entered, holidays) + n),
                else_=_working_rank(entered + n, holidays),
            )
        terms = (func.coalesce(key_expr, NO_DEADLINE).asc(), Product.state_entered_at.asc(), Product.id.asc())
    if len(_ORDER_CACHE) > 64:
        _ORDER_CACHE.clear()
    _ORDER_CACHE[key] = (registry, terms)
    return terms


__all__ = [
    "NO_DEADLINE",
    "Lateness",
    "calendar_for",
    "deadline_order",
    "late_condition",
    "late_params",
    "lateness",
]
