"""Evaluation rounds (đợt đánh giá): a council's meeting over the products its secretariat adds.

The life of a round, as Decision 148/QĐ-TTg (Art. 8 and the councils' rules) and 1489/QĐ-TTg have it:

1. *draft*: the secretariat of the council's level creates the round (name, meeting date) and adds
   products that are in that level's review state. Adding checks that the dossier is complete and
   records its fingerprint: the members score exactly that dossier.
2. *open*: the dossiers go to the members, at least one working day before the meeting (148: "gửi
   hồ sơ đến thành viên Hội đồng trước ít nhất 01 ngày làm việc"); each member fills a score sheet
   per product (`services.sheets`).
3. each product is *closed* by the council's secretary once the quorum of members has submitted:
   the result is the average of the submitted totals, and the level's rating step fires with it
   under the round's name (`products.advance(..., verdict=...)`). A product that changed after it
   was added (returned for revision, withdrawn, its dossier replaced) has *left* the round.
4. *closed*: the round ends when no product is still being scored; its minutes (DOCX) go into each
   closed product's dossier.

The average (written rule): the exact mean of the submitted totals, rounded half-up to the
definition's `evaluation.decimals` (2): 69.995 is 70.00. A mandatory criterion failed on more than
half of the submitted sheets caps the star at the sheet's `mandatory_rule.caps_star_at`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from ..engine import Registry, TransitionDef, WorkflowDefinition
from ..errors import Conflict, InvalidData, NotFound
from ..i18n import Text
from ..models import Council, CouncilMember, Document, EvaluationRound, Product, Rating, RoundProduct, ScoreSheet
from ..reminders.calendar import DEFAULT_TZ, WorkingDays
from ..validation import clean_line, valid_id
from .access import Actor, get_visible_product
from .authz import CLOSE_SCORING, require
from .councils import get_visible_council, member_of, scoring_members, visible_councils
from .products import Verdict, advance, current_documents, definition_of, dossier_fingerprint

MAX_ROUND_NAME = 200
VN_TZ = ZoneInfo(DEFAULT_TZ)
OUTCOMES = ("recognised", "forwarded", "not_recognised", "assessed")
OUTCOME_LABELS = {
    "recognised": Text("Công nhận ở cấp này", "Recognised at this level"),
    "forwarded": Text("Đề nghị cấp trên", "Forwarded to the next level"),
    "not_recognised": Text("Không công nhận", "Not recognised"),
    "assessed": Text("Đã đánh giá (báo cáo của xã)", "Assessed (the commune's report)"),
}
STATUS_LABELS = {
    "draft": Text("Đang chuẩn bị", "Draft"),
    "open": Text("Đang chấm điểm", "Open for scoring"),
    "closed": Text("Đã kết thúc", "Closed"),
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def local_today(now: datetime | None = None) -> date:
    """Today in Vietnam: a meeting date is a local date (at 01:30 on the 3rd in Hà Nội it is still
    the 2nd in UTC)."""
    return _now(now).astimezone(VN_TZ).date()


def _earliest_meeting(today: date) -> date:
    """Dossiers reach the members at least one working day before the meeting (148's councils' rules)."""
    return WorkingDays().add(today, 1)


def _round_not_found(round_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy đợt đánh giá #{round_id}", f"Evaluation round #{round_id} not found"))


def get_visible_round(session: Session, actor: Actor, round_id: object) -> EvaluationRound:
    """The round if the actor may see its council (scope or seat); NotFound otherwise."""
    if not valid_id(round_id):
        raise _round_not_found(round_id)
    found = session.scalars(
        select(EvaluationRound)
        .join(Council, Council.id == EvaluationRound.council_id)
        .where(EvaluationRound.id == round_id, visible_councils(actor))
        .options(
            selectinload(EvaluationRound.council).selectinload(Council.members).selectinload(CouncilMember.user),
            selectinload(EvaluationRound.council).selectinload(Council.organisation),
        )
    ).first()
    if found is None:
        raise _round_not_found(round_id)
    return found


def list_rounds(session: Session, actor: Actor, *, status: str | None = None) -> list[EvaluationRound]:
    stmt = (
        select(EvaluationRound)
        .join(Council, Council.id == EvaluationRound.council_id)
        .where(visible_councils(actor))
        .options(selectinload(EvaluationRound.council).selectinload(Council.organisation))
        .order_by(EvaluationRound.meeting_date.desc(), EvaluationRound.id.desc())
    )
    if status is not None:
        stmt = stmt.where(EvaluationRound.status == status)
    return list(session.scalars(stmt))


def create_round(
    session: Session, actor: Actor, council_id: int, *, name: str, meeting_date: date, today: date | None = None
) -> EvaluationRound:
    council = get_visible_council(session, actor, council_id)
    require(actor, "run_rounds", council)
    name = clean_line(name, Text("Tên đợt đánh giá", "Round name"), max_length=MAX_ROUND_NAME)
    if not isinstance(meeting_date, date):
        raise InvalidData(Text("Cần ngày họp hội đồng", "The meeting date is required"))
    if not council.is_valid(meeting_date):
        raise InvalidData(
            Text(
                "Ngày họp nằm ngoài thời hạn hiệu lực của hội đồng",
                "The meeting date lies outside the council's period of validity",
            )
        )
    found = EvaluationRound(council=council, name=name, meeting_date=meeting_date, status="draft")
    found.created_by_id = actor.id
    session.add(found)
    session.flush()
    return found


# --- what a round holds -----------------------------------------------------------------------------


def review_state_of(registry: Registry, definition: WorkflowDefinition, level: str) -> str | None:
    """The state in which a council of `level` holds the dossier under this definition."""
    policy = registry.policy
    for state in definition.states.values():
        if state.level == level and not state.final and policy.phase(definition.key, state) == "review":
            return state.key
    return None


def rating_transitions(definition: WorkflowDefinition, state: str) -> list[TransitionDef]:
    return [t for t in definition.transitions_from(state) if t.rating is not None]


def dossier_requirements(definition: WorkflowDefinition, state: str, group: str | None, kind: str | None) -> list[str]:
    """The documents a dossier in review state `state` must hold: those the steps into it require,
    and, for a review reached from an earlier review (district → province), those of that one too."""
    needed: list[str] = []
    seen: set[str] = set()

    def walk(target: str) -> None:
        if target in seen:
            return
        seen.add(target)
        for t in definition.transitions:
            if t.dest != target and t.on_upgrade != target:
                continue
            if t.documents is not None:
                needed.extend(d for d in t.documents.required_for(group, kind) if d not in needed)
            for source in t.sources:
                s = definition.states.get(source)
                if s is not None and s.level != "commune" and source != target:
                    walk(source)

    walk(state)
    return needed


def _criteria_set(definition: WorkflowDefinition) -> str:
    evaluation = getattr(definition, "evaluation", None)
    return getattr(evaluation, "criteria_set", None) or definition.key


def sheet_for_product(registry: Registry, definition: WorkflowDefinition, product: Product, level: str):
    """The scoring sheet of the product's group (the commune's sheet for a commune assessment)."""
    kind = "commune" if level == "commune" else "council"
    return registry.criteria.sheet_for(_criteria_set(definition), product.product_group, None, kind=kind)


def scored_fingerprint(policy, docs: list) -> str:
    """The fingerprint of the dossier the members score: the current documents without the records
    councils file about it (`councils.records` in the permission file: a district's minutes filed
    after the province took the product into its round do not change what the province scores)."""
    records = policy.council.records if policy.council else frozenset()
    return dossier_fingerprint([d for d in docs if d.doc_type not in records])


def current_fingerprint(session: Session, policy, product_id: int) -> str:
    return scored_fingerprint(policy, current_documents(session, product_id))


def current_fingerprints(session: Session, policy, product_ids: list[int]) -> dict[int, str]:
    """`current_fingerprint` of many products with one query (a round page of 100 products)."""
    if not product_ids:
        return {}
    docs: dict[int, list[Document]] = {pid: [] for pid in product_ids}
    stmt = select(Document).where(Document.product_id.in_(sorted(set(product_ids))), Document.current.is_(True))
    for doc in session.scalars(stmt):
        docs[doc.product_id].append(doc)
    return {pid: scored_fingerprint(policy, found) for pid, found in docs.items()}


LEFT_REASONS = {
    "left_review": Text(
        "Sản phẩm đã rời bước thẩm định (trả lại để bổ sung hoặc rút hồ sơ)",
        "The product has left the review (returned for revision or withdrawn)",
    ),
    "dossier_changed": Text(
        "Hồ sơ đã thay đổi sau khi đưa vào đợt: thành viên phải chấm hồ sơ mới trong một đợt khác",
        "The dossier changed after it was added: members must score the new dossier in another round",
    ),
}


def left_code(entry: RoundProduct, product: Product, fingerprint: str | None) -> str | None:
    """Why a pending product has left its round, as a key of LEFT_REASONS (None while it is still
    the dossier added). Stored as the key, so every reader gets it in their own language."""
    if product.state != entry.review_state:
        return "left_review"
    if fingerprint is not None and fingerprint != entry.dossier_fingerprint:
        return "dossier_changed"
    return None


def left_reason(entry: RoundProduct, product: Product, fingerprint: str | None) -> Text | None:
    code = left_code(entry, product, fingerprint)
    return LEFT_REASONS[code] if code else None


def stored_left_reason(entry: RoundProduct) -> Text | None:
    """The reason recorded when the round closed (older rows may hold text: shown as it is)."""
    if entry.left_reason is None:
        return None
    return LEFT_REASONS.get(entry.left_reason) or Text(entry.left_reason, entry.left_reason)


def _entry(session: Session, round_id: int, product_id: object) -> RoundProduct:
    if not valid_id(product_id):
        raise NotFound(Text(f"Không có sản phẩm #{product_id} trong đợt", f"No product #{product_id} in this round"))
    entry = session.scalars(
        select(RoundProduct)
        .where(RoundProduct.round_id == round_id, RoundProduct.product_id == product_id)
        .options(selectinload(RoundProduct.product).selectinload(Product.producer), selectinload(RoundProduct.sheets))
    ).first()
    if entry is None:
        raise NotFound(Text(f"Không có sản phẩm #{product_id} trong đợt", f"No product #{product_id} in this round"))
    return entry


def _not_closed(found: EvaluationRound) -> None:
    if found.status == "closed":
        raise Conflict(Text(f"Đợt «{found.name}» đã kết thúc", f"The round “{found.name}” is closed"))


def add_product(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    product_id: int,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> RoundProduct:
    """Put a product in a round: it must lie under the council's organisation, be in the level's
    review state with a complete dossier, and not be in another round's scoring."""
    found = get_visible_round(session, actor, round_id)
    council = found.council
    require(actor, "run_rounds", council)
    _not_closed(found)
    if found.status == "open" and found.meeting_date < _earliest_meeting(today or local_today(now)):
        raise Conflict(
            Text(
                f"Đợt đã mở và họp ngày {found.meeting_date:%d/%m/%Y}: hồ sơ thêm bây giờ không đến thành viên "
                "trước ít nhất 01 ngày làm việc; hãy đưa sản phẩm vào đợt sau",
                f"The round is open and meets on {found.meeting_date:%d/%m/%Y}: a dossier added now would not reach "
                "the members one working day before; put the product in a later round",
            )
        )
    product = get_visible_product(session, actor, product_id)
    if not product.commune.path.startswith(council.organisation.path):
        raise NotFound(Text(f"Không tìm thấy sản phẩm #{product_id}", f"Product #{product_id} not found"))
    definition = definition_of(registry, product)
    _on_latest_version(registry, definition, product)
    state = review_state_of(registry, definition, council.level)
    if state is None:
        level = registry.catalogue.levels.get(council.level, Text(council.level, council.level))
        raise Conflict(
            Text(
                f"Theo quy trình «{definition.title.vi}», sản phẩm «{product.name}» không qua hội đồng cấp "
                f"{level.vi.lower()}",
                f"Under “{definition.title.en}” the product “{product.name}” is not evaluated by a "
                f"{level.en.lower()} council",
            )
        )
    if product.state != state:
        where = definition.state_label(state)
        raise Conflict(
            Text(
                f"Sản phẩm «{product.name}» không ở bước «{where.vi}» nên hội đồng này chưa chấm được",
                f"The product “{product.name}” is not at “{where.en}”, so this council cannot score it",
            )
        )
    docs = current_documents(session, product.id)
    have = {d.doc_type for d in docs}
    missing = [
        d
        for d in dossier_requirements(definition, state, product.product_group, product.producer.kind)
        if d not in have
    ]
    if missing:
        labels = [registry.catalogue.document_types[d] for d in missing]
        raise InvalidData(
            Text(
                "Hồ sơ chưa đủ để chấm: thiếu " + ", ".join(f"«{t.vi}»" for t in labels),
                "The dossier is not complete enough to score: missing " + ", ".join(f"“{t.en}”" for t in labels),
            )
        )
    busy = session.scalars(
        select(RoundProduct)
        .join(EvaluationRound, EvaluationRound.id == RoundProduct.round_id)
        .where(
            RoundProduct.product_id == product.id,
            RoundProduct.status == "pending",
            RoundProduct.review_state == state,
            RoundProduct.round_id != found.id,
        )
    ).first()
    if busy is not None and left_reason(busy, product, scored_fingerprint(actor.policy, docs)) is None:
        raise Conflict(
            Text(
                f"Sản phẩm «{product.name}» đang được chấm trong đợt #{busy.round_id}",
                f"The product “{product.name}” is being scored in round #{busy.round_id}",
            )
        )
    sheet = sheet_for_product(registry, definition, product, council.level)
    fingerprint = scored_fingerprint(actor.policy, docs)
    entry = session.scalars(
        select(RoundProduct).where(RoundProduct.round_id == found.id, RoundProduct.product_id == product.id)
    ).first()
    if entry is not None:
        if entry.status == "pending" and left_reason(entry, product, fingerprint) is None:
            raise Conflict(Text("Sản phẩm đã có trong đợt này", "The product is already in this round"))
        if entry.status == "closed":
            raise Conflict(Text("Sản phẩm đã được chấm xong trong đợt này", "The product was already closed here"))
        # back after a return for revision: the sheets scored the old dossier and no longer count
        for old in list(entry.sheets):
            session.delete(old)
        entry.status, entry.left_reason = "pending", None
    else:
        entry = RoundProduct(round=found, product_id=product.id, product=product)
        session.add(entry)
    entry.review_state = state
    entry.sheet_key = sheet.key
    entry.dossier_fingerprint = fingerprint
    entry.added_by_id = actor.id
    entry.added_at = _now(now)
    session.flush()
    return entry


