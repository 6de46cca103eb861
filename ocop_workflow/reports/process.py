"""Process figures (issue #12, item 3): for each stage of the cycle and each level, how long products
stayed there and how many finished within the state's time limit (its SLA), in one year, as of a day.

A *stay* is a product entering a state by one history row and leaving it by the product's next row that
moves it (an edit of the product's details, or a migration to a newer definition that keeps the state,
continues the stay, exactly as they keep `Product.state_entered_at`). A stay counts in the year, in Vietnam's
local days, it ENDED; its state's stage is the catalogue's `stages:` line and its level the state's level in
its definition. The time limit is the state's `sla_days` under the definition's `sla_calendar`, read the way
the product page and the reminder sweep read it (`services/lateness.py`, `reminders/calendar.py`), so the
three never disagree:

* finished within the limit: it left before the moment the limit ran out (`due_at`): for working days, on
  or before the N-th working day after the day it entered; for calendar days, less than N×24 h after entry;
* duration: working days after the day of entry up to and including the day it left (Monday to Friday
  without Vietnamese public holidays: a stay from Friday to Monday lasted 1 working day), whatever the
  definition's calendar, so every stage is compared in the same unit;
* open and late: a stay still open at the end of the as-of day whose limit had run out by then (the sweep's
  own test `state_entered_at < stalled_before(end of day, N)`). Final states have no limit (as on the
  product page): counts and medians only.

Reproducible: history rows after the as-of day are ignored, and rows are append-only, so the same day gives
the same figures tomorrow. Fast: one query streams (product, seq, state, trigger, definition, time) for the
products of the area in history order (`yield_per`); durations use a precomputed working-day index (a list
by day number of working-day ranks, extended when a day falls outside it), so each stay costs O(1); the open
stays are tested against one precomputed bound per state. 1,000,000 history rows take about a second on
SQLite (`bench/process.py`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, exists, extract, func, select
from sqlalchemy.orm import Session

from ..engine import Registry, WorkflowDefinition
from ..engine.definition import StateDef
from ..errors import NotFound, PermissionDenied
from ..i18n import Text
from ..levels import LEVELS
from ..models import Organisation, Product, ProductEvent
from ..reminders.calendar import DEFAULT_TZ, WorkingDays, sla_calendar
from ..services.access import Actor
from ..services.authz import require
from ..services.products import EDIT_TRIGGER

READ_REPORTS = "read_reports"
MIGRATE_TRIGGER = "migrate_workflow"  # services.workflow_migration: keeps the stay when the state is kept
_CONTINUES = frozenset({EDIT_TRIGGER, MIGRATE_TRIGGER})
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_DAY = 86400
_DAY_US = 86_400_000_000
FIXED_FROM = datetime(1976, 1, 1, tzinfo=UTC)
_BATCH = 20_000  # rows per fetch of the streamed query


@dataclass(slots=True)
class ProcessRow:
    """One line of the table: a stage of the cycle at one level, for the chosen year and as-of day."""

    stage: str
    stage_label: Text
    level: str
    level_label: Text
    sla: tuple[tuple[int, str], ...]  # the distinct (days, calendar) limits of the line's states; () none
    ended: int = 0  # stays that ended in the year (up to the as-of day)
    with_sla: int = 0  # … of them in a state with a time limit
    within_sla: int = 0  # … of those, finished within it
    median_days: float | None = None  # median duration of the ended stays, in working days
    open: int = 0  # stays still open at the end of the as-of day (any year)
    late: int = 0  # … of them already past their limit
    durations: list[int] = field(default_factory=list, repr=False)

    @property
    def share_within(self) -> float | None:
        """Per cent of the ended stays with a limit that finished within it; None without any."""
        return 100.0 * self.within_sla / self.with_sla if self.with_sla else None


@dataclass(slots=True)
class ProcessReport:
    """The process figures of an area (None: everything, the operator's view) for one year, as of a day."""

    at: date
    year: int
    org: Organisation | None
    rows: list[ProcessRow]
    years: list[int]  # from the first to the last year a stay of the area ended (up to the as-of day): a selector
    events: int = 0  # history rows read


class _WorkIndex:
    """Working-day ranks by day number: `rank[d - base]` = working days in [base, d], `work[d - base]` 1 on a
    working day. Built over whole years from the reminders' own calendar; extended when asked outside."""

    __slots__ = ("base", "end", "rank", "work", "_calendar")

    def __init__(self, first_year: int, last_year: int) -> None:
        self._calendar = WorkingDays()
        self.base = self.end = 0
        self.rank: list[int] = []
        self.work: list[int] = []
        self._build(first_year, last_year)

    def _build(self, first_year: int, last_year: int) -> None:
        base, end = date(first_year, 1, 1).toordinal(), date(last_year + 1, 1, 1).toordinal()
        rank, work, n = [], [], 0
        for ordinal in range(base, end):
            w = 1 if self._calendar.is_working(date.fromordinal(ordinal)) else 0
            n += w
            rank.append(n)
            work.append(w)
        self.base, self.end, self.rank, self.work = base, end, rank, work

    def cover(self, ordinal: int) -> None:
        """Make sure `ordinal` lies inside the index (rebuilt over the wider span of years)."""
        if self.base <= ordinal < self.end:
            return
        year = date.fromordinal(ordinal).year
        first = min(year, date.fromordinal(self.base).year)
        last = max(year, date.fromordinal(self.end - 1).year)
        self._build(first, last)


@dataclass(frozen=True, slots=True)
class _StateInfo:
    row: ProcessRow
    sla_days: int | None
    working: bool


def _state_def(registry: Registry, key: str, version: int, state: str) -> tuple[WorkflowDefinition, StateDef | None]:
    definition = registry.definitions.get((key, version)) or registry.latest(key)
    return definition, definition.states.get(state)


def _level_order() -> dict[str, int]:
    return {level: i for i, level in enumerate(reversed(LEVELS))}


MIN_YEAR = 2000


def period_problem(at: date, year: int | None, today: date) -> Text | None:
    """Why an as-of day or a year cannot be reported on (None: they can): the as-of day lies between 2000
    and today (figures of a day still to come would change), the year between 2000 and the as-of day's."""
    if at > today:
        return Text(
            f"Ngày xem số liệu ({at:%d/%m/%Y}) không được sau hôm nay ({today:%d/%m/%Y})",
            f"The as-of day ({at:%d/%m/%Y}) cannot be after today ({today:%d/%m/%Y})",
        )
    if at.year < MIN_YEAR:
        return Text(f"Ngày xem số liệu phải từ năm {MIN_YEAR}", f"The as-of day must be in {MIN_YEAR} or later")
    if year is not None and not MIN_YEAR <= year <= at.year:
        return Text(
            f"Năm phải từ {MIN_YEAR} đến {at.year} (năm của ngày xem số liệu), nhận được {year}",
            f"The year must be from {MIN_YEAR} to {at.year} (the as-of day's), got {year}",
        )
    return None


def resolve_area(session: Session, actor: Actor, org: Organisation | None) -> Organisation | None:
    """The area the figures cover: `org` when the actor sees it and may read reports there (NotFound
    outside its area, PermissionDenied without the right), else the actor's own area: the highest
    organisation where it may read reports. The system actor without `org` sees everything (None)."""
    if org is not None:
        if not actor.can_see(org):
            raise NotFound(Text(f"Không tìm thấy đơn vị {org.code}", f"Organisation {org.code} not found"))
        require(actor, READ_REPORTS, org)
        return org
    if actor.system:
        return None
    roles = actor.policy.actions[READ_REPORTS].roles
    mine = [m for m in actor.memberships if m.role in roles and not actor.acts_for_role(m)]
    if not mine:
        require(actor, READ_REPORTS, None)  # raises with the roles it needs
        raise PermissionDenied(Text("Bạn không có quyền xem báo cáo", "You may not read reports"))
    top = min(mine, key=lambda m: (len(m.organisation.path), m.organisation.path))
    return session.get(Organisation, top.organisation_id)


def end_of_day(day: date, tz: str = DEFAULT_TZ) -> datetime:
    """The first moment after `day` in local time (UTC): history rows before it count."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _micros(moment: datetime) -> int:
    """A UTC moment as whole microseconds since 1970: times compare exactly (floats would not)."""
    return (moment - _EPOCH) // _MICRO


def _events(session: Session, org: Organisation | None, before: datetime):
    """The history of the area's products up to `before`, in (product, seq) order, streamed; the time as
    whole microseconds since 1970, computed by the database (a datetime object per row costs more than the
    rest of the walk). The area's filter is left out when no product lies outside it (a province)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    at = ProductEvent.at
    if sqlite:  # stored as text "YYYY-MM-DD HH:MM:SS.ffffff" in UTC
        micros = cast(func.strftime("%s", at), BigInteger) * 1_000_000 + cast(func.substr(at, 21, 6), BigInteger)
    else:
        micros = cast(func.floor(extract("epoch", at) * 1_000_000), BigInteger)
    stmt = select(
        ProductEvent.product_id,
        ProductEvent.to_state,
        ProductEvent.trigger,
        ProductEvent.workflow_key,
        ProductEvent.workflow_version,
        micros,
    ).where(at < before)
    if org is not None:
        communes = select(Organisation.id).where(Organisation.path.startswith(org.path, autoescape=True))
        outside = session.scalar(select(exists().where(Product.commune_id.not_in(communes))))
        if outside:
            stmt = stmt.where(ProductEvent.product_id.in_(select(Product.id).where(Product.commune_id.in_(communes))))
    stmt = stmt.order_by(ProductEvent.product_id, ProductEvent.seq)
    conn = session.connection()
    if not sqlite:  # a server-side cursor, read in batches
        yield from conn.execution_options(yield_per=_BATCH).execute(stmt).partitions()
        return
    # SQLite's cursor steps its statement as rows are asked for, and the columns need no conversion (ids,
    # keys, whole numbers): the rows come straight from the driver's cursor, since wrapping a million rows
    # as Row objects costs as much as the whole walk. (Without yield_per the result reads nothing ahead.)
    result = conn.execute(stmt)
    cursor = result.cursor
    try:
        while chunk := cursor.fetchmany(_BATCH):
            yield chunk
    finally:
        result.close()


def _fixed_offset(zone: ZoneInfo, last_year: int) -> int | None:
    """The zone's UTC offset in seconds when it has not changed since 1976 (Vietnam: +7 since 1975), else
    None (then every hour's offset is looked up)."""
    seen = {
        int(datetime(y, m, 1, 12, tzinfo=zone).utcoffset().total_seconds())
        for y in range(FIXED_FROM.year, last_year + 2)
        for m in (1, 7)
    }
    return seen.pop() if len(seen) == 1 else None


class _Tally:
    """What the walk over the history adds up: the table's lines, what each state means (looked up once
    per definition version and state), the working-day index and the zone's offsets."""

    def __init__(self, registry: Registry, at: date, year: int, tz: str) -> None:
        self.registry = registry
        self.zone = ZoneInfo(tz)
        self.now = end_of_day(at, tz) - timedelta(microseconds=1)  # the last moment of the as-of day
        self.year = year
        self.year_lo, self.year_hi = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
        self.first_day, self.last_day = date.max.toordinal(), 0  # the first and last day a stay ended
        self.rows: dict[tuple[str, str], ProcessRow] = {}
        self.infos: dict[tuple[str, int, str], _StateInfo] = {}
        self.bounds: dict[tuple[str, int, str], int] = {}  # open stays entered before this (micros) are late
        self.index = _WorkIndex(min(at.year, year) - 1, at.year)
        self.offsets: dict[int, int] = {}  # UTC hour -> the zone's offset then (seconds): exact across DST changes
        self.fixed = _fixed_offset(self.zone, at.year)  # the zone's one offset since 1976, if it has one
        self.fixed_from = _micros(FIXED_FROM)

    def info(self, key: str, version: int, state: str) -> _StateInfo:
        found = self.infos.get((key, version, state))
        if found is not None:
            return found
        definition, sdef = _state_def(self.registry, key, version, state)
        catalogue = self.registry.catalogue
        stage = catalogue.stage_of(key, state)
        stage_key, stage_label = (stage.key, stage.label) if stage else (state, definition.state_label(state))
        level = sdef.level if sdef is not None else "commune"
        n = sdef.sla_days if sdef is not None and not sdef.final else None
        row = self.rows.get((stage_key, level))
        if row is None:
            label = catalogue.levels.get(level, Text(level, level))
            row = self.rows[(stage_key, level)] = ProcessRow(stage_key, stage_label, level, label, ())
        if n:
            row.sla = tuple(sorted({*row.sla, (n, definition.sla_calendar)}))
            bound = sla_calendar(definition.sla_calendar, self.zone).stalled_before(self.now, n)
            self.bounds[(key, version, state)] = _micros(bound)
        found = self.infos[(key, version, state)] = _StateInfo(row, n or None, definition.sla_calendar == "working")
        return found

    def day_of(self, us: int) -> int:
        """The local day number (`date.toordinal`) of a moment in microseconds since 1970."""
        seconds = us // 1_000_000
        if self.fixed is not None and us >= self.fixed_from:
            return (seconds + self.fixed) // _DAY + _EPOCH_ORDINAL
        hour = seconds // 3600
        off = self.offsets.get(hour)
        if off is None:
            off = self.offsets[hour] = int(datetime.fromtimestamp(hour * 3600, self.zone).utcoffset().total_seconds())
        return (seconds + off) // _DAY + _EPOCH_ORDINAL

    def ended(self, info: _StateInfo, start_us: int, start: int, us: int, day: int) -> None:
        """A stay entered at `start_us` (local day `start`) left at `us` (local day `day`, in the year)."""
        index = self.index
        if not (index.base <= start < index.end and index.base <= day < index.end):
            index.cover(start)
            index.cover(day)
        base = index.base
        worked = max(0, index.rank[day - base] - index.rank[start - base])
        row, n = info.row, info.sla_days
        row.ended += 1
        row.durations.append(worked)
        if n:
            row.with_sla += 1
            if info.working:
                # on or before the N-th working day after the day of entry
                within = worked < n or (worked == n and index.work[day - base] == 1)
            else:
                within = us - start_us < n * _DAY_US
            row.within_sla += within

    def still_open(self, info: _StateInfo, key: tuple[str, int, str], start_us: int) -> None:
        info.row.open += 1
        bound = self.bounds.get(key)
        if bound is not None and start_us < bound:
            info.row.late += 1


def _walk(tally: _Tally, chunks) -> int:
    """One pass over the history in (product, seq) order: each row either continues the product's stay
    (an edit, a migration keeping the state), ends it and starts the next, or starts a new product."""
    events = 0
    pid_now, state_now, info_now, key_now, us_now, day_now = None, None, None, None, 0, 0
    fixed, fixed_from, day_of = tally.fixed, tally.fixed_from, tally.day_of
    year_lo, year_hi, infos = tally.year_lo, tally.year_hi, tally.infos
    first, last = tally.first_day, tally.last_day
    for chunk in chunks:
        events += len(chunk)
        for pid, state, trigger, key, version, us in chunk:
            if pid == pid_now and state == state_now and trigger in _CONTINUES:
                continue
            if fixed is not None and us >= fixed_from:
                day = (us // 1_000_000 + fixed) // _DAY + _EPOCH_ORDINAL
            else:
                day = day_of(us)
            if pid == pid_now:
                if day < first:
                    first = day
                if day > last:
                    last = day
                if year_lo <= day < year_hi:
                    tally.ended(info_now, us_now, day_now, us, day)
            elif pid_now is not None:
                tally.still_open(info_now, key_now, us_now)
            key_now = (key, version, state)
            pid_now, state_now, us_now, day_now = pid, state, us, day
            info_now = infos.get(key_now) or tally.info(key, version, state)
    if pid_now is not None:
        tally.still_open(info_now, key_now, us_now)
    tally.first_day, tally.last_day = first, last
    return events


def process_figures(
    session: Session,
    registry: Registry,
    actor: Actor,
    at: date,
    year: int | None = None,
    org: Organisation | None = None,
    tz: str = DEFAULT_TZ,
) -> ProcessReport:
    """The process figures of `org`'s area (default: the actor's area) for `year` (default: the as-of
    day's year), as of the end of the local day `at`. NotFound outside the actor's area, PermissionDenied
    without `read_reports`."""
    area = resolve_area(session, actor, org)
    year = at.year if year is None else year
    tally = _Tally(registry, at, year, tz)
    events = _walk(tally, _events(session, area, end_of_day(at, tz)))
    levels = _level_order()
    stage_order = {s.key: i for i, s in enumerate(registry.catalogue.stages)}
    for row in tally.rows.values():
        if row.durations:
            row.median_days = float(statistics.median(row.durations))
        row.durations = []
    shown = [r for r in tally.rows.values() if r.ended or r.open]
    shown.sort(key=lambda r: (stage_order.get(r.stage, len(stage_order)), r.stage, levels.get(r.level, 9)))
    years = []
    if tally.last_day:
        years = list(range(date.fromordinal(tally.first_day).year, date.fromordinal(tally.last_day).year + 1))
    return ProcessReport(at, year, area, shown, years, events)


def report_json(report: ProcessReport, locale: str = "vi") -> dict:
    """The report as JSON (API, CLI): numbers as numbers, labels in `locale`, the stay counts per line."""
    org = report.org
    return {
        "at": report.at.isoformat(),
        "year": report.year,
        "organisation": {"code": org.code, "name": org.name, "level": org.level} if org is not None else None,
        "years": report.years,
        "rows": [
            {
                "stage": r.stage,
                "stage_label": r.stage_label.get(locale),
                "level": r.level,
                "level_label": r.level_label.get(locale),
                "sla": [{"days": days, "calendar": kind} for days, kind in r.sla],
                "ended": r.ended,
                "with_sla": r.with_sla,
                "within_sla": r.within_sla,
                "share_within_sla": None if r.share_within is None else round(r.share_within, 1),
                "median_working_days": r.median_days,
                "open": r.open,
                "late": r.late,
            }
            for r in report.rows
        ],
    }


__all__ = [
    "MIN_YEAR",
    "ProcessReport",
    "ProcessRow",
    "end_of_day",
    "period_problem",
    "process_figures",
    "report_json",
    "resolve_area",
]
