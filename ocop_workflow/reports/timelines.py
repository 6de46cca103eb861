"""Each indicator's rule, as the dated items it is made of.

For one report (one area, one as-of day) every indicator becomes a list of `Item`s, computed once:

* a *flow* item counts in a window when its `day` lies in it (a product's idea accepted on that day, a
  certificate issued, a training held);
* a *stock* item counts on a day when `day` <= that day < `until` (a product holding a valid certificate,
  a listing, a link; a chain working). One product's items never overlap, so a product counts once.

A `Timeline` keeps the items sorted by day per organisation with running sums, so the figure of any
window in any sub-area is two binary searches per organisation, and the drill-down lists the same items.
The few indicators whose rule is not one item per thing (`upgraded`: each product once however many
certificates it got in the window; the shares of units) are evaluated per window from their items.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import accumulate

from .facts import CertRow, Facts, OrgRow, Span
from .model import Window
from .windows import end_of_day_utc, started

TRAINEE_ROLE = {
    "trained_association_officers": "association_officer",
    "trained_cooperative_managers": "cooperative_manager",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One thing entering a figure, counted in `org_id` (a product's commune, a record's unit)."""

    org_id: int
    kind: str  # product, chain, unit, training
    ref: int  # its id
    day: date  # flow: the day it happened; stock: the first day it holds
    until: date | None  # stock: the first day it no longer holds (None: still holds); flow: None
    num: float
    den: float | None = None
    on: date | None = None  # the day shown in the drill-down (default `day`)
    detail: str | None = None
    name: str | None = None  # records and units (products are named from the database)


class Timeline:
    """An indicator's items, with per-organisation running sums for fast windows."""

    def __init__(self, items: list[Item], stock: bool) -> None:
        self.items, self.stock = items, stock
        by_org: dict[int, list[Item]] = defaultdict(list)
        for item in items:
            by_org[item.org_id].append(item)
        self._starts: dict[int, tuple[list[date], list[float], list[float]]] = {}
        self._ends: dict[int, tuple[list[date], list[float], list[float]]] = {}
        for org_id, its in by_org.items():
            self._starts[org_id] = _running(its, lambda i: i.day)
            if stock:
                self._ends[org_id] = _running([i for i in its if i.until is not None], lambda i: i.until)

    def per_org(self, window: Window) -> dict[int, tuple[float, float]]:
        """org -> (numerator, denominator) of the items counting in `window`."""
        out: dict[int, tuple[float, float]] = {}
        if not started(window):
            return out
        if self.stock:
            day = window.end
            for org_id, (days, nums, dens) in self._starts.items():
                i = bisect_right(days, day)
                e_days, e_nums, e_dens = self._ends.get(org_id, ([], [0.0], [0.0]))
                j = bisect_right(e_days, day)
                out[org_id] = (nums[i] - e_nums[j], dens[i] - e_dens[j])
            return out
        for org_id, (days, nums, dens) in self._starts.items():
            i, j = bisect_left(days, window.start), bisect_right(days, window.end)
            if j > i:
                out[org_id] = (nums[j] - nums[i], dens[j] - dens[i])
        return out

    def hits(self, window: Window) -> list[Item]:
        """The items counting in `window` (the drill-down)."""
        if not started(window):
            return []
        if self.stock:
            d = window.end
            return [i for i in self.items if i.day <= d and (i.until is None or i.until > d)]
        return [i for i in self.items if window.start <= i.day <= window.end]


def _running(items: list[Item], day_of: Callable[[Item], date]) -> tuple[list[date], list[float], list[float]]:
    items = sorted(items, key=day_of)
    nums = [0.0, *accumulate(float(i.num) for i in items)]
    dens = [0.0, *accumulate(float(i.den or 0) for i in items)]
    return [day_of(i) for i in items], nums, dens


# --- the rules -------------------------------------------------------------------------------------------
def _first_cert(certs: list[CertRow], min_star: int) -> CertRow | None:
    return next((c for c in certs if c.star >= min_star), None)


def cert_detail(cert: CertRow) -> str:
    return f"{cert.star}★ · {cert.code}"


def _new_supported(f: Facts, at: date) -> list[Item]:
    """Idea accepted, with a support that started by the as-of day and had not ended before the idea was
    accepted (a support over before the idea does not make the product supported)."""
    out = []
    supports = f.supports
    for pid, (commune, day) in f.idea_accepted.items():
        entry = supports.get(pid)
        if entry is None or day > at:
            continue
        starts = [s.start for s in entry[1] if s.start <= at and (s.end is None or s.end >= day)]
        if starts:
            out.append(Item(commune, "product", pid, day, None, 1, detail=min(starts).isoformat()))
    return out


