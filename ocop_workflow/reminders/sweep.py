"""The sweep: find what is due in the database, record each reminder once, then send the mail.

The database, not the scheduler, is the source of truth. A sweep may run at any time, any
number of times, from any number of processes:

1. **Stalls.** For every (workflow, version, state) with an `sla_days`, the state's calendar
   (`sla_calendar` of the definition: calendar or working days) gives the cutoff, and one
   indexed range query (`ix_products_stalled`) finds the products that entered the state
   before it — the cost grows with the stalled products, not with all products. For each:
   level 0 (the owning organisation) is due once the SLA ran out; level 1 (escalation to the
   parent organisation) after a further `escalate_after_days` (default: the SLA again); each
   level repeats every `reminder_repeat_days`, period 0, 1, 2, … Only the current period is
   queued: a scheduler that was down does not fire the missed ones. The period is the ledger's key;
   the count a reader sees ("reminder 2") is how many reminders of this stall that user really got.
   Escalation goes to the nearest organisation above the owner at a level the definition has
   (a two-tier definition escalates from the commune straight to the province).
2. **Certificates.** Each certificate of the `certificates` table (issued by a signed recognition
   decision, issue #10) expires on its `expires_on`. Notices go out 90 and 30 days before that
   day and on the day itself (stage = the smallest of 90/30/0 not below the days left; the
   expiry notice is still sent up to 30 days late, never for older certificates), to the
   commune's OCOP officers and to the recognising organisation's secretariat, as long as the
   certificate is neither revoked nor superseded on the sweep's day. The ledger's subject is the
   certificate's code, so a renewed certificate gets its own notices.
3. **Recording.** Each (reminder, recipient) is one row of `reminders` with the unique key
   (kind, product, subject, anchor, level, period, user), inserted with
   `INSERT … ON CONFLICT DO NOTHING RETURNING id`: only rows that are really new come back,
   and only for those the in-app notification and the outbox mail are written, in the same
   transaction. Two sweeps at once: on PostgreSQL the second waits on the first's uncommitted
   keys and then inserts nothing; on SQLite writers are serialised (BEGIN IMMEDIATE).
4. **Digests.** Users who chose a daily digest get no single mails; from `digest_hour` local
   time, one digest per user and day (outbox `dedupe_key` digest:<user>:<date>) collects their
   reminders not yet mailed.
5. **Delivery** through the outbox (see `ocop_workflow.notify.outbox`): mail about a product
   that has since moved on (or a certificate since revoked or superseded) is cancelled instead of sent.
"""

from __future__ import annotations

import calendar as _calendar
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, literal, or_, select, update
from sqlalchemy.orm import Session

from ..config import Settings, operator_locale
from ..db import Database
from ..engine import Registry
from ..i18n import LOCALES, Text
from ..models import Certificate, MailOutbox, Notification, Product, Reminder, User
from ..notify.bulk import bulk_insert, in_ids, insert_ignoring_duplicates
from ..notify.outbox import DeliveryReport, MailerFactory, deliver
from .calendar import sla_calendar
from .messages import CertificateInfo, Message, StallInfo, digest
from .recipients import Directory, Org, Recipient, supervisors

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

R = Reminder.__table__
N = Notification.__table__
O = MailOutbox.__table__  # noqa: E741
CERTIFICATE = "certificate"
MAIL_KEY = "reminder:"  # dedupe_key of a reminder's own mail: reminder:<reminder id>
LATE_EXPIRY_NOTICE_DAYS = 30
INSERT_CHUNK = 500


@lru_cache(maxsize=8)
def _calendar_for(kind: str, tz: str):
    return sla_calendar(kind, tz)


