"""A council member's score sheets (phiếu đánh giá): saved as drafts while they read, then submitted,
or a recusal (conflict of interest) with its reason.

Every value is checked against the criteria set of the product's group (`engine.criteria`): only
the options the set has, never above a criterion's maximum. A draft may be incomplete; a submitted
sheet answers every criterion. Members see only their own sheet until the product's scoring is
closed. A save names the version it was made from, so a save from a stale page (another tab, a
replayed request after a dropped connection) is refused instead of overwriting a newer one; saving
the very same answers again is harmless (the phone's retry after a lost reply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..engine import Registry
from ..engine.criteria import to_decimal
from ..errors import Conflict, InvalidData, PermissionDenied, StaleVersion
from ..i18n import Text
from ..models import Council, CouncilMember, EvaluationRound, Product, RoundProduct, ScoreSheet
from ..validation import check_text
from .access import Actor
from .authz import SCORE_SHEET, require
from .councils import member_of
from .rounds import _entry, current_fingerprint, current_fingerprints, get_visible_round, left_reason

MAX_REASON = 1000
_SHEET_CHANGED = Text(
    "Phiếu chấm này đã được lưu ở nơi khác (một thẻ hoặc máy khác) sau khi bạn mở nó; hãy tải lại phiếu",
    "This score sheet was saved elsewhere (another tab or device) after you opened it; reload the sheet",
)


@dataclass
class SheetView:
    """What the member's sheet page shows: the round, the product, the criteria and their own sheet."""

    round: EvaluationRound
    entry: RoundProduct
    product: Product
    criteria: Any  # engine.criteria.Sheet
    sheet: ScoreSheet | None
    seat: CouncilMember | None
    left: Text | None

    @property
    def editable(self) -> bool:
        return self.round.status == "open" and self.entry.status == "pending" and self.left is None


def _load(session: Session, registry: Registry, actor: Actor, round_id: int, product_id: int):
    found = get_visible_round(session, actor, round_id)
    entry = _entry(session, found.id, product_id)
    seat = member_of(found.council, actor.id)
    return found, entry, seat


def sheet_view(session: Session, registry: Registry, actor: Actor, round_id: int, product_id: int) -> SheetView:
    found, entry, seat = _load(session, registry, actor, round_id, product_id)
    require(actor, SCORE_SHEET, found.council, member=seat)
    own = next((s for s in entry.sheets if s.user_id == actor.id), None)
    left = None
    if entry.status == "pending":
        left = left_reason(entry, entry.product, current_fingerprint(session, actor.policy, entry.product_id))
    return SheetView(found, entry, entry.product, registry.criteria.get(entry.sheet_key), own, seat, left)


def _writable(session: Session, actor: Actor, found: EvaluationRound, entry: RoundProduct) -> None:
    if found.status == "draft":
        raise Conflict(Text("Đợt chưa mở để chấm điểm", "The round is not open for scoring yet"))
    if found.status == "closed" or entry.status == "closed":
        raise Conflict(
            Text(
                "Việc chấm điểm sản phẩm này đã kết thúc: không sửa phiếu được nữa",
                "Scoring of this product is closed: sheets can no longer be changed",
            )
        )
    if entry.status == "left":
        raise Conflict(Text("Sản phẩm đã rời đợt đánh giá", "The product has left the round"))
    why = left_reason(entry, entry.product, current_fingerprint(session, actor.policy, entry.product_id))
    if why is not None:
        raise Conflict(why)


def _scoring(session: Session, registry: Registry, actor: Actor, round_id: int, product_id: int) -> RoundProduct:
    """The round's entry a member writes a sheet for: a scoring seat, the round open, the product
    still the dossier added (what saving and recusing both require)."""
    found, entry, seat = _load(session, registry, actor, round_id, product_id)
    require(actor, SCORE_SHEET, found.council, member=seat)
    _writable(session, actor, found, entry)
    return entry


def _not_own_product(actor: Actor, product: Product) -> None:
    """Nobody scores a product made by a producer they act for (a conflict of interest by definition)."""
    if any(m.producer_id == product.producer_id for m in actor.memberships if m.producer_id is not None):
        raise PermissionDenied(
            Text(
                "Bạn là tài khoản của chủ thể làm ra sản phẩm này: không được chấm điểm, hãy xin không chấm",
                "Your account acts for this product's producer: you may not score it; declare a recusal",
            )
        )


