"""Recognition decisions (quyết định công nhận): drafted by the recognising level's secretariat, signed
by the chair of that level's People's Committee; signing moves every listed product on and issues
its certificate (issue #10).

Decision 148/QĐ-TTg, Phụ lục II: after the council's result, the People's Committee of the level that
recognises the star decides (148: district 3★, province 4★, ministry 5★; 1489: province 3★-4★, ministry
5★). Which level that is, and the state a product waits in for it, are the definition's `recognition`
block, never this code. The certificate rules (numbers, validity, superseding) are services.certificates.

Signing is all or nothing: one product that left the awaiting state (returned for revision, withdrawn)
refuses the whole signature with the list, and nothing is written; the secretariat takes it out of the
draft first. Web, API and CLI sign through `exports.attach.sign_and_file_decision`, which also files the
DOCX in every listed product's dossier, in the same transaction.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..config import Settings
from ..engine import Registry
from ..errors import Conflict, InvalidData, NotFound, StaleVersion
from ..i18n import Text
from ..models import (
    Certificate,
    DecisionProduct,
    EvaluationRound,
    Organisation,
    Product,
    Rating,
    RecognitionDecision,
    RoundProduct,
)
from ..validation import clean_line, valid_id
from .access import Actor
from .authz import require
from .certificates import (
    add_months,
    end_certificate,
    format_for,
    held_certificate,
    local_day,
    next_code,
    province_of,
)
from .listing import get_visible_organisation
from .products import Recognised, advance, org_at_level

SIGN_TRIGGER = "recognise"
MAX_TITLE = 300
MAX_NUMBER = 40
STATUS_LABELS = {
    "draft": Text("Dự thảo", "Draft"),
    "signed": Text("Đã ký", "Signed"),
}
# The signer's title printed under the signature, by level (a setting a signer may override).
SIGNER_TITLES = {
    "district": "CHỦ TỊCH",
    "province": "CHỦ TỊCH",
    "central": "BỘ TRƯỞNG",
}
NUMBER_LABEL = Text("Số quyết định", "Decision number")
TITLE_LABEL = Text("Trích yếu", "Title")
SIGNER_TITLE_LABEL = Text("Chức vụ người ký", "Signer's title")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _not_found(decision_id: object) -> NotFound:
    return NotFound(
        Text(f"Không tìm thấy quyết định công nhận #{decision_id}", f"Recognition decision #{decision_id} not found")
    )


def awaiting_states(registry: Registry, level: str) -> dict[tuple[str, int], str]:
    """(workflow key, version) -> the state its products wait in for the `level`'s decision."""
    out = {}
    for (key, version), d in registry.definitions.items():
        if d.recognition is not None and level in d.recognition.awaiting:
            out[(key, version)] = d.recognition.awaiting[level]
    return out


def _awaiting_condition(registry: Registry, level: str):
    states = awaiting_states(registry, level)
    if not states:
        return None
    return or_(
        *[
            (Product.workflow_key == key) & (Product.workflow_version == version) & (Product.state == state)
            for (key, version), state in states.items()
        ]
    )


def _in_open_draft(exclude_decision: int | None = None):
    cond = (DecisionProduct.product_id == Product.id) & (RecognitionDecision.status == "draft")
    if exclude_decision is not None:
        cond = cond & (RecognitionDecision.id != exclude_decision)
    return exists(
        select(DecisionProduct.id).join(RecognitionDecision, RecognitionDecision.id == DecisionProduct.decision_id)
    ).where(cond)


def awaiting_products(
    session: Session, registry: Registry, organisation: Organisation, *, round_id: int | None = None
) -> list[Product]:
    """The products waiting for `organisation`'s recognition decision (its level's awaiting state, a
    commune under it) and in no other draft; with `round_id`, only those the round closed."""
    cond = _awaiting_condition(registry, organisation.level)
    if cond is None:
        return []
    under = Product.commune_id.in_(
        select(Organisation.id).where(Organisation.path.startswith(organisation.path, autoescape=True))
    )
    stmt = select(Product).where(cond, under, ~_in_open_draft()).options(selectinload(Product.producer))
    if round_id is not None:
        closed = select(RoundProduct.product_id).where(
            RoundProduct.round_id == round_id, RoundProduct.status == "closed"
        )
        stmt = stmt.where(Product.id.in_(closed))
    return list(session.scalars(stmt.order_by(Product.name, Product.id)))


_LATEST_FINAL = select(Rating).where(Rating.final.is_(True))


