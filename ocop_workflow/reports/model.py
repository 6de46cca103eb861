"""What a plan's progress report is made of: plain data, so the page, the Excel and CSV files, the API's
JSON and the CLI all show the same figures (computed once by `reports.progress`).

Statuses of a target (`TargetResult.status`):

* `met`         the figure satisfies the comparison (`at_most`: on the window's last day; `between N and M`:
                from N on, since a plan's range is an ambition and more than M is more than planned);
* `on_track`    the window is still open and a flow count is at least its pro-rata share of the target
                (elapsed days / days of the window × target); a stock, share or ratio still open and
                not yet met is `behind`, except `at_most`, which is `on_track` while under its ceiling;
* `behind`      otherwise (a closed window that missed, or a pace below the pro-rata share);
* `not_started` the window begins after the as-of day;
* `no_data`     a share or ratio whose denominator is zero on that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

MET, ON_TRACK, BEHIND, NOT_STARTED, NO_DATA = "met", "on_track", "behind", "not_started", "no_data"
STATUSES = (MET, ON_TRACK, BEHIND, NOT_STARTED, NO_DATA)


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: int
    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Window:
    """The days a target looks at, both inclusive, already cut at the as-of day (`end` <= as-of)."""

    start: date
    end: date
    full_end: date  # the window's last day had it not been cut

    @property
    def closed(self) -> bool:
        return self.end >= self.full_end


@dataclass(frozen=True, slots=True)
class Figure:
    """An indicator's value in one organisation's area for one window. For a SHARE, `value` is the per
    cent `numerator` / `denominator` × 100; for a RATIO the multiple; for a COUNT the count itself
    (`numerator`, `denominator` None). None when a denominator is zero."""

    value: float | None
    numerator: float
    denominator: float | None = None


@dataclass(frozen=True, slots=True)
class TargetResult:
    target_id: int
    position: int
    indicator: str
    organisation: OrgRef  # whose target it is (the plan's file said so)
    year: int | None  # None: the whole period
    comparison: str  # at_least, at_most, between, share_at_least
    low: float | None
    high: float | None
    window: Window
    figure: Figure  # in the report's area (the report's organisation within the target's)
    status: str
    progress: float  # 0..1, the progress bar: figure / target, capped at 1 (1 when met)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class UnitProgress:
    """One organisation below the report's (the districts of a province, the communes of a district), with
    its figures for the plan's targets and its mean progress, by which the table is ranked."""

    organisation: OrgRef
    results: list[TargetResult]
    progress: float  # mean of the results' progress (targets without a figure left out)
    behind: int  # how many of its targets are behind


@dataclass(frozen=True, slots=True)
class YearPoint:
    year: int
    figure: Figure


@dataclass
class PlanReport:
    """A plan's report for one organisation's area as of one day. Reproducible: the same plan, day and
    organisation give the same figures whenever it is run (every figure comes from dated records and the
    history; `computed_at` only says when this copy was made)."""

    plan_id: int
    plan_name: str
    basis_number: str
    basis_date: date
    owner: OrgRef
    body: str
    first_year: int
    last_year: int
    at: date
    organisation: OrgRef  # the area reported on
    computed_at: datetime
    targets: list[TargetResult] = field(default_factory=list)
    units: list[UnitProgress] = field(default_factory=list)  # ranked, best first
    yearly: dict[str, list[YearPoint]] = field(default_factory=dict)  # indicator -> one figure a plan year


@dataclass(frozen=True, slots=True)
class Member:
    """One thing behind a figure (the drill-down): a product, or a unit, chain, sales point or training.
    `kind` says which; `link` is the core's path for products ("/products/<id>"), None otherwise."""

    kind: str
    id: int
    name: str
    commune: str | None
    district: str | None
    on: date | None  # the day that made it count (the certificate's issue, the idea's acceptance, …)
    detail: str | None = None  # e.g. "4★ · 24-219-0012/2024", a listing's platforms, a chain's lead
    value: float | None = None  # what it adds to the figure: 1 a product or unit, a session's attendees, revenue of Y+1


def plain(value: object) -> object:
    """A report's data (after `dataclasses.asdict`) as JSON-ready values: days as ISO text (YYYY-MM-DD, a
    moment with its time), tuples as lists. One form for the API and `ocop report plan --json`."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