def remove_product(session: Session, actor: Actor, round_id: int, product_id: int) -> None:
    found = get_visible_round(session, actor, round_id)
    require(actor, "run_rounds", found.council)
    _not_closed(found)
    entry = _entry(session, found.id, product_id)
    if entry.status == "closed":
        raise Conflict(
            Text("Sản phẩm đã được chấm xong: không rút khỏi đợt được", "A closed product stays in its round")
        )
    session.delete(entry)
    session.flush()


def open_round(
    session: Session, actor: Actor, round_id: int, *, today: date | None = None, now: datetime | None = None
) -> EvaluationRound:
    """Send the dossiers to the members: from now they score. The meeting must be at least one
    working day away (148's councils' rules: dossiers reach members ≥ 1 working day before)."""
    found = get_visible_round(session, actor, round_id)
    require(actor, "run_rounds", found.council)
    if found.status != "draft":
        raise Conflict(Text("Đợt này đã được mở", "This round is already open"))
    today = today or local_today(now)
    earliest = _earliest_meeting(today)
    if found.meeting_date < earliest:
        raise InvalidData(
            Text(
                f"Hồ sơ phải đến thành viên ít nhất 01 ngày làm việc trước cuộc họp: ngày họp sớm nhất là "
                f"{earliest:%d/%m/%Y}",
                f"Dossiers must reach the members at least one working day before the meeting: the earliest "
                f"meeting date is {earliest:%d/%m/%Y}",
            )
        )
    if not any(e.status == "pending" for e in found.entries):
        raise InvalidData(Text("Đợt chưa có sản phẩm nào", "The round has no products yet"))
    if not scoring_members(actor, found.council):
        raise InvalidData(Text("Hội đồng chưa có thành viên chấm điểm", "The council has no scoring members"))
    found.status, found.opened_at = "open", _now(now)
    session.flush()
    return found