def _reached(min_star: int) -> Callable[[Facts, date], list[Item]]:
    def items(f: Facts, at: date) -> list[Item]:
        out = []
        for pid, certs in f.certificates.items():
            cert = _first_cert(certs, min_star)
            if cert is not None and cert.issued_on <= at:
                out.append(Item(cert.commune_id, "product", pid, cert.issued_on, None, 1, detail=cert_detail(cert)))
        return out

    return items


def _registered_3_star_share(f: Facts, at: date) -> list[Item]:
    out = []
    certificates = f.certificates
    for pid, (commune, day) in f.first_submitted.items():
        if day > at:
            continue
        cert = _first_cert(certificates.get(pid, ()), 3)
        if cert is not None and cert.issued_on <= at:
            out.append(Item(commune, "product", pid, day, None, 1, 1, cert.issued_on, cert_detail(cert)))
        else:
            out.append(Item(commune, "product", pid, day, None, 0, 1))
    return out


def _segments(
    spans: Iterable[tuple[date, date | None]], evaluate: Callable[[date], tuple | None]
) -> list[tuple[date, date | None, tuple]]:
    """Cut time at every boundary of `spans` and evaluate each piece at its first day; neighbouring pieces
    with the same value are one segment. Returns (start, until, value) for the pieces with a value."""
    bounds = sorted({d for span in spans for d in span if d is not None})
    out: list[tuple[date, date | None, tuple]] = []
    for k, start in enumerate(bounds):
        until = bounds[k + 1] if k + 1 < len(bounds) else None
        value = evaluate(start)
        if value is None:
            continue
        if out and out[-1][1] == start and out[-1][2] == value:
            out[-1] = (out[-1][0], until, value)
        else:
            out.append((start, until, value))
    return out


def _cert_spans(certs: list[CertRow]) -> list[tuple[date, date | None]]:
    return [(c.issued_on, c.expires_on) for c in certs] + [
        (d, None) for c in certs for d in (c.revoked_on, c.superseded_on) if d is not None
    ]


def valid_cert(certs: list[CertRow], day: date) -> CertRow | None:
    """The certificate that counts on `day` (the highest star, then the latest, if several do)."""
    valid = [c for c in certs if c.valid_on(day)]
    return max(valid, key=lambda c: (c.star, c.issued_on, c.id)) if valid else None


def _recognised(f: Facts, at: date) -> list[Item]:
    out = []
    for pid, certs in f.certificates.items():

        def value(day: date, certs=certs) -> tuple | None:
            cert = valid_cert(certs, day)
            return (cert.commune_id, cert.issued_on, cert_detail(cert)) if cert is not None else None

        for start, until, (commune, on, detail) in _segments(_cert_spans(certs), value):
            if start <= at:
                out.append(Item(commune, "product", pid, start, until, 1, on=on, detail=detail))
    return out


def _holding(spans: list[Span], day: date) -> list[Span]:
    return [s for s in spans if s.holds_on(day)]


def _on_ecommerce(f: Facts, at: date) -> list[Item]:
    out = []
    certificates = f.certificates
    for pid, (commune, listings) in f.listings.items():
        certs = certificates.get(pid)
        if not certs:
            continue

        def value(day: date, certs=certs, listings=listings) -> tuple | None:
            cert, listed = valid_cert(certs, day), _holding(listings, day)
            if cert is None or not listed:
                return None
            return max(cert.issued_on, min(s.start for s in listed)), ", ".join(sorted({s.label for s in listed}))

        spans = _cert_spans(certs) + [(s.start, s.end) for s in listings]
        for start, until, (on, detail) in _segments(spans, value):
            if start <= at:
                out.append(Item(commune, "product", pid, start, until, 1, on=on, detail=detail))
    return out


def _material_linked(f: Facts, at: date) -> list[Item]:
    out = []
    for pid, (commune, links) in f.material_links.items():

        def value(day: date, links=links) -> tuple | None:
            linked = sorted(_holding(links, day), key=lambda s: (s.start, s.label))
            return (linked[0].start, ", ".join(s.label for s in linked)) if linked else None

        for start, until, (on, detail) in _segments([(s.start, s.end) for s in links], value):
            if start <= at:
                out.append(Item(commune, "product", pid, start, until, 1, on=on, detail=detail))
    return out


def _chains_started(f: Facts, at: date) -> list[Item]:
    return [Item(c.organisation_id, "chain", c.id, c.start, None, 1, name=c.name) for c in f.chains if c.start <= at]