@dataclass
class Due:
    """One reminder due now (before we know whether it was already recorded)."""

    kind: str
    product_id: int
    subject: str
    anchor_at: datetime
    level: int
    period: int
    organisation_id: int | None
    due_at: datetime
    recipients: list[Recipient]
    info: StallInfo | CertificateInfo
    _rendered: dict[tuple[str, int], Message] = field(default_factory=dict)

    def recipient(self, user_id: int) -> Recipient:
        return next(r for r in self.recipients if r.user_id == user_id)

    def message(self, locale: str, base_url: str, nth: int = 1) -> Message:
        """The message in `locale`; `nth`: which reminder of this stall it is for its reader (1, 2, …)."""
        key = (locale, nth)
        if key not in self._rendered:
            if isinstance(self.info, StallInfo):
                self._rendered[key] = self.info.render(locale, base_url, nth)
            else:
                self._rendered[key] = self.info.render(locale, base_url)
        return self._rendered[key]

    @property
    def notification_kind(self) -> str:
        if self.kind == CERTIFICATE:
            return CERTIFICATE
        return "escalation" if self.level else "stall"


@dataclass(frozen=True)
class Queued:
    reminder_id: int
    kind: str  # stall | escalation | certificate
    product_id: int
    product_name: str
    subject: str
    level: int
    period: int
    email: str
    mail_mode: str
    label: Text | None = None  # the state's label (a stall), never its key
    nth: int = 1  # which reminder of this stall it is for its reader

    def describe(self, locale: str = "en") -> str:
        en = locale.startswith("en")
        mode = MAIL_MODE_NAMES.get(self.mail_mode, Text(self.mail_mode, self.mail_mode)).get(locale)
        if self.kind == CERTIFICATE:
            what = (
                f"certificate {self.subject}, {self.period} days before expiry"
                if en
                else f"giấy chứng nhận {self.subject}, trước ngày hết hạn {self.period} ngày"
            )
        else:
            label = (self.label or Text("", "")).get(locale)
            if self.kind == "escalation":
                what = f"escalated, at “{label}”" if en else f"chuyển cấp, ở bước «{label}»"
            else:
                what = f"overdue at “{label}”" if en else f"quá hạn ở bước «{label}»"
            what += f", reminder {self.nth}" if en else f", lần nhắc {self.nth}"
        if en:
            return f"“{self.product_name}” (#{self.product_id}): {what} → {self.email} ({mode})"
        return f"«{self.product_name}» (#{self.product_id}): {what} → {self.email} ({mode})"


MAIL_MODE_NAMES = {
    "single": Text("từng thư", "one e-mail each"),
    "digest": Text("thư tóm tắt hằng ngày", "daily digest"),
    "off": Text("không gửi thư", "no e-mail"),
}


@dataclass
class SweepReport:
    now: datetime
    dry_run: bool = False
    stalled: int = 0  # products past their SLA
    certificates: int = 0  # certificates with a notice due
    queued: list[Queued] = field(default_factory=list)
    unreachable: list[tuple[int, Text]] = field(default_factory=list)  # (product, why): nobody to remind
    digests: list[tuple[int, int]] = field(default_factory=list)  # (user, reminders)
    delivery: DeliveryReport | None = None

    def lines(self, tz: str = "Asia/Ho_Chi_Minh", locale: str | None = None) -> list[str]:
        """The report for the operator, in `locale` (default: the command line's language)."""
        loc = locale or operator_locale()
        en = loc.startswith("en")
        local = self.now.astimezone(ZoneInfo(tz))
        when = local.isoformat(timespec="minutes")
        if en:
            out = [
                f"sweep as of {when}{' (dry run)' if self.dry_run else ''}: "
                f"{self.stalled} stalled product(s), {self.certificates} certificate notice(s) due",
                f"queued {len(self.queued)} new reminder(s)" + (":" if self.queued else ""),
            ]
        else:
            out = [
                f"lượt nhắc việc lúc {when}{' (chạy thử)' if self.dry_run else ''}: "
                f"{self.stalled} sản phẩm quá hạn, {self.certificates} thông báo giấy chứng nhận đến hạn",
                f"đã xếp {len(self.queued)} nhắc việc mới" + (":" if self.queued else ""),
            ]
        out += [f"  {q.describe(loc)}" for q in self.queued]
        for pid, why in self.unreachable:
            out.append(f"  {NOBODY.get(loc).format(product=pid)}: {why.get(loc)}")
        if self.digests:
            items = ", ".join(
                (f"user #{u} ({n} item(s))" if en else f"người dùng #{u} ({n} mục)") for u, n in self.digests
            )
            n = len(self.digests)
            out.append(f"queued {n} digest(s): {items}" if en else f"đã xếp {n} thư tóm tắt: {items}")
        if self.dry_run:
            out.append("dry run: nothing written, nothing sent" if en else "chạy thử: không ghi, không gửi gì")
        elif self.delivery is not None:
            out.append(self.delivery.summary(loc))
        return out