# --- closing a product ------------------------------------------------------------------------------


def quorum_needed(members: int, quorum: Fraction) -> int:
    """Submitted sheets needed for `members` scoring members (two thirds of 9 is 6; of 7, 5)."""
    return max(1, math.ceil(Fraction(members) * quorum))


def average_of(totals: list[float], decimals: int = 2) -> float:
    """The exact mean of the totals, rounded half-up to `decimals` (the written rounding rule)."""
    if not totals:
        raise ValueError("no totals to average")
    exact = sum(Decimal(str(t)) for t in totals) / Decimal(len(totals))
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def star_cap_of(failed: list[list[str]], caps_star_at: int | None) -> int | None:
    """The cap a mandatory criterion sets when the majority of submitted sheets fail it."""
    if caps_star_at is None or not failed:
        return None
    counts: dict[str, int] = {}
    for codes in failed:
        for code in set(codes):
            counts[code] = counts.get(code, 0) + 1
    return caps_star_at if any(2 * n > len(failed) for n in counts.values()) else None


def _quorum(definition: WorkflowDefinition) -> Fraction:
    evaluation = getattr(definition, "evaluation", None)
    return getattr(evaluation, "quorum", None) or Fraction(2, 3)


def _decimals(definition: WorkflowDefinition) -> int:
    evaluation = getattr(definition, "evaluation", None)
    return getattr(evaluation, "decimals", 2)