def _result_of(session: Session, product: Product) -> Rating | None:
    """The council result the decision recognises: the product's newest final rating."""
    stmt = _LATEST_FINAL.where(Rating.product_id == product.id).order_by(Rating.id.desc()).limit(1)
    return session.scalars(stmt).first()


def draft_decision(
    session: Session,
    registry: Registry,
    actor: Actor,
    *,
    organisation_id: int,
    round_id: int | None = None,
    product_ids: list[int] | None = None,
    title: str | None = None,
    now: datetime | None = None,
) -> RecognitionDecision:
    """Draft a decision of `organisation` over products awaiting its recognition: those a round closed
    (`round_id`), the ones named (`product_ids`), or else all of them. InvalidData when none is left
    or a named product does not await this organisation's decision."""
    org = get_visible_organisation(session, actor, organisation_id)
    require(actor, "draft_decisions", org)
    found_round = None
    if round_id is not None:
        found_round = session.get(EvaluationRound, round_id) if valid_id(round_id) else None
        if found_round is None:
            raise NotFound(Text(f"Không tìm thấy đợt đánh giá #{round_id}", f"Evaluation round #{round_id} not found"))
    candidates = awaiting_products(session, registry, org, round_id=round_id)
    if product_ids is not None:
        by_id = {p.id: p for p in candidates}
        wrong = [pid for pid in product_ids if pid not in by_id]
        if wrong:
            listed = ", ".join(f"#{pid}" for pid in wrong[:20])
            raise InvalidData(
                Text(
                    f"Các sản phẩm sau không chờ quyết định công nhận của {org.name} (hoặc đã ở một dự thảo khác): "
                    f"{listed}",
                    f"These products do not await {org.name}'s recognition decision (or are in another draft): "
                    f"{listed}",
                ),
                products=wrong,
            )
        candidates = [by_id[pid] for pid in dict.fromkeys(product_ids)]
    if not candidates:
        raise InvalidData(
            Text(
                f"Không có sản phẩm nào chờ quyết định công nhận của {org.name}",
                f"No product awaits {org.name}'s recognition decision",
            )
        )
    at = _now(now)
    if title is None:
        year = local_day(at).year
        suffix = f" ({found_round.name})" if found_round is not None else ""
        title = f"Về việc công nhận sản phẩm đạt chuẩn OCOP năm {year}{suffix}"
    title = clean_line(title, TITLE_LABEL, max_length=MAX_TITLE)
    decision = RecognitionDecision(
        organisation_id=org.id,
        organisation=org,
        level=org.level,
        round_id=found_round.id if found_round is not None else None,
        title=title,
        status="draft",
        drafted_by_id=actor.id,
        drafted_at=at,
    )
    for product in candidates:
        result = _result_of(session, product)
        decision.entries.append(
            DecisionProduct(
                product_id=product.id,
                star=product.current_star,
                score=result.score if result is not None else None,
                rating_id=result.id if result is not None else None,
            )
        )
    session.add(decision)
    session.flush()
    return decision


def visible_decisions(actor: Actor):
    """SQL on RecognitionDecision: the actor's scope covers its organisation, or one of its products."""
    if actor.system:
        return RecognitionDecision.id.is_not(None)
    own_products = (
        select(DecisionProduct.id)
        .join(Product, Product.id == DecisionProduct.product_id)
        .where(
            DecisionProduct.decision_id == RecognitionDecision.id,
            actor.object_filter(Product.commune_id, Product.producer_id),
        )
    )
    return or_(actor.subtree(RecognitionDecision.organisation_id), exists(own_products))


def get_visible_decision(session: Session, actor: Actor, decision_id: object) -> RecognitionDecision:
    if not valid_id(decision_id):
        raise _not_found(decision_id)
    found = session.scalars(
        select(RecognitionDecision)
        .where(RecognitionDecision.id == decision_id, visible_decisions(actor))
        .options(
            selectinload(RecognitionDecision.entries).selectinload(DecisionProduct.product),
            selectinload(RecognitionDecision.organisation),
        )
    ).first()
    if found is None:
        raise _not_found(decision_id)
    return found


def list_decisions(session: Session, actor: Actor, *, status: str | None = None) -> list[RecognitionDecision]:
    stmt = select(RecognitionDecision).where(visible_decisions(actor))
    if status in STATUS_LABELS:
        stmt = stmt.where(RecognitionDecision.status == status)
    stmt = stmt.options(selectinload(RecognitionDecision.organisation), selectinload(RecognitionDecision.entries))
    return list(session.scalars(stmt.order_by(RecognitionDecision.drafted_at.desc(), RecognitionDecision.id.desc())))


