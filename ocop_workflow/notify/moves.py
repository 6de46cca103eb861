"""Notices on every move: who must act next, and who waits for the outcome, are told at once.

`notify_move` is called by `services.products.advance` right after the history row is written, in
the same transaction: the move and its notices are committed together or not at all, so none is
lost and none is sent twice. Each notice goes through the reminders' own machinery:

* a `reminders` row of kind "move" (subject: the history event's id, anchor: the event's time,
  level 0, period 0): its unique key makes a second call for the same event write nothing, and the
  daily digest collects it like any reminder for users who chose a digest;
* a `notifications` row (the bell) with its text in both languages (`texts`), so a reader who
  switches language reads it in the new one;
* an outbox mail, only for users whose e-mail choice is one mail each ("single").

Who is told (never the person who moved):

* the people who must act next: active members of the organisation that owns the new state (the
  state's level, above the product's commune: `Directory.owner`) whose roles can take a step from it;
  a council's rating step is taken through a round run by the level's secretariat (the permission
  file's `notices.supervisors`), so for a rating state that is who is told, not every council member;
* on a return for revision, a council's result (rated, awaiting recognition, not recognised), a
  recognition or a withdrawal (any move back, into an awaiting state or into a final state): the
  commune's officers (`notices.supervisors` of the commune's level) and the producer's own accounts
  (`acts_for_producer`, only those of this product's producer);
* when a decision is signed (the step records it in the history row's `decision`): whoever drafted it.

Cheap by design, as every advance pays for it: one statement reads the commune's chain of
organisations with their members, then at most three bulk INSERTs (outbox, reminders, bell).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..engine import Registry, TransitionDef, WorkflowDefinition
from ..formats import format_date, format_number
from ..i18n import LOCALES, Text
from ..models import (
    MailOutbox,
    Notification,
    NotificationPreference,
    Product,
    RecognitionDecision,
    Reminder,
    User,
)
from ..reminders.messages import OPEN, absolute, footer, product_link
from ..reminders.recipients import CHAIN, Directory, Recipient
from .bulk import insert_ignoring_duplicates_for

KIND = "move"
MAIL_KEY = "move:"  # dedupe_key of a move notice's mail: move:<event id>:<user id>
SETTINGS_KEY = "ocop.settings"  # Session.info: the Settings notices are written with (links in mail)
ENABLED_KEY = "ocop.notify_moves"  # Session.info: False for history that tells nobody (the demo's past)

R, N, OUTBOX = Reminder.__table__, Notification.__table__, MailOutbox.__table__
SYSTEM = Text("Hệ thống", "The system")
# what a rating or signing step asks of people (neither is a button on the product page)
ADD_TO_ROUND = Text(
    "Đưa sản phẩm vào một đợt đánh giá của Hội đồng để chấm điểm",
    "Put the product in a council's evaluation round to score it",
)
DRAFT_DECISION = Text("Soạn quyết định công nhận", "Draft the recognition decision")
SIGN_DECISION = Text("Ký quyết định công nhận", "Sign the recognition decision")


@functools.cache
def default_settings() -> Settings:
    """The environment's settings, for callers that give none (the CLI, scripts)."""
    return Settings()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a state means for notices, worked out once per loaded definition and state."""

    definition: WorkflowDefinition  # kept, so the id it is filed under cannot be reused
    steps: tuple[tuple[Text, frozenset[str]], ...]  # each step from the state: its label, the roles that take it
    roles: frozenset[str]  # every role that takes one of them
    levels: frozenset[str]  # the levels the definition has
    awaiting: frozenset[str]  # the definition's awaiting-recognition states
    order: dict[str, int]  # the states' places in the definition (a move to an earlier one goes back)


_PLANS: dict[tuple[int, str], _Plan] = {}


def _plan(definition: WorkflowDefinition, state: str, supervisors: dict[str, tuple[str, ...]]) -> _Plan:
    key = (id(definition), state)
    known = _PLANS.get(key)
    if known is None or known.definition is not definition:
        level = definition.states[state].level
        steps: list[tuple[Text, frozenset[str]]] = []
        for t in definition.transitions_from(state):
            ends = definition.states[t.dest].final and t.rating is None and t.signs is None
            if ends:  # withdrawing is open at every step: it is no "next step" to tell of
                continue
            secretariat = frozenset(supervisors.get(level, ()))
            if t.rating is not None:  # taken by closing a round, which the level's secretariat runs
                todo = [(ADD_TO_ROUND, secretariat)]
            elif t.signs is not None:  # taken by signing a decision the secretariat drafts
                todo = [(DRAFT_DECISION, secretariat), (SIGN_DECISION, frozenset(t.roles))]
            else:
                todo = [(t.label, frozenset(t.roles))]
            steps.extend(item for item in todo if item not in steps)
        awaiting = frozenset(definition.recognition.awaiting.values()) if definition.recognition else frozenset()
        known = _PLANS[key] = _Plan(
            definition,
            tuple(steps),
            frozenset(r for _l, roles in steps for r in roles),
            frozenset(s.level for s in definition.states.values()),
            awaiting,
            {k: i for i, k in enumerate(definition.states)},
        )
    return known


def _acting_org(actor, commune_path: str, roles: tuple[str, ...]) -> str:
    """The name of the organisation the actor moved for: their membership over the product with the
    step's role, else any membership over it, else their first one."""
    memberships = list(getattr(actor, "memberships", ()) or ())
    over = [m for m in memberships if commune_path.startswith(m.organisation.path)]
    fitting = [m for m in over if m.role in roles] or over or memberships
    if not fitting:
        return ""
    return max(fitting, key=lambda m: len(m.organisation.path)).organisation.name