NOBODY = Text("không có ai để nhắc cho sản phẩm #{product}", "nobody to remind for product #{product}")
NO_MEMBER = Text(
    "«{state}», {level}: không có thành viên nào để nhắc tại {org}",
    "“{state}”, {level}: no member to remind at {org}",
)
NO_ORG = Text(
    "«{state}», {level}: không có đơn vị cấp {tier} nào phía trên {commune}",
    "“{state}”, {level}: no {tier} organisation above {commune}",
)
LEVEL_NAMES = (Text("nhắc đơn vị xử lý", "reminder to the owner"), Text("chuyển cấp trên", "escalation"))
NO_CERTIFICATE_RECIPIENT = Text(
    "giấy chứng nhận {code}: không có cán bộ OCOP xã hay cơ quan thường trực nào để báo",
    "certificate {code}: no commune OCOP officer or secretariat to notify",
)


# --- 1. stalls ---------------------------------------------------------------------------------
@dataclass
class _Stalled:
    product_id: int
    name: str
    commune_id: int
    entered: datetime
    elapsed: float
    state: str
    definition: object
    cal: object


def find_stalled(session: Session, registry: Registry, settings: Settings, now: datetime) -> list[_Stalled]:
    """Products past their state's SLA: one indexed range query per (workflow, version, state)."""
    found: list[_Stalled] = []
    for (key, version), d in sorted(registry.definitions.items()):
        cal = _calendar_for(d.sla_calendar, settings.timezone)
        for state in d.states.values():
            if state.final or not state.sla_days or not d.transitions_from(state.key):
                continue
            bound = cal.stalled_before(now, state.sla_days)
            # no ORDER BY: ordering by id lets a planner prefer an index it can read in id order,
            # which walks every product in the state instead of the stalled range
            stmt = select(Product.id, Product.name, Product.commune_id, Product.state_entered_at).where(
                Product.workflow_key == key,
                Product.workflow_version == version,
                Product.state == state.key,
                Product.state_entered_at < bound,
            )
            for pid, name, commune_id, entered in session.execute(stmt):
                elapsed = cal.elapsed(entered, now)
                if elapsed >= state.sla_days:  # always true; kept as the definition of "stalled"
                    found.append(_Stalled(pid, name, commune_id, entered, elapsed, state.key, d, cal))
    found.sort(key=lambda s: s.product_id)
    return found