def product_decisions(session: Session, product_id: int) -> list[RecognitionDecision]:
    """The decisions that list a product (the caller has checked the product is visible)."""
    stmt = (
        select(RecognitionDecision)
        .join(DecisionProduct, DecisionProduct.decision_id == RecognitionDecision.id)
        .where(DecisionProduct.product_id == product_id)
        .options(selectinload(RecognitionDecision.organisation))
        .order_by(RecognitionDecision.drafted_at.desc())
    )
    return list(session.scalars(stmt))


def _draft_for_change(
    session: Session, actor: Actor, decision_id: object, action: str, expected_version: int | None
) -> RecognitionDecision:
    decision = get_visible_decision(session, actor, decision_id)
    require(actor, action, decision)
    if decision.status != "draft":
        raise Conflict(
            Text(
                f"Quyết định số {decision.number} đã được ký: không sửa, không ký lại được",
                f"Decision {decision.number} is already signed: it cannot be changed or signed again",
            )
        )
    if expected_version is not None and decision.version != expected_version:
        raise StaleVersion(expected_version, decision.version)
    return decision


def remove_product(
    session: Session, actor: Actor, decision_id: object, product_id: int, *, expected_version: int | None = None
) -> RecognitionDecision:
    """Take a product out of a draft (it stays awaiting a decision); the last one cannot be removed:
    delete the draft instead."""
    decision = _draft_for_change(session, actor, decision_id, "draft_decisions", expected_version)
    entry = next((e for e in decision.entries if e.product_id == product_id), None)
    if entry is None:
        raise NotFound(
            Text(f"Sản phẩm #{product_id} không có trong dự thảo này", f"Product #{product_id} is not in this draft")
        )
    if len(decision.entries) == 1:
        raise InvalidData(
            Text(
                "Dự thảo phải có ít nhất một sản phẩm; hãy xóa dự thảo nếu không cần",
                "A draft needs at least one product; delete the draft instead",
            )
        )
    decision.entries.remove(entry)
    decision.version  # noqa: B018 - loaded, so the flush bumps it
    session.flush()
    return decision


def delete_draft(session: Session, actor: Actor, decision_id: object, *, expected_version: int | None = None) -> None:
    decision = _draft_for_change(session, actor, decision_id, "draft_decisions", expected_version)
    session.delete(decision)
    session.flush()


@dataclass
class Signed:
    """A signed decision with the certificates it issued (in the decision's order)."""

    decision: RecognitionDecision
    certificates: list[Certificate]