@functools.lru_cache(maxsize=1024)
def _points(score: float, locale: str) -> str:
    return format_number(score, locale)


@dataclass(frozen=True)
class MoveInfo:
    """What one notice says, in both languages."""

    product_id: int
    product_name: str
    commune_name: str
    step: Text
    state: Text
    by: str | None  # the actor's name (None: the system)
    org: str
    comment: str | None
    score: float | None
    star: int | None
    next_steps: tuple[Text, ...]
    decision: tuple[str, date | None, int | None] | None = None  # a signed decision: number, date, star

    def texts(self, base_url: str) -> dict[str, dict[str, str]]:
        """{"vi": {"title", "body", "subject", "mail"}, "en": {...}}."""
        return {loc: self.render(loc, base_url) for loc in LOCALES}

    def render(self, locale: str, base_url: str) -> dict[str, str]:
        en = locale.startswith("en")
        step, state, name = self.step.get(locale), self.state.get(locale), self.product_name
        who = self.by or SYSTEM.get(locale)
        if self.org:
            who += f" ({self.org})"
        place = f"#{self.product_id}, {self.commune_name}" if self.commune_name else f"#{self.product_id}"
        if en:
            title = f"“{name}”: {step}"
            lines = [f"{who} took the step “{step}” for the product “{name}” ({place}).", f"It is now at “{state}”."]
        else:
            title = f"«{name}»: {step}"
            lines = [
                f"{who} đã thực hiện bước «{step}» cho sản phẩm «{name}» ({place}).",
                f"Sản phẩm nay ở bước «{state}».",
            ]
        if self.score is not None:
            points = _points(self.score, locale)
            if self.star:
                lines.append(f"Score: {points} points, {self.star}★." if en else f"Điểm: {points}, {self.star} sao.")
            else:
                lines.append(f"Score: {points} points." if en else f"Điểm: {points}.")
        if self.decision is not None:
            number, signed_on, star = self.decision
            day = f" {'of' if en else 'ngày'} {format_date(signed_on)}" if signed_on else ""
            stars = (f", {star}★" if en else f", {star} sao") if star else ""
            what = "Recognition decision No." if en else "Quyết định công nhận số"
            lines.append(f"{what} {number}{day}{stars}.")
        if self.comment:
            lines.append(f"Comment: {self.comment}" if en else f"Ý kiến: {self.comment}")
        if self.next_steps:
            todo = "; ".join(t.get(locale) for t in self.next_steps)
            lines.append(f"What to do next: {todo}." if en else f"Việc cần làm tiếp: {todo}.")
        body = "\n".join(lines)
        link = product_link(self.product_id)
        url = absolute(base_url, link)
        mail = f"{body}\n\n{OPEN.get(locale).format(url=url)}\n\n{footer(locale, base_url)}\n"
        return {"title": title[:300], "body": body, "subject": f"[OCOP] {title}"[:300], "mail": mail}