def _own_sheet(session: Session, entry: RoundProduct, actor: Actor, expected_version: int | None) -> ScoreSheet:
    sheet = next((s for s in entry.sheets if s.user_id == actor.id), None)
    if sheet is None:
        if expected_version not in (None, 0):
            raise StaleVersion(expected_version, 0, _SHEET_CHANGED)
        sheet = ScoreSheet(entry=entry, round_product_id=entry.id, user_id=actor.id, answers={}, part_totals={})
        session.add(sheet)
    elif expected_version is not None and sheet.version != expected_version:
        raise StaleVersion(expected_version, sheet.version, _SHEET_CHANGED)
    return sheet


def save_sheet(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    product_id: int,
    answers: Any,
    *,
    submit: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ScoreSheet:
    """Save the member's answers ({criterion code: points}); `submit` requires every criterion."""
    entry = _scoring(session, registry, actor, round_id, product_id)
    _not_own_product(actor, entry.product)
    if not isinstance(answers, dict):
        raise InvalidData(
            Text("Phiếu chấm phải là bảng {mã tiêu chí: điểm}", "Answers must map criterion codes to points")
        )
    criteria = registry.criteria.get(entry.sheet_key)
    scored = criteria.score(answers, complete=submit)
    sheet = _own_sheet(session, entry, actor, expected_version)
    clean = {c.code: answers[c.code] for c in criteria.criteria if answers.get(c.code) not in (None, "")}
    sheet.answers = {k: float(to_decimal(v)) for k, v in clean.items()}  # "35,5" too: checked by score()
    sheet.part_totals = dict(scored.part_totals)
    sheet.total = scored.total
    sheet.failed_mandatory = list(scored.failed_mandatory)
    sheet.recusal_reason = None
    sheet.status = "submitted" if submit else "draft"
    at = now or datetime.now(UTC)
    sheet.updated_at = at
    sheet.submitted_at = at if submit else None
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(expected_version, None, _SHEET_CHANGED) from None
    return sheet


def recuse(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    product_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ScoreSheet:
    """Declare a conflict of interest: the member is left out of this product's scoring."""
    entry = _scoring(session, registry, actor, round_id, product_id)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidData(Text("Cần ghi lý do xin không chấm", "A reason for the recusal is required"))
    check_text(reason, Text("Lý do", "Reason"), multiline=True)
    if len(reason) > MAX_REASON:
        raise InvalidData(Text(f"Lý do dài quá {MAX_REASON} ký tự", f"The reason is over {MAX_REASON} characters"))
    sheet = _own_sheet(session, entry, actor, expected_version)
    sheet.status, sheet.recusal_reason = "recused", reason
    sheet.answers, sheet.part_totals, sheet.total, sheet.failed_mandatory = {}, {}, None, []
    sheet.updated_at = now or datetime.now(UTC)
    sheet.submitted_at = None
    session.flush()
    return sheet


@dataclass
class QueueItem:
    round: EvaluationRound
    entry: RoundProduct
    product: Product
    sheet: ScoreSheet | None


def member_queue(session: Session, actor: Actor) -> list[QueueItem]:
    """ "Sản phẩm chờ chấm": the pending products of the open rounds where the actor holds a scoring
    seat, with the state of their own sheet, by round."""
    positions = actor.policy.council.score
    rows = session.scalars(
        select(RoundProduct)
        .join(EvaluationRound, EvaluationRound.id == RoundProduct.round_id)
        .join(CouncilMember, CouncilMember.council_id == EvaluationRound.council_id)
        .where(
            CouncilMember.user_id == actor.id,
            CouncilMember.position.in_(sorted(positions)),
            EvaluationRound.status == "open",
            RoundProduct.status == "pending",
        )
        .options(
            selectinload(RoundProduct.round).selectinload(EvaluationRound.council).selectinload(Council.organisation),
            selectinload(RoundProduct.product),
            selectinload(RoundProduct.sheets),
        )
        .order_by(EvaluationRound.meeting_date, RoundProduct.round_id, RoundProduct.id)
    )
    rows = list(rows)
    prints = current_fingerprints(session, actor.policy, [e.product_id for e in rows])
    items = []
    for entry in rows:
        if left_reason(entry, entry.product, prints[entry.product_id]):
            continue  # returned for revision, withdrawn or changed: nothing to score any more
        own = next((s for s in entry.sheets if s.user_id == actor.id), None)
        items.append(QueueItem(entry.round, entry, entry.product, own))
    return items


__all__ = ["QueueItem", "SheetView", "member_queue", "recuse", "save_sheet", "sheet_view"]