def _chains_working(f: Facts, at: date) -> list[Item]:
    return [
        Item(c.organisation_id, "chain", c.id, c.middle, c.end, 1, name=c.name)
        for c in f.chains
        if c.middle is not None and c.middle <= at and (c.end is None or c.end > c.middle)
    ]


def _revenue_growth(f: Facts, at: date) -> list[Item]:
    declared_by = end_of_day_utc(at)
    revenues = f.revenues
    out = []
    for pid, certs in f.certificates.items():
        cert = _first_cert(certs, 3)
        if cert is None or cert.issued_on > at or pid not in revenues:
            continue
        year = cert.issued_on.year
        before, after = revenues[pid].get(year - 1), revenues[pid].get(year + 1)
        if before is None or after is None:
            continue
        if _aware(before.declared_at) >= declared_by or _aware(after.declared_at) >= declared_by:
            continue
        detail = cert_detail(cert)
        out.append(
            Item(cert.commune_id, "product", pid, cert.issued_on, None, after.amount, before.amount, None, detail)
        )
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _trained(key: str) -> Callable[[Facts, date], list[Item]]:
    role = TRAINEE_ROLE[key]

    def items(f: Facts, at: date) -> list[Item]:
        return [
            Item(t.organisation_id, "training", t.id, t.start, None, t.people[role], name=t.name)
            for t in f.trainings
            if t.kind == "training" and t.start <= at and t.people.get(role)
        ]

    return items


TIMELINES: dict[str, tuple[Callable[[Facts, date], list[Item]], bool]] = {
    "new_supported": (_new_supported, False),
    "reached_3_star": (_reached(3), False),
    "reached_4_star": (_reached(4), False),
    "registered_3_star_share": (_registered_3_star_share, False),
    "recognised": (_recognised, True),
    "on_ecommerce": (_on_ecommerce, True),
    "material_linked": (_material_linked, True),
    "value_chains_started": (_chains_started, False),
    "value_chains_working": (_chains_working, True),
    "revenue_growth": (_revenue_growth, False),
    "trained_association_officers": (_trained("trained_association_officers"), False),
    "trained_cooperative_managers": (_trained("trained_cooperative_managers"), False),
}


# --- the rules evaluated per window ----------------------------------------------------------------------
def _in(day: date | None, w: Window) -> bool:
    return day is not None and w.start <= day <= w.end


def _upgraded(f: Facts, w: Window, at: date) -> list[Item]:
    """Each product once: its first certificate in the window that had an earlier one."""
    out = []
    for pid, certs in f.later_certificates.items():
        later = next((c for c in certs if _in(c.issued_on, w)), None)
        if later is not None:
            out.append(Item(later.commune_id, "product", pid, later.issued_on, None, 1, detail=cert_detail(later)))
    return out


def units_of_level(f: Facts, level: str, day: date) -> list[OrgRow]:
    return [o for o in f.orgs.values() if o.level == level and o.path.startswith(f.area_path) and o.exists_on(day)]


def _sales_point_districts(f: Facts, w: Window, at: date) -> list[Item]:
    if not started(w):
        return []
    day = w.end
    open_points = [p for p in f.sales_points if p.start <= day and (p.end is None or p.end > day)]
    out = []
    for district in units_of_level(f, "district", day):
        points = sorted(
            (p for p in open_points if f.orgs[p.organisation_id].path.startswith(district.path)),
            key=lambda p: (p.start, p.name),
        )
        on = points[0].start if points else None
        detail = ", ".join(p.name for p in points) or None
        out.append(Item(district.id, "unit", district.id, day, None, 1 if points else 0, 1, on, detail, district.name))
    return out


def _outreach_communes(f: Facts, w: Window, at: date) -> list[Item]:
    if not started(w):
        return []
    first: dict[int, tuple[date, str]] = {}
    for t in f.trainings:
        if t.kind == "outreach" and _in(t.start, w):
            known = first.get(t.organisation_id)
            if known is None or (t.start, t.name) < known:
                first[t.organisation_id] = (t.start, t.name)
    out = []
    for commune in units_of_level(f, "commune", w.end):
        held = first.get(commune.id)
        on, detail = held if held is not None else (None, None)
        out.append(Item(commune.id, "unit", commune.id, w.end, None, 1 if held else 0, 1, on, detail, commune.name))
    return out


PER_WINDOW: dict[str, Callable[[Facts, Window, date], list[Item]]] = {
    "upgraded": _upgraded,
    "sales_point_districts": _sales_point_districts,
    "outreach_communes": _outreach_communes,
}