def sign_decision(
    session: Session,
    registry: Registry,
    settings: Settings,
    actor: Actor,
    decision_id: object,
    *,
    number: str,
    signed_on: date | None = None,
    signer_title: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Signed:
    """Sign a draft: its number (unique in the organisation) and date (today or earlier, not before
    the results it recognises); every listed product takes its signing step and receives a certificate
    (issued on the decision's date, valid `certificate_months`), which supersedes the one it held."""
    decision = _draft_for_change(session, actor, decision_id, "sign_decisions", expected_version)
    at = _now(now)
    today = local_day(at)
    number = clean_line(number, NUMBER_LABEL, max_length=MAX_NUMBER)
    signed_on = signed_on or today
    title = clean_line(
        signer_title or SIGNER_TITLES.get(decision.level, "CHỦ TỊCH"), SIGNER_TITLE_LABEL, max_length=200
    )
    _check_sign_date(session, decision, signed_on, today)
    if _number_taken(session, decision, number, signed_on):
        raise Conflict(
            Text(
                f"{decision.organisation.name} đã có quyết định số {number} trong năm {signed_on.year}",
                f"{decision.organisation.name} already has a decision numbered {number} in {signed_on.year}",
            )
        )
    _check_still_awaiting(session, registry, decision)
    recognised = Recognised(decision.id, number, signed_on, decision.organisation_id)
    certificates = []
    for entry in decision.entries:
        advance(session, registry, entry.product_id, SIGN_TRIGGER, actor, recognition=recognised, now=at)
        certificates.append(issue_certificate(session, settings, decision, entry, signed_on))
    decision.status = "signed"
    decision.number = number
    decision.signed_on = signed_on
    decision.signer_id = actor.id
    decision.signer_title = title
    decision.signed_at = at
    try:
        session.flush()  # the decision's version: of two signatures at once, the second is refused
    except StaleDataError:
        raise StaleVersion(expected_version, None) from None
    return Signed(decision, certificates)


def _same_number(number: str) -> str:
    """A decision number as two clerks would compare it: "12/qđ-ubnd" is "12/QĐ-UBND"."""
    return unicodedata.normalize("NFC", number).casefold().replace(" ", "")


def _number_taken(session: Session, decision: RecognitionDecision, number: str, signed_on: date) -> bool:
    """Whether the organisation signed a decision of that number in the same year (Decree 30/2020, Art. 15:
    document numbers restart at 01 on 1 January, so a number comes back every year)."""
    others = session.scalars(
        select(RecognitionDecision.number).where(
            RecognitionDecision.organisation_id == decision.organisation_id,
            RecognitionDecision.status == "signed",
            RecognitionDecision.signed_on >= date(signed_on.year, 1, 1),
            RecognitionDecision.signed_on <= date(signed_on.year, 12, 31),
            RecognitionDecision.id != decision.id,
        )
    )
    wanted = _same_number(number)
    return any(_same_number(other or "") == wanted for other in others)


def _check_sign_date(session: Session, decision: RecognitionDecision, signed_on: date, today: date) -> None:
    if signed_on > today:
        raise InvalidData(
            Text(
                f"Ngày ký {signed_on:%d/%m/%Y} ở tương lai (hôm nay là {today:%d/%m/%Y})",
                f"The signing date {signed_on:%d/%m/%Y} is in the future (today is {today:%d/%m/%Y})",
            )
        )
    rated = [
        local_day(r.at)
        for r in session.scalars(select(Rating).where(Rating.id.in_([e.rating_id for e in decision.entries])))
    ]
    if rated and signed_on < max(rated):
        raise InvalidData(
            Text(
                f"Ngày ký không thể trước ngày có kết quả đánh giá ({max(rated):%d/%m/%Y})",
                f"The decision cannot be dated before the council's result it recognises ({max(rated):%d/%m/%Y})",
            )
        )


def _check_still_awaiting(session: Session, registry: Registry, decision: RecognitionDecision) -> None:
    states = awaiting_states(registry, decision.level)
    gone = [
        e.product
        for e in decision.entries
        if states.get((e.product.workflow_key, e.product.workflow_version)) != e.product.state
    ]
    if gone:
        names = "; ".join(f"#{p.id} {p.name}" for p in gone[:20])
        raise Conflict(
            Text(
                f"Các sản phẩm sau không còn chờ quyết định công nhận (đã trả lại hoặc rút hồ sơ): {names}. "
                "Hãy bỏ chúng khỏi dự thảo rồi ký lại.",
                f"These products no longer await recognition (returned or withdrawn): {names}. "
                "Take them out of the draft, then sign.",
            ),
            products=[p.id for p in gone],
        )


def issue_certificate(
    session: Session, settings: Settings, decision: RecognitionDecision, entry: DecisionProduct, issued_on: date
) -> Certificate:
    """The certificate a signed decision gives one product: numbered in its province's format, valid
    `settings.certificate_months` from the decision's date; the certificate it held until now is
    superseded from that day."""
    product = session.get(Product, entry.product_id)
    commune = session.get(Organisation, product.commune_id)
    province = province_of(session, commune)
    held = held_certificate(session, product.id, issued_on)
    code = next_code(
        session,
        province,
        year=issued_on.year,
        star=entry.star,
        level=decision.level,
        fmt=format_for(province, settings.certificate_format),
    )
    cert = Certificate(
        code=code,
        product_id=product.id,
        producer_id=product.producer_id,
        product_name=product.name,
        producer_name=product.producer.name,
        star=entry.star,
        level=decision.level,
        organisation_id=decision.organisation_id,
        decision_id=decision.id,
        issued_on=issued_on,
        expires_on=add_months(issued_on, settings.certificate_months),
    )
    session.add(cert)
    session.flush()
    if held is not None:
        end_certificate(session, held.id, issued_on, superseded_by=cert.id)
    return cert


def recognising_organisation(session: Session, product: Product, level: str) -> int | None:
    """The organisation of `level` that recognises `product` (its commune's ancestor there)."""
    commune = session.get(Organisation, product.commune_id)
    return org_at_level(session.connection(), commune.path, level)


__all__ = [
    "SIGN_TRIGGER",
    "STATUS_LABELS",
    "Signed",
    "awaiting_products",
    "awaiting_states",
    "delete_draft",
    "draft_decision",
    "get_visible_decision",
    "issue_certificate",
    "list_decisions",
    "product_decisions",
    "recognising_organisation",
    "remove_product",
    "sign_decision",
    "visible_decisions",
]