_DRAFTER = (
    select(User.id, User.email, User.name, User.locale, NotificationPreference.email_mode)
    .select_from(RecognitionDecision.__table__)
    .join(User, User.id == RecognitionDecision.drafted_by_id)
    .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
    .where(RecognitionDecision.id == bindparam("decision_id", type_=Integer), User.active.is_(True))
)


def notify_move(
    session: Session,
    registry: Registry,
    settings: Settings | None,
    product,
    event,
    *,
    now: datetime,
    step: TransitionDef | None = None,
) -> int:
    """Tell who must know of `event` (the history row `advance` just wrote for `product`, a `Product`
    or what a move reads of it); returns the number of notices written (0 when all were already).
    `step` is the transition taken (default: the first one of the event's trigger from its state)."""
    if not session.info.get(ENABLED_KEY, True):
        return 0
    settings = settings or session.info.get(SETTINGS_KEY) or default_settings()
    definition = registry.get(event.workflow_key, event.workflow_version)
    if step is None:
        step = next(iter(definition.candidates(event.from_state, event.trigger)), None)
    policy = registry.policy
    state = definition.states[event.to_state]
    plan = _plan(definition, event.to_state, policy.supervisors)

    directory = Directory(session, now.astimezone(ZoneInfo(_zone(settings.timezone))).date())
    first = directory.load_chain(product.commune.path, _CHAIN_AND_NAMES, product_id=product.id, user_id=event.actor_id)
    commune = directory.by_id.get(product.commune.id)
    told = _recipients(session, directory, policy, definition, plan, product, event)
    told.pop(event.actor_id, None)
    if not told:
        return 0

    conn = session.connection()
    product_name, actor_name = (first.product_name, first.actor_name) if first is not None else (None, None)
    base = dict(
        product_id=product.id,
        product_name=product_name or f"#{product.id}",
        commune_name=commune.name if commune else "",
        step=step.label if step is not None else definition.state_label(event.to_state),
        state=state.label,
        by=actor_name,
        org=_acting_org(getattr(event, "by", None), product.commune.path, step.roles if step else ()),
        comment=event.comment,
        score=event.score,
        star=(event.data or {}).get("star") if event.score is not None else None,
        decision=_decision_line(event),
    )
    rendered: dict[tuple[Text, ...], dict[str, dict[str, str]]] = {}
    subject = str(event.id)
    users = sorted(told)
    mails, texts_of = [], {}
    for uid in users:
        rec, roles, _org = told[uid]
        todo = tuple(label for label, step_roles in plan.steps if roles & step_roles)
        texts = rendered.get(todo)
        if texts is None:
            texts = rendered[todo] = MoveInfo(**base, next_steps=todo).texts(settings.base_url)
        texts_of[uid] = texts
        if rec.email_mode == "single":
            mine = texts[rec.locale if rec.locale in texts else "vi"]
            mails.append(
                {
                    "dedupe_key": f"{MAIL_KEY}{event.id}:{uid}",
                    "kind": "reminder",
                    "user_id": uid,
                    "to_address": rec.email,
                    "locale": rec.locale,
                    "subject": mine["subject"],
                    "body": mine["mail"],
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    # the mail first: a second call for the same event conflicts on every key and writes nothing
    mail_of = {user_id: mail_id for mail_id, user_id in _insert(conn, OUTBOX, mails)}
    ledger = [
        {
            "kind": KIND,
            "product_id": product.id,
            "subject": subject,
            "anchor_at": event.at,
            "level": 0,
            "period": 0,
            "user_id": uid,
            "organisation_id": told[uid][2],
            "due_at": event.at,
            "created_at": now,
            "mail_mode": told[uid][0].email_mode,
            "outbox_id": mail_of.get(uid),
        }
        for uid in users
    ]
    new = _insert(conn, R, ledger)
    bell = []
    for reminder_id, uid in new:
        rec = told[uid][0]
        texts = texts_of[uid]
        mine = texts[rec.locale if rec.locale in texts else "vi"]
        bell.append(
            {
                "user_id": uid,
                "reminder_id": reminder_id,
                "product_id": product.id,
                "kind": KIND,
                "title": mine["title"],
                "body": mine["body"],
                "link": product_link(product.id),
                "created_at": now,
                "read_at": None,
                "texts": {loc: {"title": t["title"], "body": t["body"]} for loc, t in texts.items()},
            }
        )
    if bell:
        conn.execute(_INSERT_BELL, bell)
    return len(bell)


def _decision_line(event) -> tuple[str, date | None, int | None] | None:
    decision = (event.data or {}).get("decision")
    if not isinstance(decision, dict) or not decision.get("number"):
        return None
    try:
        signed_on = date.fromisoformat(decision.get("signed_on") or "")
    except ValueError:
        signed_on = None
    star = decision.get("star")
    return str(decision["number"]), signed_on, star if isinstance(star, int) else None


Told = dict[int, tuple[Recipient, frozenset[str], int | None]]  # user -> (recipient, roles, organisation)


def _recipients(session: Session, directory: Directory, policy, definition, plan: _Plan, product, event) -> Told:
    """Everyone a move tells, the actor included (the caller drops them)."""
    state = definition.states[event.to_state]
    commune = directory.by_id.get(product.commune.id)
    told: Told = {}
    if not state.final:
        owner = directory.owner(product.commune.id, state.level)
        for rec, roles in directory.members_with_roles(
            owner,
            plan.roles,
            producer_id=product.producer_id,
            acts_for_producer=policy.acts_for_producer,
        ):
            told[rec.user_id] = (rec, roles, owner.id)
    order = plan.order
    went_back = (
        order.get(event.to_state, 0) < order.get(event.from_state, 0) and not definition.states[event.from_state].final
    )
    if commune is not None and (state.final or event.to_state in plan.awaiting or went_back):
        for rec in directory.members(commune, policy.supervisors.get(commune.level, ())):
            told.setdefault(rec.user_id, (rec, frozenset(), commune.id))
        for rec, _roles in directory.members_with_roles(
            commune,
            policy.acts_for_producer,
            producer_id=product.producer_id,
            acts_for_producer=policy.acts_for_producer,
        ):
            told.setdefault(rec.user_id, (rec, frozenset(), commune.id))
    decision = (event.data or {}).get("decision")
    if isinstance(decision, dict) and decision.get("id"):
        for uid, email, name, locale, mode in session.execute(_DRAFTER, {"decision_id": decision["id"]}):
            told.setdefault(uid, (Recipient(uid, email, name, locale or "vi", mode or "single"), frozenset(), None))
    return told


# What a move reads of its product leaves out its name, and the actor's row may not be at hand: both
# come with the organisations and their members, in the same statement.
_CHAIN_AND_NAMES = CHAIN.add_columns(
    select(Product.name)
    .where(Product.id == bindparam("product_id", type_=Integer))
    .scalar_subquery()
    .label("product_name"),
    select(User.name).where(User.id == bindparam("user_id", type_=Integer)).scalar_subquery().label("actor_name"),
)
_INSERT_BELL = N.insert()
_STATEMENTS: dict[tuple[str, str], object] = {}


def _insert(conn, table, rows: list[dict]) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, user_id for a few rows, as one prebuilt statement per
    table and database (a notice has a handful of recipients: `bulk_insert`'s batching buys nothing)."""
    if not rows:
        return []
    key = (conn.dialect.name, table.name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = insert_ignoring_duplicates_for(conn.dialect.name, table).returning(
            table.c.id, table.c.user_id
        )
    if len(rows) == 1:
        return conn.execute(stmt, rows[0]).all()
    return conn.execute(stmt, rows).all()


@functools.cache
def _zone(name: str) -> str:
    ZoneInfo(name)
    return name


__all__ = ["ENABLED_KEY", "KIND", "SETTINGS_KEY", "MoveInfo", "default_settings", "notify_move"]