@dataclass(frozen=True)
class Tally:
    """What a product's sheets add up to now (the secretary's view before closing)."""

    members: int
    needed: int
    submitted: list[ScoreSheet]
    recused: list[ScoreSheet]
    drafts: list[ScoreSheet]

    @property
    def quorum_met(self) -> bool:
        return len(self.submitted) >= self.needed


def tally(actor: Actor, council: Council, entry: RoundProduct, definition: WorkflowDefinition) -> Tally:
    seats = {m.user_id for m in scoring_members(actor, council)}
    sheets = [s for s in entry.sheets if s.user_id in seats]
    return Tally(
        members=len(seats),
        needed=quorum_needed(len(seats), _quorum(definition)),
        submitted=[s for s in sheets if s.status == "submitted"],
        recused=[s for s in sheets if s.status == "recused"],
        drafts=[s for s in sheets if s.status == "draft"],
    )


def _on_latest_version(registry: Registry, definition, product: Product) -> None:
    """A council's result is recorded under the newest version of the product's definition: an older
    version may lack what the result now sets off (version 2's recognition decision and certificate,
    issue #10), so a product still on it is moved first (`ocop workflow migrate`), not rated on it."""
    latest = registry.latest(definition.key)
    if latest.version != definition.version:
        raise Conflict(
            Text(
                f"Sản phẩm «{product.name}» còn theo {definition.ident}; đã có {latest.ident}. Hãy chuyển các sản "
                f"phẩm sang phiên bản mới (ocop workflow migrate --from {definition.key} --to {latest.key} --apply) "
                "rồi chấm điểm.",
                f"The product “{product.name}” still follows {definition.ident}; {latest.ident} exists. Move the "
                f"products to the new version (ocop workflow migrate --from {definition.key} --to {latest.key} "
                "--apply), then score it.",
            )
        )