def stall_dues(
    session: Session, registry: Registry, settings: Settings, now: datetime, directory: Directory, report: SweepReport
) -> list[Due]:
    stalled = find_stalled(session, registry, settings, now)
    report.stalled = len(stalled)
    if not stalled:
        return []
    tz = ZoneInfo(settings.timezone)
    directory.load_orgs({s.commune_id for s in stalled})
    repeat = max(1, settings.reminder_repeat_days)
    plans = []
    for s in stalled:
        d = s.definition
        state = d.states[s.state]
        roles = tuple(dict.fromkeys(r for t in d.transitions_from(s.state) for r in t.roles))
        owner = directory.owner(s.commune_id, state.level)
        parent = directory.parent(owner, _levels_of(d)) if owner else None
        plans.append((s, state, roles, owner, parent))
    directory.load_members({o.id for _, _, _, o, _ in plans if o} | {p.id for *_, p in plans if p})
    level_names = registry.catalogue.levels

    dues: list[Due] = []
    for s, state, roles, owner, parent in plans:
        sla = state.sla_days
        further = settings.escalate_after_days if settings.escalate_after_days is not None else sla
        levels: list[tuple[int, int, Org | None, list[Recipient]]] = [(0, sla, owner, directory.members(owner, roles))]
        if s.elapsed >= sla + further:
            levels.append((1, sla + further, parent, supervisors(directory, registry.policy, parent)))
        commune = directory.by_id.get(s.commune_id)
        for level, threshold, org, recipients in levels:
            if not recipients:
                names = {"state": state.label, "level": LEVEL_NAMES[level]}
                if org is not None:
                    why = _fill(NO_MEMBER, names, org=org.name)
                else:
                    tier = level_names.get(state.level, Text(state.level, state.level))
                    tier = Text(tier.vi.lower(), tier.en.lower())
                    above = owner if level and owner else commune
                    why = _fill(NO_ORG, names, tier=tier, commune=above.name if above else "")
                report.unreachable.append((s.product_id, why))
                continue
            period = int((s.elapsed - threshold) // repeat)
            due_at = s.cal.due_at(s.entered, threshold + period * repeat)
            info = StallInfo(
                product_id=s.product_id,
                product_name=s.name,
                commune_name=commune.name if commune else "",
                state_label=state.label,
                org_name=owner.name if owner else "",
                parent_name=parent.name if parent else None,
                since=s.entered,
                sla_days=sla,
                threshold=threshold,
                unit=s.cal.unit,
                due_at=due_at,
                now=now,
                deadline=(s.cal.due_at(s.entered, sla) - timedelta(microseconds=1)).astimezone(tz).date(),
                level=level,
                period=period,
                tz=tz,
            )
            dues.append(Due("stall", s.product_id, s.state, s.entered, level, period, org.id, due_at, recipients, info))
    return dues


def _levels_of(definition) -> frozenset[str]:
    """The levels a definition's states have (a two-tier definition has no district)."""
    return frozenset(s.level for s in definition.states.values())


def _fill(template: Text, values: dict, **more) -> Text:
    """`template` with Text values put in each language."""
    both = {**values, **more}
    return Text(
        template.vi.format(**{k: (v.vi if isinstance(v, Text) else v) for k, v in both.items()}),
        template.en.format(**{k: (v.en if isinstance(v, Text) else v) for k, v in both.items()}),
    )


# --- 2. certificates ---------------------------------------------------------------------------
def add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def certificate_anchor(issued_on: date, tz: ZoneInfo) -> datetime:
    """A certificate's anchor in the ledger: the start of its issue day (with its code as the subject,
    one certificate's notices are one set; a renewed certificate gets a set of its own)."""
    return datetime.combine(issued_on, datetime.min.time(), tzinfo=tz).astimezone(UTC)


def certificate_dues(
    session: Session, registry: Registry, settings: Settings, now: datetime, directory: Directory, report: SweepReport
) -> list[Due]:
    """Notices for the certificates (the `certificates` table, issue #10) whose expiry date falls in
    the notice window, as they stand on the sweep's local day: none for a certificate revoked or
    superseded by then, nor for one not yet issued then (a sweep `--at` an earlier time)."""
    stages = sorted(set(settings.certificate_notice_days))
    if not stages:
        return []
    tz = ZoneInfo(settings.timezone)
    months = settings.certificate_months
    today = now.astimezone(tz).date()
    C = Certificate
    candidates = session.execute(
        select(
            C.id,
            C.code,
            C.product_id,
            C.star,
            C.organisation_id,
            C.issued_on,
            C.expires_on,
            Product.name,
            Product.commune_id,
        )
        .join(Product, Product.id == C.product_id)
        .where(
            C.expires_on >= today - timedelta(days=LATE_EXPIRY_NOTICE_DAYS),
            C.expires_on <= today + timedelta(days=stages[-1]),
            C.issued_on <= today,
            or_(C.revoked_on.is_(None), C.revoked_on > today),
            or_(C.superseded_on.is_(None), C.superseded_on > today),
        )
        .order_by(C.product_id, C.issued_on, C.id)
    ).all()
    chosen = []
    for c in candidates:
        days_left = (c.expires_on - today).days
        stage = next(s for s in stages if days_left <= s)
        chosen.append((c, days_left, stage))
    report.certificates = len(chosen)
    if not chosen:
        return []
    orgs = {c.commune_id for c, *_ in chosen} | {c.organisation_id for c, *_ in chosen if c.organisation_id}
    directory.load_orgs(orgs)
    directory.load_members(orgs)
    dues = []
    for c, days_left, stage in chosen:
        commune = directory.by_id.get(c.commune_id)
        recognising = directory.by_id.get(c.organisation_id) if c.organisation_id else None
        recipients = {r.user_id: r for r in directory.members(commune, registry.policy.certificate_recipients)}
        for r in supervisors(directory, registry.policy, recognising):
            recipients.setdefault(r.user_id, r)
        if not recipients:
            report.unreachable.append((c.product_id, NO_CERTIFICATE_RECIPIENT.format(code=c.code)))
            continue
        info = CertificateInfo(
            product_id=c.product_id,
            product_name=c.name,
            commune_name=commune.name if commune else "",
            star=c.star,
            org_name=recognising.name if recognising else "",
            rated_on=c.issued_on,
            expires_on=c.expires_on,
            days_left=days_left,
            months=months,
            code=c.code,
        )
        due_at = datetime.combine(c.expires_on - timedelta(days=stage), datetime.min.time(), tzinfo=tz)
        dues.append(
            Due(
                CERTIFICATE,
                c.product_id,
                c.code,
                certificate_anchor(c.issued_on, tz),
                0,
                stage,
                commune.id if commune else None,
                due_at.astimezone(UTC),
                list(recipients.values()),
                info,
            )
        )
    return dues


# --- 3. recording ------------------------------------------------------------------------------
def _already_recorded(session: Session, dues: list[Due], counts: dict | None = None) -> set[tuple]:
    """Keys (kind, product, subject, anchor, level, period, user) of these dues that are in the ledger already.
    A steady-state sweep finds the same stalled products every few minutes: one indexed read
    instead of thousands of INSERTs that would only conflict. `counts` receives, per (kind, product,
    subject, anchor, level, user), how many reminders that user already got."""
    found: set[tuple] = set()
    by_kind: dict[str, list[Due]] = {}
    for d in dues:
        by_kind.setdefault(d.kind, []).append(d)
    for kind, items in by_kind.items():
        for i in range(0, len(items), INSERT_CHUNK):
            chunk = items[i : i + INSERT_CHUNK]
            # (kind, product_id) is the prefix of uq_reminders_once: an index read of these products' ledger
            stmt = select(R.c.product_id, R.c.subject, R.c.anchor_at, R.c.level, R.c.period, R.c.user_id).where(
                R.c.kind == kind, R.c.product_id.in_(sorted({d.product_id for d in chunk}))
            )
            for row in session.execute(stmt):
                found.add((kind, *row))
                if counts is not None:
                    key = (kind, row[0], row[1], row[2], row[3], row[5])
                    counts[key] = counts.get(key, 0) + 1
    return found


def record(session: Session, settings: Settings, dues: list[Due], now: datetime, report: SweepReport) -> None:
    """Insert the reminder rows; for those that are new, the notification and the mail."""
    by_key = {(d.kind, d.product_id, d.subject, d.level, d.period): d for d in dues}
    got: dict[tuple, int] = {}
    recorded = _already_recorded(session, dues, got) if dues else set()
    rows = []
    for d in dues:
        for r in d.recipients:
            if (d.kind, d.product_id, d.subject, d.anchor_at, d.level, d.period, r.user_id) in recorded:
                continue
            rows.append(
                {
                    "kind": d.kind,
                    "product_id": d.product_id,
                    "subject": d.subject,
                    "anchor_at": d.anchor_at,
                    "level": d.level,
                    "period": d.period,
                    "user_id": r.user_id,
                    "organisation_id": d.organisation_id,
                    "due_at": d.due_at,
                    "created_at": now,
                    "mail_mode": r.email_mode,
                }
            )
    if not rows:
        return
    # one order for every sweep, so concurrent sweeps on PostgreSQL wait for each other instead of deadlocking;
    # ON CONFLICT DO NOTHING settles races with another sweep: only rows really inserted come back
    rows.sort(key=lambda r: (r["kind"], r["product_id"], r["subject"], r["level"], r["period"], r["user_id"]))
    returning = ("id", "kind", "product_id", "subject", "level", "period", "user_id")
    new = bulk_insert(session, R, rows, returning=returning, ignore_duplicates=True)
    if not new:
        return
    new.sort(key=lambda r: r.id)
    notifications, mails = [], []
    for row in new:
        d = by_key[(row.kind, row.product_id, row.subject, row.level, row.period)]
        rec = d.recipient(row.user_id)
        nth = got.get((d.kind, d.product_id, d.subject, d.anchor_at, d.level, rec.user_id), 0) + 1
        msg = d.message(rec.locale, settings.base_url, nth)
        both = {loc: d.message(loc, settings.base_url, nth) for loc in LOCALES}
        notifications.append(
            {
                "user_id": rec.user_id,
                "reminder_id": row.id,
                "product_id": d.product_id,
                "kind": d.notification_kind,
                "title": msg.title[:300],
                "body": msg.body,
                "link": msg.link,
                "created_at": now,
                "read_at": None,
                "texts": {loc: {"title": m.title[:300], "body": m.body} for loc, m in both.items()},
            }
        )
        if rec.email_mode == "single":
            mails.append(
                {
                    "dedupe_key": f"{MAIL_KEY}{row.id}",
                    "kind": "reminder",
                    "user_id": rec.user_id,
                    "to_address": rec.email,
                    "locale": rec.locale,
                    "subject": msg.subject[:300],
                    "body": msg.mail_body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                    "claim_token": None,
                    "claimed_at": None,
                    "sent_at": None,
                    "created_at": now,
                }
            )
        report.queued.append(
            Queued(
                row.id,
                d.notification_kind,
                d.product_id,
                d.info.product_name,
                d.subject,
                d.level,
                d.period,
                rec.email,
                rec.email_mode,
                d.info.state_label if isinstance(d.info, StallInfo) else None,
                nth,
            )
        )
    bulk_insert(session, N, notifications)
    bulk_insert(session, O, mails)
    # link each reminder to its mail in one set-based UPDATE (the mail's dedupe_key names the reminder)
    linked = [int(m["dedupe_key"][len(MAIL_KEY) :]) for m in mails]
    mail_of = select(O.c.id).where(O.c.dedupe_key == literal(MAIL_KEY) + cast(R.c.id, String(20))).scalar_subquery()
    for condition in in_ids(session, R.c.id, linked):
        session.execute(update(R).where(condition).values(outbox_id=mail_of))


# --- 4. digests --------------------------------------------------------------------------------
def inapplicable(session: Session, items: list) -> set[int]:
    """Reminder ids (items: id, kind, product_id, subject, anchor_at) that no longer apply: the product
    entered another state since a stall; the certificate (the subject, its code) was revoked or
    superseded (renewed, upgraded, re-evaluated) since its notice."""
    stall_pids = sorted({i.product_id for i in items if i.kind == "stall"})
    cert_codes = sorted({i.subject for i in items if i.kind == CERTIFICATE})
    current: dict[int, tuple[str, datetime]] = {}
    for k in range(0, len(stall_pids), INSERT_CHUNK):
        chunk = stall_pids[k : k + INSERT_CHUNK]
        for pid, state, entered in session.execute(
            select(Product.id, Product.state, Product.state_entered_at).where(Product.id.in_(chunk))
        ):
            current[pid] = (state, entered)
    standing: set[str] = set()  # codes of the certificates neither revoked nor superseded
    for k in range(0, len(cert_codes), INSERT_CHUNK):
        chunk = cert_codes[k : k + INSERT_CHUNK]
        standing.update(
            session.scalars(
                select(Certificate.code).where(
                    Certificate.code.in_(chunk), Certificate.revoked_on.is_(None), Certificate.superseded_on.is_(None)
                )
            )
        )

    def moved_on(i) -> bool:
        if i.kind == "stall":
            return current.get(i.product_id) != (i.subject, i.anchor_at)
        if i.kind == CERTIFICATE:
            return i.subject not in standing
        return False  # a move notice tells of something that happened: it always applies

    return {i.id for i in items if moved_on(i)}


def queue_digests(session: Session, settings: Settings, now: datetime, report: SweepReport) -> None:
    local = now.astimezone(ZoneInfo(settings.timezone))
    if local.hour < settings.digest_hour:
        return
    day = local.date()
    items = session.execute(
        select(R.c.id, R.c.kind, R.c.product_id, R.c.subject, R.c.anchor_at, R.c.user_id, N.c.title, N.c.link)
        .join(N, N.c.reminder_id == R.c.id)
        .where(R.c.mail_mode == "digest", R.c.outbox_id.is_(None), R.c.created_at <= now)
        .order_by(R.c.user_id, R.c.id)
    ).all()
    if not items:
        return
    gone = inapplicable(session, items)
    if gone:
        session.execute(update(R).where(R.c.id.in_(sorted(gone))).values(mail_mode="dropped"))
    per_user: dict[int, list] = {}
    for i in items:
        if i.id not in gone:
            per_user.setdefault(i.user_id, []).append(i)
    if not per_user:
        return
    users = {
        u.id: u
        for u in session.execute(
            select(User.id, User.email, User.locale).where(User.id.in_(sorted(per_user)), User.active.is_(True))
        )
    }
    stmt = insert_ignoring_duplicates(session, O).returning(O.c.id)
    for user_id, mine in sorted(per_user.items()):
        user = users.get(user_id)
        if user is None:
            continue
        locale = user.locale or "vi"
        subject, body = digest([(i.title, i.link) for i in mine], day, locale, settings.base_url)
        oid = session.execute(
            stmt,
            {
                "dedupe_key": f"digest:{user_id}:{day.isoformat()}",
                "kind": "digest",
                "user_id": user_id,
                "to_address": user.email,
                "locale": locale,
                "subject": subject[:300],
                "body": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        ).scalar()
        if oid is None:
            continue  # today's digest already went out; these wait for tomorrow's
        session.execute(
            update(R).where(R.c.id.in_([i.id for i in mine]), R.c.outbox_id.is_(None)).values(outbox_id=oid)
        )
        report.digests.append((user_id, len(mine)))


def cancel_inapplicable(session: Session, outbox_ids: list[int]) -> set[int]:
    """For delivery: single-reminder mails whose product has moved on are cancelled, not sent."""
    items = session.execute(
        select(R.c.id, R.c.kind, R.c.product_id, R.c.subject, R.c.anchor_at, R.c.outbox_id).where(
            R.c.outbox_id.in_(outbox_ids), R.c.mail_mode == "single"
        )
    ).all()
    gone = inapplicable(session, items)
    return {i.outbox_id for i in items if i.id in gone}


# --- the whole sweep ---------------------------------------------------------------------------
def queue(
    session: Session, registry: Registry, settings: Settings, now: datetime, report: SweepReport | None = None
) -> SweepReport:
    """Steps 1 to 4 in the caller's transaction (the caller commits)."""
    report = report or SweepReport(now=now)
    directory = Directory(session, now.astimezone(ZoneInfo(settings.timezone)).date())
    dues = stall_dues(session, registry, settings, now, directory, report)
    dues += certificate_dues(session, registry, settings, now, directory, report)
    record(session, settings, dues, now, report)
    queue_digests(session, settings, now, report)
    return report


def run_sweep(
    db: Database,
    registry: Registry,
    settings: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    send: bool = True,
    mailer_factory: MailerFactory | None = None,
) -> SweepReport:
    """One sweep as of `now` (default: the current time): queue in one transaction, then deliver.
    `dry_run` computes everything and rolls back; nothing is written or sent."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = SweepReport(now=now, dry_run=dry_run)
    with db.write_session() as session:
        session.begin()
        try:
            queue(session, registry, settings, now, report)
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
            return report
        session.commit()
    if send:
        report.delivery = deliver(
            db, settings, now=now, mailer_factory=mailer_factory, cancel_check=cancel_inapplicable
        )
    log.info(
        "sweep: %d stalled, %d new reminders, %s",
        report.stalled,
        len(report.queued),
        report.delivery.summary() if report.delivery else "no delivery",
    )
    return report


__all__ = ["SweepReport", "queue", "run_sweep"]