def close_product(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    product_id: int,
    *,
    now: datetime | None = None,
) -> RoundProduct:
    """The secretary closes a product's scoring: with the quorum met, the average of the submitted
    totals is the council's result and the level's rating step fires with it. Exactly one of two
    secretaries closing at once wins: the claim is one conditional UPDATE (pending → closed)."""
    found = get_visible_round(session, actor, round_id)
    council = found.council
    require(actor, CLOSE_SCORING, council, member=member_of(council, actor.id))
    if found.status != "open":
        raise Conflict(
            Text("Đợt chưa mở để chấm điểm", "The round is not open for scoring")
            if found.status == "draft"
            else Text(f"Đợt «{found.name}» đã kết thúc", f"The round “{found.name}” is closed")
        )
    entry = _entry(session, found.id, product_id)
    if entry.status != "pending":
        raise Conflict(_already(entry))
    product = entry.product
    why = left_reason(entry, product, current_fingerprint(session, actor.policy, product.id))
    if why is not None:
        raise Conflict(why)
    definition = definition_of(registry, product)
    _on_latest_version(registry, definition, product)
    counted = tally(actor, council, entry, definition)
    if not counted.quorum_met:
        raise Conflict(
            Text(
                f"Chưa đủ số thành viên chấm điểm: đã nộp {len(counted.submitted)}/{counted.members} phiếu, "
                f"cần ít nhất {counted.needed}",
                f"The quorum is not met: {len(counted.submitted)} of {counted.members} members have submitted, "
                f"at least {counted.needed} are needed",
            )
        )
    at = _now(now)
    claimed = session.execute(
        update(RoundProduct)
        .where(RoundProduct.id == entry.id, RoundProduct.status == "pending")
        .values(status="closed", closed_by_id=actor.id, closed_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.refresh(entry)
        raise Conflict(_already(entry))
    average = average_of([s.total for s in counted.submitted], _decimals(definition))
    sheet = registry.criteria.get(entry.sheet_key)
    rule = getattr(sheet, "mandatory_rule", None)
    cap = star_cap_of([list(s.failed_mandatory or []) for s in counted.submitted], getattr(rule, "caps_star_at", None))
    present = sorted(s.user_id for s in counted.submitted)
    recused = sorted(s.user_id for s in counted.recused)
    values: dict = {"average": average, "star_cap": cap, "present": present, "recused": recused}
    steps = rating_transitions(definition, entry.review_state)
    if steps:
        move = advance(
            session,
            registry,
            product.id,
            steps[0].trigger,
            actor,
            verdict=Verdict(
                round_id=found.id,
                round_name=found.name,
                council_id=council.id,
                organisation_id=council.organisation_id,
                score=average,
                star_cap=cap,
                members_present=tuple(present),
                members_recused=tuple(recused),
            ),
            now=at,
        )
        # this council's own rating row (a central council below 90 leaves a second, final row: the
        # province's recognition, which stands)
        rating = session.execute(
            select(Rating.star, Rating.final).where(Rating.event_id == move.id, Rating.level == council.level)
        ).first()
        star = rating.star if rating else None
        # a result that waits for a recognition decision (issue #10) stands at this council: not forwarded
        awaiting = definition.recognition is not None and move.to_state in definition.recognition.awaiting.values()
        final_state = definition.states[move.to_state].final or awaiting
        if not final_state:
            outcome = "forwarded"
        elif rating is not None and rating.final and rating.star >= 3:
            outcome = "recognised"
        else:
            outcome = "not_recognised"
        values.update(star=star, outcome=outcome, to_state=move.to_state, event_id=move.id)
    else:
        values.update(outcome="assessed", to_state=product.state)
    session.execute(
        update(RoundProduct)
        .where(RoundProduct.id == entry.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(entry)
    session.flush()
    return entry


def _already(entry: RoundProduct) -> Text:
    if entry.status == "closed":
        return Text("Sản phẩm này đã được kết thúc chấm điểm", "This product's scoring is already closed")
    return Text("Sản phẩm đã rời đợt đánh giá", "The product has left the round")


def close_round(
    session: Session, registry: Registry, actor: Actor, round_id: int, *, now: datetime | None = None
) -> EvaluationRound:
    """End the round once no product is still being scored (those that left are recorded as left)."""
    found = get_visible_round(session, actor, round_id)
    council = found.council
    require(actor, CLOSE_SCORING, council, member=member_of(council, actor.id))
    if found.status == "closed":
        raise Conflict(Text(f"Đợt «{found.name}» đã kết thúc", f"The round “{found.name}” is already closed"))
    if found.status != "open":
        raise Conflict(Text("Đợt chưa mở để chấm điểm", "The round is not open for scoring"))
    still: list[str] = []
    pending = [e for e in found.entries if e.status == "pending"]
    prints = current_fingerprints(session, actor.policy, [e.product_id for e in pending])
    for entry in pending:
        product = session.get(Product, entry.product_id)
        code = left_code(entry, product, prints[product.id])
        if code is None:
            still.append(product.name)
        else:
            entry.status, entry.left_reason = "left", code
    if still:
        raise Conflict(
            Text(
                f"Còn {len(still)} sản phẩm chưa kết thúc chấm điểm: " + ", ".join(still[:5]),
                f"{len(still)} products are still being scored: " + ", ".join(still[:5]),
            )
        )
    found.status, found.closed_at = "closed", _now(now)
    session.flush()
    return found


# --- reading a round --------------------------------------------------------------------------------


@dataclass
class EntryView:
    entry: RoundProduct
    product: Product
    left: Text | None
    tally: Tally
    sheets_visible: bool  # members' sheets are shown once the product's scoring is closed


@dataclass
class RoundView:
    round: EvaluationRound
    council: Council
    entries: list[EntryView] = field(default_factory=list)
    seat: CouncilMember | None = None
    can_run: bool = False
    can_close: bool = False


def round_view(session: Session, registry: Registry, actor: Actor, round_id: int) -> RoundView:
    """The round page: its council, its products with who has scored what (not the marks: members do
    not see each other's sheets until a product is closed), the quorum, and what the actor may do."""
    from .authz import can

    found = get_visible_round(session, actor, round_id)
    council = found.council
    seat = member_of(council, actor.id)
    entries = list(
        session.scalars(
            select(RoundProduct)
            .where(RoundProduct.round_id == found.id)
            .options(
                selectinload(RoundProduct.product).selectinload(Product.producer),
                selectinload(RoundProduct.product).selectinload(Product.commune),
                selectinload(RoundProduct.sheets).selectinload(ScoreSheet.user),
            )
            .order_by(RoundProduct.id)
        )
    )
    view = RoundView(
        found,
        council,
        seat=seat,
        can_run=can(actor, "run_rounds", council),
        can_close=can(actor, CLOSE_SCORING, council, member=seat),
    )
    prints = current_fingerprints(session, actor.policy, [e.product_id for e in entries if e.status == "pending"])
    for entry in entries:
        product = entry.product
        left = None
        if entry.status == "pending":
            left = left_reason(entry, product, prints[product.id])
        elif entry.status == "left":
            left = stored_left_reason(entry)
        definition = definition_of(registry, product)
        view.entries.append(
            EntryView(entry, product, left, tally(actor, council, entry, definition), entry.status == "closed")
        )
    return view


__all__ = [
    "OUTCOMES",
    "OUTCOME_LABELS",
    "STATUS_LABELS",
    "EntryView",
    "RoundView",
    "Tally",
    "add_product",
    "average_of",
    "close_product",
    "close_round",
    "create_round",
    "dossier_requirements",
    "get_visible_round",
    "LEFT_REASONS",
    "left_code",
    "left_reason",
    "local_today",
    "stored_left_reason",
    "list_rounds",
    "open_round",
    "quorum_needed",
    "rating_transitions",
    "remove_product",
    "review_state_of",
    "round_view",
    "sheet_for_product",
    "star_cap_of",
    "tally",
]
