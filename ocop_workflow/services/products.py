"""Domain actions on products: create, advance, what may be done next, history.

Each action is a plain function over a SQLAlchemy session. It checks scope, permissions
and guards, changes the models and flushes; the caller commits once (or rolls back on
any error), so the state, the history row and the rating land together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..engine import Registry, TransitionDef, WorkflowDefinition, star_for_score
from ..engine.definition import CERTIFIED_MIN_STAR, Catalogue
from ..errors import GuardFailed, InvalidData, InvalidTrigger, NotFound, StaleVersion
from ..formats import format_number, parse_number
from ..i18n import Text
from ..levels import rank
from ..models import Document, Organisation, Producer, Product, ProductEvent, Rating, User
from ..notify.moves import notify_move
from ..validation import check_text
from .access import Actor, get_visible_producer, get_visible_product, product_not_found
from .authz import TAKE_STEP, authorize, require
from .certificates import Held, end_certificate, held_certificate, local_day
from .milestones import MILESTONES, milestone_of

MAX_COMMENT = 4000
MAX_NAME = 200
MAX_SUBGROUP = 100
EDIT_TRIGGER = "edit"
EDITABLE_FIELDS = ("name", "product_group", "subgroup")
NAME_LABEL = Text("Tên sản phẩm", "Product name")
SUBGROUP_LABEL = Text("Nhóm con", "Sub-group")


@dataclass(frozen=True)
class Verdict:
    """A council's result for one product, from an evaluation round (services.rounds): the average
    of the members' sheets (`score`, already rounded by the definition's rule), the round and the
    council that produced it, the organisation the council belongs to, and a star cap where a
    mandatory criterion failed by the majority caps the star.

    `advance(..., verdict=...)` fires a rating step with it: the round service has checked that
    the secretary may close the product, so the verdict stands in for the role check of the step.
    """

    round_id: int
    round_name: str
    council_id: int
    organisation_id: int
    score: float
    star_cap: int | None
    members_present: tuple[int, ...] = ()
    members_recused: tuple[int, ...] = ()


@dataclass(frozen=True)
class Recognised:
    """A signed recognition decision (services.decisions), as a signing step records it: the
    decision service has checked that the chair may sign, so it stands in for the step's role check
    (`advance(..., recognition=...)`)."""

    decision_id: int
    number: str
    signed_on: date
    organisation_id: int


NOT_SIGNED_HERE = Text(
    "Bước này ghi việc ký quyết định công nhận: chỉ thực hiện được khi ký một quyết định",
    "This step records the signing of a recognition decision: it is taken only by signing one",
)


NO_SCORE_HERE = Text(
    "Bước này không nhận điểm: chỉ bước ghi kết quả chấm điểm của Hội đồng mới có điểm",
    "This step takes no score: only a council's rating step records a score",
)
VERDICT_NOT_A_RATING = Text(
    "Kết quả của đợt đánh giá chỉ dùng cho bước ghi kết quả chấm điểm của Hội đồng",
    "A round's result can only be recorded by a council's rating step",
)
VERDICT_AND_SCORE = Text(
    "Điểm lấy từ kết quả của đợt đánh giá; không nhập thêm điểm",
    "The score comes from the round's result; do not send another score",
)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def dossier_fingerprint(docs: list) -> str:
    """A hash over the product's current documents: the exact dossier a decision was made on."""
    lines = sorted(f"{d.doc_type}:{d.sha256}:{d.id}" for d in docs if d.current)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# What an edit's history row needs of the dossier: plain rows, not Document objects.
_DOSSIER = select(Document.id, Document.doc_type, Document.sha256, Document.current).where(
    Document.product_id == bindparam("product_id"), Document.current.is_(True)
)


def current_documents(session: Session, product_id: int) -> list[Document]:
    stmt = select(Document).where(Document.product_id == product_id, Document.current.is_(True))
    return list(session.scalars(stmt.order_by(Document.doc_type, Document.id)))


_DOCS = Document.__table__


@dataclass(frozen=True)
class NewProductRules:
    """The definition a new product starts under on `day` and why ("province", "operator", "date" or
    "newest", see Registry.default_definition), and the keys a person may choose that day: those in
    force, the province's setting and the operator's."""

    definition: WorkflowDefinition
    reason: str
    day: date
    allowed: tuple[str, ...]


def province_of(org: Organisation | None) -> Organisation | None:
    """The province a unit lies in (itself if it is one); None above or outside a province."""
    while org is not None and org.level != "province":
        org = org.parent
    return org


def definition_for_new(registry: Registry, commune: Organisation | None, day: date) -> NewProductRules:
    """Which definition a product of this commune starts under on `day`: the province's setting
    (organisations.default_workflow) > the operator's OCOP_DEFAULT_WORKFLOW > the one in force that day."""
    province = province_of(commune)
    setting = province.default_workflow if province is not None else None
    definition, reason = registry.default_definition(day, setting)
    allowed = [d.key for d in registry.in_force(day)]
    for extra in (setting, registry.default_key, definition.key):
        if extra and extra in registry.keys() and extra not in allowed:  # noqa: SIM118
            allowed.append(extra)
    return NewProductRules(definition, reason, day, tuple(allowed))


def set_default_workflow(
    session: Session, registry: Registry, actor: Actor, province: Organisation, key: str | None
) -> str | None:
    """Set (or with None/"" clear, back to the date rule) the definition a province starts its new products
    under. Only a province has one; the key must name a loaded definition."""
    if province.level != "province":
        raise InvalidData(
            Text(
                f"{province.name} không phải là tỉnh: chỉ tỉnh mới chọn quy trình cho sản phẩm mới",
                f"{province.name} is not a province: only a province chooses the rules of its new products",
            )
        )
    require(actor, "set_default_workflow", province)
    value = (key or "").strip() or None
    if value is not None and value not in registry.keys():  # noqa: SIM118
        known = ", ".join(registry.keys())
        raise InvalidData(
            Text(f"Không có quy trình «{value}» (có: {known})", f"No rules named «{value}» (there are: {known})"),
            field="workflow_key",
        )
    province.default_workflow = value
    session.flush()
    return value


def not_in_force_text(definition: WorkflowDefinition, rules: NewProductRules) -> Text:
    def span(d: WorkflowDefinition, loc: str) -> str:
        start = d.effective_from.strftime("%d/%m/%Y") if d.effective_from else "…"
        end = d.effective_to.strftime("%d/%m/%Y") if d.effective_to else "…"
        return f"{start}–{end}"

    day = rules.day.strftime("%d/%m/%Y")
    return Text(
        f"Quy trình «{definition.title.vi}» không áp dụng ngày {day} (áp dụng {span(definition, 'vi')}); "
        f"sản phẩm mới theo «{rules.definition.title.vi}», trừ khi tỉnh chọn quy trình khác",
        f"The rules «{definition.title.en}» do not apply on {day} (they apply {span(definition, 'en')}); "
        f"new products follow «{rules.definition.title.en}» unless the province chose otherwise",
    )


def create_product(
    session: Session,
    registry: Registry,
    actor: Actor,
    *,
    name: str,
    product_group: str,
    producer_id: int,
    subgroup: str | None = None,
    workflow_key: str | None = None,
    now: datetime | None = None,
    check_in_force: bool = False,
) -> Product:
    """Register a product idea for a producer in the actor's commune; it starts in the initial state.

    Without `workflow_key` it starts under `definition_for_new(...)` (the province's setting, the
    operator's OCOP_DEFAULT_WORKFLOW, else the definition in force that local day). With
    `check_in_force` (the web form, the API and the CLI: a person chose the key) a definition that
    is not in force that day is refused unless the province's setting or the operator names it;
    the demo and tests replaying history pass their own dated keys without it.
    """
    name, product_group, subgroup = _valid_details(registry, name, product_group, subgroup)
    producer = get_visible_producer(session, actor, producer_id)
    require(actor, "create_product", producer)
    at = _now(now)
    choice = definition_for_new(registry, producer.commune, local_day(at))
    if workflow_key is None:
        definition = choice.definition
    else:
        if workflow_key not in registry.keys():  # noqa: SIM118 (a Registry, not a dict)
            raise InvalidData(
                Text(f"Không có quy trình {workflow_key}", f"No workflow named {workflow_key}"), field="workflow_key"
            )
        definition = registry.latest(workflow_key)
        if check_in_force and definition.key not in choice.allowed:
            raise InvalidData(not_in_force_text(definition, choice), field="workflow_key")
    product = Product(
        name=name,
        product_group=product_group,
        subgroup=subgroup,
        producer=producer,
        commune=producer.commune,
        workflow_key=definition.key,
        workflow_version=definition.version,
        state=definition.initial,
        state_entered_at=at,
        application_type="first_rating",
        application_started_at=at,
        history_count=1,
        created_at=at,
    )
    session.add(product)
    session.flush()
    session.add(
        ProductEvent(
            product_id=product.id,
            seq=1,
            workflow_key=definition.key,
            workflow_version=definition.version,
            from_state=None,
            to_state=definition.initial,
            trigger="create",
            actor_id=actor.id,
            at=at,
            data={},
            dossier_fingerprint=dossier_fingerprint([]),
        )
    )
    session.flush()
    return product


def _valid_details(
    registry: Registry, name: str | None, product_group: str | None, subgroup: str | None
) -> tuple[str, str, str | None]:
    """A product's name, group and sub-group, cleaned; InvalidData listing every problem at once.
    The one validation of both creating and editing a product."""
    check_text(name, NAME_LABEL)  # before strip(), which would drop some control characters silently
    check_text(subgroup, SUBGROUP_LABEL)
    name = (name or "").strip()
    subgroup = (subgroup or "").strip() or None
    problems: list[Text] = []
    if not name:
        problems.append(Text("Tên sản phẩm không được để trống", "The product name is required"))
    elif len(name) > MAX_NAME:
        problems.append(Text(f"Tên sản phẩm dài quá {MAX_NAME} ký tự", f"The name is over {MAX_NAME} characters"))
    if product_group not in registry.catalogue.product_groups:
        problems.append(Text(f"Nhóm sản phẩm không hợp lệ: {product_group}", f"Unknown product group: {product_group}"))
    if subgroup is not None and len(subgroup) > MAX_SUBGROUP:
        problems.append(
            Text(f"Nhóm con dài quá {MAX_SUBGROUP} ký tự", f"The sub-group is over {MAX_SUBGROUP} characters")
        )
    if problems:
        raise InvalidData(Text("; ".join(p.vi for p in problems), "; ".join(p.en for p in problems)))
    return name, product_group, subgroup


def update_product(
    session: Session,
    registry: Registry,
    actor: Actor,
    product_id: int,
    *,
    name: str,
    product_group: str,
    subgroup: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Product:
    """Change a product's name, group and sub-group.

    A change bumps the version (a stale `expected_version` raises StaleVersion) and writes a
    history row with trigger "edit", from and to the current state, and `data` = {field: {"old",
    "new"}} for each changed field, so the audit trail shows edits and the history still replays
    (an edit moves nothing). Nothing changed, nothing written.
    """
    product = get_visible_product(session, actor, product_id)
    require(actor, "edit_product", product, definition=definition_of(registry, product))
    if expected_version is not None and product.version != expected_version:
        raise StaleVersion(expected_version, product.version)
    name, product_group, subgroup = _valid_details(registry, name, product_group, subgroup)
    wanted = {"name": name, "product_group": product_group, "subgroup": subgroup}
    changes = {
        key: {"old": getattr(product, key), "new": value}
        for key, value in wanted.items()
        if getattr(product, key) != value
    }
    if not changes:
        return product
    for key, change in changes.items():
        setattr(product, key, change["new"])
    product.history_count += 1
    try:
        session.flush()  # the conditional UPDATE on the version serialises concurrent writers
    except StaleDataError:
        raise StaleVersion(expected_version, None) from None
    docs = session.execute(_DOSSIER, {"product_id": product.id}).all()
    session.add(
        ProductEvent(
            product_id=product.id,
            seq=product.history_count,
            workflow_key=product.workflow_key,
            workflow_version=product.workflow_version,
            from_state=product.state,
            to_state=product.state,
            trigger=EDIT_TRIGGER,
            actor_id=actor.id,
            at=_now(now),
            data=changes,
            dossier_fingerprint=dossier_fingerprint(docs),
        )
    )
    session.flush()
    return product


@dataclass(frozen=True)
class DocumentNeed:
    """One document a step requires: `status` is "ok" (on file), "missing" (none on file) or
    "renew" (the one on file predates the current application, which must upload it again)."""

    doc_type: str
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def document_needs(
    registry: Registry,
    tdef: TransitionDef,
    product: Product | _Moving,
    have_docs: set[str],
    renewed_docs: set[str] | None = None,
) -> list[DocumentNeed]:
    """The documents `tdef` requires of `product`, in the definition's order (general, per product
    group, per producer kind, then what the application renews): the one reading of the rules that
    the step's guard (`_missing_for`) and the product page's checklist share."""
    needs: dict[str, str] = {}
    if tdef.documents:
        for doc_type in tdef.documents.required_for(product.product_group, product.producer.kind):
            needs[doc_type] = "ok" if doc_type in have_docs else "missing"
    if tdef.renewed and renewed_docs is not None:
        definition = registry.get(product.workflow_key, product.workflow_version)
        renew = definition.renew.get(product.application_type)
        for doc_type in renew.required_for(product.product_group, product.producer.kind) if renew else ():
            if doc_type not in renewed_docs and doc_type in have_docs:
                needs[doc_type] = "renew"
    return [DocumentNeed(t, status) for t, status in needs.items()]


def need_text(catalogue: Catalogue, need: DocumentNeed) -> Text:
    """What the guard says of a document that is not "ok" (the reason a step cannot be taken yet)."""
    label = catalogue.document_types[need.doc_type]
    if need.status == "renew":
        return Text(
            f"phải nộp lại «{label.vi}» cho lần đăng ký này (bản hiện có nộp trước khi đăng ký)",
            f"“{label.en}” must be uploaded again for this application (the one on file predates it)",
        )
    return Text(f"thiếu tài liệu «{label.vi}»", f"missing document “{label.en}”")


@dataclass
class TriggerOption:
    """One thing the actor might do now, with the reasons it cannot be done yet."""

    trigger: str
    label: Text
    allowed_roles: tuple[str, ...]
    role_ok: bool
    missing: list[Text] = field(default_factory=list)
    needs_score: bool = False
    needs_comment: bool = False
    destinations: tuple[str, ...] = ()
    rating: bool = False  # a council's rating step: done from an evaluation round, not by a button
    signing: bool = False  # signing a recognition decision: done from the decision's page, not by a button
    # the documents the step requires, each with its standing (the dossier checklist, product_page)
    documents: list[DocumentNeed] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.role_ok and not self.missing


def _missing_for(
    registry: Registry,
    tdef: TransitionDef,
    product: Product | _Moving,
    have_docs: set[str],
    comment: str | None,
    score: float | None,
    check_inputs: bool,
    held: Held | None = None,
    renewed_docs: set[str] | None = None,
) -> list[Text]:
    """What stands between `product` and the step: documents, the star, the certificate it holds
    today (`held`), the documents its application must upload again (`renewed_docs`: the types
    uploaded since the application started), and the step's inputs when `check_inputs`."""
    cat = registry.catalogue
    missing: list[Text] = []
    needs = document_needs(registry, tdef, product, have_docs, renewed_docs)
    missing.extend(need_text(cat, n) for n in needs if n.status == "missing")
    missing.extend(need_text(cat, n) for n in needs if n.status == "renew")
    if tdef.certificate is not None:
        rule = tdef.certificate
        ok = (held is not None and (rule.star is None or rule.star.contains(held.star))) if rule.valid else held is None
        if not ok:
            missing.append(rule.describe())
    if tdef.star is not None and not tdef.star.contains(product.current_star):
        stars = tdef.star.stars()
        missing.append(Text(f"hạng sao hiện tại phải là {stars.vi}", f"the current star must be {stars.en}"))
    if check_inputs:
        if "comment" in tdef.fields and not (comment or "").strip():
            missing.append(Text("cần ghi ý kiến/lý do", "a comment (reason) is required"))
        if tdef.needs_score and score is None:
            missing.append(Text("cần nhập điểm (0–100)", "a score (0–100) is required"))
    return missing


def _candidate_for_score(candidates: list[TransitionDef], score: float | None) -> TransitionDef:
    if score is None or all(t.score is None for t in candidates):
        return candidates[0]
    for t in candidates:
        if t.score is None or t.score.contains(score):
            return t
    ranges = [t.score.text() for t in candidates if t.score is not None]
    vi, en = "; ".join(r.vi for r in ranges), "; ".join(r.en for r in ranges)
    raise InvalidData(
        Text(
            f"Điểm {format_number(score, 'vi')} không thuộc khoảng nào của bước này ({vi})",
            f"The score {format_number(score, 'en')} fits none of this step's ranges ({en})",
        )
    )


def _validate_inputs(comment: str | None, score: object) -> float | None:
    check_text(comment, Text("Ý kiến", "Comment"), multiline=True)
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidData(Text(f"Ý kiến dài quá {MAX_COMMENT} ký tự", f"The comment is over {MAX_COMMENT} characters"))
    if score is None or score == "":
        return None
    # typed text reads as people type it ("85,5" and "85.5"); JSON numbers pass as they are
    number = parse_number(score, allow_negative=True)
    if number is None:
        raise InvalidData(
            Text(
                f"Điểm phải là số từ 0 đến 100 (nhận được «{score}»)",
                f"The score must be a number from 0 to 100 (got “{score}”)",
            )
        )
    value = float(number)
    if not 0 <= value <= 100:
        raise InvalidData(
            Text(
                f"Điểm phải từ 0 đến 100 (nhận được {format_number(number, 'vi')})",
                f"The score must be from 0 to 100 (got {format_number(number, 'en')})",
            )
        )
    return round(value, 2)


def definition_of(registry: Registry, product: Product) -> WorkflowDefinition:
    return registry.get(product.workflow_key, product.workflow_version)


def available_triggers(
    session: Session, registry: Registry, actor: Actor, product: Product, docs: list[Document] | None = None
) -> list[TriggerOption]:
    """Every trigger of the product's current state, with whether this actor may fire it and what is missing."""
    definition = definition_of(registry, product)
    docs = docs if docs is not None else current_documents(session, product.id)
    have = {d.doc_type for d in docs}
    renewed = _renewed_types(product.application_started_at, ((d.doc_type, d.uploaded_at) for d in docs))
    steps = definition.transitions_from(product.state)
    held = held_certificate(session, product.id, local_day()) if any(t.certificate for t in steps) else None
    options = []
    for trigger in definition.triggers_from(product.state):
        cands = definition.candidates(product.state, trigger)
        first = cands[0]
        allowed = tuple(dict.fromkeys(r for t in cands for r in t.roles))
        missing: list[Text] = []
        needs: dict[str, DocumentNeed] = {}
        for t in cands:
            found = _missing_for(registry, t, product, have, None, None, False, held, renewed)
            missing.extend(m for m in found if m not in missing)
            for need in document_needs(registry, t, product, have, renewed):
                needs.setdefault(need.doc_type, need)
        options.append(
            TriggerOption(
                trigger=trigger,
                label=first.label,
                allowed_roles=allowed,
                role_ok=any(authorize(actor, TAKE_STEP, product, transition=t) for t in cands),
                missing=missing,
                needs_score=any(t.needs_score for t in cands),
                needs_comment=any("comment" in t.fields for t in cands),
                destinations=tuple(dict.fromkeys(t.dest for t in cands)),
                rating=any(t.rating is not None for t in cands),
                signing=any(t.signs is not None for t in cands),
                documents=list(needs.values()),
            )
        )
    return options


def advance(
    session: Session,
    registry: Registry,
    product_id: int,
    trigger: str,
    actor: Actor,
    *,
    comment: str | None = None,
    data: dict | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    verdict: Verdict | None = None,
    recognition: Recognised | None = None,
) -> Move:
    """Fire `trigger` on a product for `actor`. Raises a typed OcopError and changes nothing when refused.

    The product is read once, first: a missing or out-of-scope product is NotFound whatever else
    the call holds. The returned Move names the definition (`workflow_key`, `workflow_version`)
    and the new state, so a caller needs no second read to describe the move.

    A score is taken only by a step that needs one (InvalidData otherwise). A council's rating
    step takes its score from a `verdict` (an evaluation round's result); without one only the
    system actor (imports, the demo, tests) may fire it. The rating follows the definition's
    `evaluation` rule (`_results`); a result the definition's `recognition` says a level must
    recognise waits in that level's awaiting state (`_recognition`). A signing step takes the signed
    decision (`recognition`) and, like a rating step, is fired by no one else but the system actor."""
    # A verdict comes from a round the actor may see and the product lies in it (services.rounds):
    # the council's secretary may be seated without a role over the product's commune.
    conn, product = _load_for_move(session, actor, product_id, in_scope=verdict is not None or recognition is not None)
    data = dict(data or {})
    raw_score = data.pop("score", None)
    if verdict is not None:
        if raw_score is not None and raw_score != "":
            raise InvalidData(VERDICT_AND_SCORE)
        raw_score = verdict.score
    score = _validate_inputs(comment, raw_score)
    comment = (comment or "").strip() or None
    if expected_version is not None and product.version != expected_version:
        raise StaleVersion(expected_version, product.version)
    definition = definition_of(registry, product)
    steps = _steps(definition)
    tdef = _select_step(definition, steps, product.state, trigger, score, verdict, recognition)
    membership = authorize(actor, TAKE_STEP, product, transition=tdef, verdict=verdict, recognition=recognition).check()
    at = _now(now)
    rated_here = tdef.rating is not None and definition.recognition is not None
    wants_held = tdef.certificate is not None or tdef.signs is not None or rated_here
    held = held_certificate(conn, product.id, local_day(at)) if wants_held else None
    renewed = _renewed_types(product.application_started_at, ((t, u) for _i, t, _h, u in product.dossier))
    missing = _missing_for(
        registry, tdef, product, {t for _i, t, _h, _u in product.dossier}, comment, score, True, held, renewed
    )
    if missing:
        raise GuardFailed(missing)

    results: list[dict] = []
    star_now = product.current_star
    # The star and the settings a step makes (application_type …) belong to the engine: a caller's
    # `data` may add remarks to the history row but never claim a star or a setting.
    engine_keys = steps.engine_keys
    event_data = {k: v for k, v in data.items() if isinstance(k, str) and k not in engine_keys}
    if tdef.rating is not None and score is not None:
        if verdict is not None:
            org_id = verdict.organisation_id
        elif membership is not None:
            org_id = membership.organisation_id
        else:
            org_id = org_at_level(conn, product.commune.path, tdef.rating.level)
        results, star_now, notes = _results(
            conn, definition, tdef, product, score, org_id, verdict.star_cap if verdict is not None else None
        )
        event_data.update(notes)
    awaiting, ended = None, None
    if results and definition.recognition is not None:
        star_now, awaiting, ended = _recognition(definition, product, results, star_now, held, event_data)
    if verdict is not None:
        event_data["round"] = {"id": verdict.round_id, "name": verdict.round_name, "council_id": verdict.council_id}
    if recognition is not None:
        event_data["decision"] = {
            "id": recognition.decision_id,
            "number": recognition.number,
            "signed_on": recognition.signed_on.isoformat(),
            "star": star_now,  # the star recognised (for the history and the notices)
        }
    upgrade = _is_upgrade(definition, tdef, product, bool(results), star_now, held, awaiting)
    from_state = product.state
    to_state = registry.fire(definition, from_state, tdef, upgrade, awaiting)
    if ended is not None:
        end_certificate(conn, ended.id, local_day(at))
    event_data.update(tdef.sets)
    seq = product.history_count + 1
    # the idea accepted, the dossier first submitted: what plan reports count (services/milestones.py),
    # set by the same UPDATE, only if no earlier move set it
    milestone = milestone_of(registry.catalogue, definition.key, from_state, to_state)
    _write_product(
        session,
        conn,
        product,
        expected_version,
        {milestone: at} if milestone is not None else None,
        state=to_state,
        state_entered_at=at,
        history_count=seq,
        current_star=star_now,
        application_type=tdef.sets.get("application_type", product.application_type),
        application_started_at=at if "application_type" in tdef.sets else product.application_started_at,
    )
    event = _insert_event(
        conn,
        actor,
        product_id=product.id,
        seq=seq,
        workflow_key=definition.key,
        workflow_version=definition.version,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor_id=actor.id,
        at=at,
        comment=comment,
        score=score,
        data=event_data,
        dossier_fingerprint=_fingerprint(product.dossier),
    )
    for row in results:
        conn.execute(_INSERT_RATING, {**row, "product_id": product.id, "event_id": event.id, "at": at})
    notify_move(session, registry, None, product, event, now=at, step=tdef)  # same transaction (issue #11)
    return event


@dataclass(frozen=True, slots=True)
class _Steps:
    """What a move looks up in its definition, indexed once per loaded definition."""

    definition: WorkflowDefinition  # kept, so the id it is filed under cannot be reused
    by_step: dict[tuple[str, str], list[TransitionDef]]  # (source state, trigger) -> candidates
    engine_keys: frozenset[str]  # `data` keys only the engine writes: the star and every step's settings


_STEPS: dict[int, _Steps] = {}
# What the engine writes into a rating's history row (see `_results`) and a round's verdict.
_ENGINE_KEYS = frozenset(
    {
        "star",
        "round",
        "not_recognised_at",
        "recognised_by",
        "star_cap",
        "decision",
        "awaiting_recognition",
        "upgrade_not_granted",
        "certificate_ended",
    }
)


def _steps(definition: WorkflowDefinition) -> _Steps:
    known = _STEPS.get(id(definition))
    if known is None or known.definition is not definition:
        by_step: dict[tuple[str, str], list[TransitionDef]] = {}
        for t in definition.transitions:
            for source in dict.fromkeys(t.sources):
                by_step.setdefault((source, t.trigger), []).append(t)
        keys = frozenset(_ENGINE_KEYS | {key for t in definition.transitions for key in t.sets})
        known = _STEPS[id(definition)] = _Steps(definition, by_step, keys)
    return known


# The write path of every move, as prebuilt Core statements (a statement built per call costs
# more than the SQL it runs). The product's columns a move may change:
_MOVED = ("state", "state_entered_at", "history_count", "current_star", "application_type", "application_started_at")
_PRODUCTS = Product.__table__
_PRODUCT_MAPPER = inspect(Product)
_MOVE_PRODUCT = (
    update(_PRODUCTS)
    .where(_PRODUCTS.c.id == bindparam("p_id"), _PRODUCTS.c.version == bindparam("p_version"))
    .values(
        {
            **{c: bindparam(c) for c in _MOVED},
            "version": bindparam("new_version"),
            # a milestone keeps its first moment: NULL unless this move reaches it and none came before
            # (typed as the column, so the moment is stored as every other moment is)
            **{m: func.coalesce(_PRODUCTS.c[m], bindparam(f"m_{m}", type_=_PRODUCTS.c[m].type)) for m in MILESTONES},
        }
    )
)
_NO_MILESTONE = {f"m_{m}": None for m in MILESTONES}
_EVENT_COLUMNS = tuple(c.key for c in ProductEvent.__table__.c if c.key != "id")
_INSERT_EVENT = insert(ProductEvent.__table__).values({c: bindparam(c) for c in _EVENT_COLUMNS})
_INSERT_RATING = insert(Rating.__table__).values({c.key: bindparam(c.key) for c in Rating.__table__.c if c.key != "id"})


@dataclass(frozen=True, slots=True)
class _Commune:
    id: int
    path: str


@dataclass(frozen=True, slots=True)
class _Producer:
    kind: str


@dataclass(frozen=True, slots=True)
class _Moving:
    """What a move reads of its product, with the same attribute names as `Product` (the scope
    check, the guards and the rating read it as they read a product), from one Core query:
    loading the ORM object with its commune and producer would cost more than the move's SQL."""

    id: int
    state: str
    version: int
    workflow_key: str
    workflow_version: int
    product_group: str
    current_star: int | None
    history_count: int
    application_type: str
    application_started_at: datetime | None
    producer_id: int
    commune: _Commune
    producer: _Producer
    dossier: tuple[tuple[int, str, str, datetime], ...]  # the current documents: (id, doc_type, sha256, uploaded)


_ORGS, _PRODUCERS = Organisation.__table__, Producer.__table__
# Everything a move reads, in one statement: the product with its commune's path and its producer's
# kind, once per current document (one row with NULL document columns when the dossier is empty).
_FOR_MOVE = (
    select(
        _PRODUCTS.c.id,
        _PRODUCTS.c.state,
        _PRODUCTS.c.version,
        _PRODUCTS.c.workflow_key,
        _PRODUCTS.c.workflow_version,
        _PRODUCTS.c.product_group,
        _PRODUCTS.c.current_star,
        _PRODUCTS.c.history_count,
        _PRODUCTS.c.application_type,
        _PRODUCTS.c.application_started_at,
        _PRODUCTS.c.producer_id,
        _PRODUCTS.c.commune_id,
        _ORGS.c.path,
        _PRODUCERS.c.kind,
        _DOCS.c.id,
        _DOCS.c.doc_type,
        _DOCS.c.sha256,
        _DOCS.c.uploaded_at,
    )
    .join(_ORGS, _ORGS.c.id == _PRODUCTS.c.commune_id)
    .join(_PRODUCERS, _PRODUCERS.c.id == _PRODUCTS.c.producer_id)
    .outerjoin(_DOCS, (_DOCS.c.product_id == _PRODUCTS.c.id) & _DOCS.c.current.is_(True))
    .where(_PRODUCTS.c.id == bindparam("product_id"))
)


def _load_for_move(
    session: Session, actor: Actor, product_id: int, *, in_scope: bool = False
) -> tuple[Connection, _Moving]:
    """The session's connection and the product as a move reads it; NotFound when missing or out of scope."""
    session.flush()  # what the ORM's autoflush would do before a read: the move sees pending changes
    conn = session.connection()
    rows = conn.execute(_FOR_MOVE, {"product_id": product_id}).all()
    if not rows:
        raise product_not_found(product_id)
    *fields, commune_id, path, kind, _doc_id, _doc_type, _sha, _up = rows[0]
    dossier = tuple((doc_id, t, sha, up) for *_, doc_id, t, sha, up in rows if doc_id is not None)
    moving = _Moving(*fields, commune=_Commune(commune_id, path), producer=_Producer(kind), dossier=dossier)
    if not in_scope and not actor.can_see(moving.commune, moving.producer_id):
        raise product_not_found(product_id)
    return conn, moving


def _fingerprint(dossier: tuple[tuple[int, str, str, datetime], ...]) -> str:
    """`dossier_fingerprint` of the (id, doc_type, sha256, uploaded) rows of the current documents."""
    return hashlib.sha256("\n".join(sorted(f"{t}:{h}:{i}" for i, t, h, _u in dossier)).encode()).hexdigest()


def _select_step(
    definition: WorkflowDefinition,
    steps: _Steps,
    state: str,
    trigger: str,
    score: float | None,
    verdict: Verdict | None,
    recognition: Recognised | None,
) -> TransitionDef:
    """The transition `trigger` fires from `state` (by the score where several share the trigger);
    InvalidTrigger when there is none, InvalidData when the inputs do not fit the step."""
    cands = steps.by_step.get((state, trigger), [])
    if not cands:
        label = definition.state_label(state)
        step = next((t.label for t in definition.transitions if t.trigger == trigger), None)
        raise InvalidTrigger(
            Text(
                f"Không thể thực hiện bước «{step.vi}» khi sản phẩm ở bước «{label.vi}»",
                f"The step “{step.en}” is not possible while the product is at “{label.en}”",
            )
            if step is not None
            else Text(
                f"Quy trình của sản phẩm không có bước «{trigger}»",
                f"The product's workflow has no step “{trigger}”",
            ),
            trigger=trigger,
            state=state,
        )
    if score is not None and not any(t.needs_score for t in cands):
        raise InvalidData(NO_SCORE_HERE)
    tdef = _candidate_for_score(cands, score)
    if verdict is not None and tdef.rating is None:
        raise InvalidData(VERDICT_NOT_A_RATING)
    if recognition is not None and tdef.signs is None:
        raise InvalidData(NOT_SIGNED_HERE)
    return tdef


def _is_upgrade(
    definition: WorkflowDefinition,
    tdef: TransitionDef,
    product: _Moving,
    rated: bool,
    star_now: int | None,
    held: Held | None,
    awaiting: str | None,
) -> bool:
    """Whether the step ends at its `on_upgrade` state. With recognition decisions (issue #10) that is
    the signing of a star above the certificate it replaces; without them (version 1 definitions) a
    rating above the product's star."""
    if not tdef.on_upgrade:
        return False
    if tdef.signs is not None:
        return held is not None and (star_now or 0) > held.star
    return bool(
        rated
        and awaiting is None
        and definition.recognition is None
        and product.current_star is not None
        and star_now is not None
        and star_now > product.current_star
    )


def _renewed_types(started: datetime | None, uploads) -> set[str]:
    """The document types uploaded since the current application started ((doc_type, uploaded_at)
    pairs of the current documents); every type when the start is unknown (nothing to renew)."""
    if started is None:
        return {t for t, _u in uploads}
    started = started.replace(tzinfo=UTC) if started.tzinfo is None else started
    return {t for t, u in uploads if u is not None and (u if u.tzinfo else u.replace(tzinfo=UTC)) >= started}


def _recognition(
    definition: WorkflowDefinition,
    product: _Moving,
    results: list[dict],
    star_now: int | None,
    held: Held | None,
    notes: dict,
) -> tuple[int | None, str | None, Held | None]:
    """What a council's result means for recognition (the definition's `recognition` block, issue #10):
    the product's star after it, the awaiting state of the level that must recognise it (None: no
    decision is due) and the certificate that stops counting (None: none). Writes its notes.

    * A failed upgrade (an upgrade application whose result is not above the star of the certificate
      the product holds) changes nothing: the certificate stands with its star.
    * A result of 3★ or more waits for the decision of the level `by_star` names (a re-evaluation too,
      even at the same star: the new decision renews the certificate).
    * A re-evaluation below 3★ ends the certificate it re-assessed (148: re-evaluation may lower the star).
    """
    final = [r for r in results if r["final"]]
    if not final:
        return star_now, None, None
    star = final[-1]["star"]
    if product.application_type == "upgrade" and held is not None and star <= held.star:
        notes.pop("recognised_by", None)
        notes["upgrade_not_granted"] = held.star
        notes["star"] = held.star
        return held.star, None, None
    if star >= CERTIFIED_MIN_STAR:
        level = definition.recognition.level_for(star)
        notes["recognised_by"] = level
        notes["awaiting_recognition"] = level
        return star_now, definition.recognition.awaiting[level], None
    if product.application_type == "re_evaluation" and held is not None:
        notes["certificate_ended"] = held.code
        return star_now, None, held
    return star_now, None, None


def _write_product(
    session: Session,
    conn: Connection,
    product: _Moving,
    expected_version: int | None,
    milestones: dict[str, datetime] | None = None,
    **changes: object,
) -> None:
    """The optimistic lock, as one conditional UPDATE: it is what serialises concurrent writers
    (the loser's UPDATE matches no row once the winner committed, or waits for it on PostgreSQL,
    and becomes StaleVersion). A `Product` this session already holds is brought up to date
    without another query."""
    version = product.version
    reached = {f"m_{m}": at for m, at in (milestones or {}).items()}
    result = conn.execute(
        _MOVE_PRODUCT,
        {**changes, **_NO_MILESTONE, **reached, "p_id": product.id, "p_version": version, "new_version": version + 1},
    )
    if result.rowcount != 1:
        raise StaleVersion(expected_version, None)
    loaded = session.identity_map.get(_PRODUCT_MAPPER.identity_key_from_primary_key((product.id,)))
    if loaded is not None:
        for key, value in {**changes, "version": version + 1}.items():
            set_committed_value(loaded, key, value)


@dataclass(frozen=True, slots=True)
class Move:
    """An accepted move: the history row `advance` appended, with the same attribute names as
    `ProductEvent` (the actor is the user who moved). A value, not an ORM object: building and
    attaching one would cost as much as the INSERT."""

    id: int
    product_id: int
    seq: int
    workflow_key: str
    workflow_version: int
    from_state: str
    to_state: str
    trigger: str
    actor_id: int
    by: Actor = field(repr=False, compare=False)  # the `User` is made only if `.actor` is read
    at: datetime
    comment: str | None
    score: float | None
    data: dict
    dossier_fingerprint: str

    @property
    def actor(self) -> User:
        return self.by.user


def _insert_event(conn: Connection, actor: Actor, **values: object) -> Move:
    """Append the history row (no unit of work: the append-only table is only ever inserted into)."""
    event_id = conn.execute(_INSERT_EVENT, values).inserted_primary_key[0]
    return Move(id=event_id, by=actor, **values)


_RATINGS = Rating.__table__
# The product's latest rating: a forwarding (not final) one from the level below is what the
# council now scoring it was asked to confirm.
_LATEST_RATING = (
    select(_RATINGS.c.level, _RATINGS.c.organisation_id, _RATINGS.c.score, _RATINGS.c.star, _RATINGS.c.final)
    .where(_RATINGS.c.product_id == bindparam("product_id"))
    .order_by(_RATINGS.c.id.desc())
    .limit(1)
)
_ORG_LEVELS = select(_ORGS.c.id, _ORGS.c.code, _ORGS.c.level).where(
    _ORGS.c.code.in_(bindparam("codes", expanding=True))
)


def org_at_level(conn: Connection, commune_path: str, level: str) -> int | None:
    """The product's unit at `level` (its commune's ancestor), or the nearest one above it when the
    tree has none there (a commune straight under its province): who a system-recorded rating is
    credited to, as the reminders' `Directory.owner` finds the owner of a state."""
    codes = [c for c in commune_path.split("/") if c]
    if not codes:
        return None
    found = {code: (org_id, lvl) for org_id, code, lvl in conn.execute(_ORG_LEVELS, {"codes": codes})}
    chain = [found[c] for c in reversed(codes) if c in found]  # nearest first
    for org_id, lvl in chain:
        if lvl == level:
            return org_id
    return next((org_id for org_id, lvl in chain if rank(lvl) < rank(level)), None)


def _results(
    conn: Connection,
    definition: WorkflowDefinition,
    tdef: TransitionDef,
    product: _Moving,
    score: float,
    organisation_id: int | None,
    star_cap: int | None,
) -> tuple[list[dict], int | None, dict]:
    """The rating rows a council's score writes, the product's star after it, and the notes for the
    history row: the one rule of the definition (`definition.evaluation`, see NOTES/README).

    * The council's star is its band, capped at the step's `max_star` (and at a verdict's cap).
    * A band below the step's `min_star` (the central council decides only on 5★) is "not
      recognised at min_star★": the council's rating is kept, not final, and the forwarding
      level's result (its score and star) becomes the final rating, credited to that level.
    * A final step scoring a product forwarded from a lower level in a lower band follows
      `evaluation.lower_score`: `own_band` (this council's result is final) or
      `previous_level_stands` (as above: the forwarding level's result is the final one).
    """
    rule = tdef.rating
    band = star_for_score(score)
    star = min(band, rule.max_star, star_cap if star_cap is not None else 5)
    own = {"level": rule.level, "organisation_id": organisation_id, "score": score, "star": star}
    if not rule.final:
        return [{**own, "final": False}], product.current_star, {"star": star}
    latest = conn.execute(_LATEST_RATING, {"product_id": product.id}).first()
    forward = None
    if latest is not None and not latest.final and latest.level != rule.level:
        try:
            if rank(latest.level) > rank(rule.level):  # from a level below this one
                forward = latest
        except ValueError:
            forward = None
    below_range = band < rule.min_star
    lower = forward is not None and band < star_for_score(forward.score)
    previous_stands = lower and definition.evaluation.lower_score == "previous_level_stands"
    if forward is not None and (below_range or previous_stands):
        kept = {
            "level": forward.level,
            "organisation_id": forward.organisation_id,
            "score": forward.score,
            "star": forward.star,
            "final": True,
        }
        notes = {"star": forward.star, "recognised_by": forward.level}
        if below_range:
            notes["not_recognised_at"] = rule.min_star
        # the council's own rating first, the standing result last: the level that decided last
        # (documents.decided_level) is the one whose recognition stands
        return [{**own, "final": False}, kept], forward.star, notes
    if below_range:  # nothing forwarded to stand (an imported product): the council's rating is kept
        return [{**own, "final": False}], product.current_star, {"not_recognised_at": rule.min_star}
    notes = {"star": star}
    if star >= CERTIFIED_MIN_STAR:
        notes["recognised_by"] = rule.level
    if star_cap is not None and band > star:
        notes["star_cap"] = star_cap
    return [{**own, "final": True}], star, notes


_LEVEL_NAMES = {
    "commune": Text("cấp xã", "the commune"),
    "district": Text("cấp huyện", "the district"),
    "province": Text("cấp tỉnh", "the province"),
    "central": Text("Trung ương", "the central level"),
}
_BANDS = ((0.0, 30.0, 1), (30.0, 50.0, 2), (50.0, 70.0, 3), (70.0, 90.0, 4), (90.0, 100.0, 5))


@dataclass(frozen=True)
class ScoreOutcome:
    """What a council's score in [min, below) does from a review state (below None: up to 100
    inclusive): where the product goes, the star range and who recognises it, in both languages.
    The web's score sheet and round pages show the list before anything is submitted."""

    trigger: str
    min: float
    below: float | None
    destination: str
    destination_label: Text
    stars: tuple[int, int] | None  # None: the forwarding level's star stands
    result: Text

    @property
    def range_text(self) -> Text:
        lo = Text(format_number(self.min, "vi"), format_number(self.min, "en"))
        if self.below is None:
            return Text(f"từ {lo.vi} đến 100 điểm", f"{lo.en} to 100 points")
        hi = Text(format_number(self.below, "vi"), format_number(self.below, "en"))
        return Text(f"từ {lo.vi} đến dưới {hi.vi} điểm", f"{lo.en} to under {hi.en} points")


def score_outcomes(definition: WorkflowDefinition, state: str) -> list[ScoreOutcome]:
    """For a review state, what each score range of its rating step(s) will do, following the
    definition's rules (`_results`): recognised by <level>, forwarded to <level>, not recognised,
    or (below the council's `min_star`) the forwarding level's result stands. [] for a state no
    council scores."""
    out: list[ScoreOutcome] = []
    for t in definition.transitions_from(state):
        rule = t.rating
        if rule is None:
            continue
        lo_t = t.score.min if t.score is not None and t.score.min is not None else 0.0
        hi_t = t.score.below if t.score is not None and t.score.below is not None else None
        dest = definition.states.get(t.dest)
        here = _LEVEL_NAMES.get(rule.level, Text(rule.level, rule.level))
        segments: list[tuple[float, float | None, tuple[int, int] | None, Text, str]] = []
        for lo, hi, band in _BANDS:
            top = None if hi >= 100 else hi
            if (hi_t is not None and lo >= hi_t) or (top is not None and top <= lo_t):
                continue
            seg_lo, seg_hi = max(lo, lo_t), top if hi_t is None else (hi_t if top is None else min(top, hi_t))
            star = min(band, rule.max_star)
            to = t.dest
            if not rule.final:
                up = _LEVEL_NAMES.get(dest.level if dest else "", Text(t.dest, t.dest))
                stars, result = (star, star), Text(f"gửi lên {up.vi}", f"forwarded to {up.en}")
            elif band < rule.min_star:
                stars = None
                result = Text(
                    f"không công nhận {rule.min_star} sao; giữ kết quả của cấp đã đề nghị",
                    f"not recognised at {rule.min_star}★; the result of the level that proposed it stands",
                )
                to = _awaiting_for(definition, _forwarded_star(definition, state)) or t.dest
            elif star >= CERTIFIED_MIN_STAR:
                # with recognition decisions (issue #10) the definition names the level that recognises
                level = definition.recognition.level_for(star) if definition.recognition else rule.level
                by = _LEVEL_NAMES.get(level, Text(level, level)) if level else here
                stars, result = (star, star), Text(f"{by.vi} công nhận", f"recognised by {by.en}")
                to = _awaiting_for(definition, star) or t.dest
            else:
                stars, result = (star, star), Text("không được công nhận", "not recognised")
            if segments and segments[-1][3] == result and segments[-1][1] == seg_lo and segments[-1][4] == to:
                prev = segments[-1]
                merged = None if prev[2] is None or stars is None else (prev[2][0], stars[1])
                segments[-1] = (prev[0], seg_hi, merged, result, to)
            else:
                segments.append((seg_lo, seg_hi, stars, result, to))
        if rule.final and definition.evaluation.lower_score == "previous_level_stands":
            note = Text(
                " (nếu thấp hơn mức cấp dưới đã chấm khi gửi lên: giữ kết quả của cấp dưới)",
                " (if lower than the band the level below forwarded it with: that level's result stands)",
            )
            segments = [(a, b, c, Text(r.vi + note.vi, r.en + note.en), to) for a, b, c, r, to in segments]
        out.extend(ScoreOutcome(t.trigger, a, b, to, definition.state_label(to), c, r) for a, b, c, r, to in segments)
    return sorted(out, key=lambda o: o.min)


def _awaiting_for(definition: WorkflowDefinition, star: int | None) -> str | None:
    """The state a result of `star` waits in for its recognition decision (None: no decision is due)."""
    rec = definition.recognition
    level = rec.level_for(star) if rec is not None and star is not None and star >= CERTIFIED_MIN_STAR else None
    return rec.awaiting.get(level) if level else None


def _forwarded_star(definition: WorkflowDefinition, state: str) -> int | None:
    """The highest star the step that forwards a product into `state` can give (what stands below the
    council's `min_star`)."""
    stars = [t.rating.max_star for t in definition.transitions if t.rating and not t.rating.final and t.dest == state]
    return max(stars) if stars else None


def history(session: Session, actor: Actor, product_id: int) -> list[ProductEvent]:
    """The product's moves, oldest first; NotFound when out of the actor's scope."""
    get_visible_product(session, actor, product_id)
    stmt = select(ProductEvent).where(ProductEvent.product_id == product_id).order_by(ProductEvent.seq)
    return list(session.scalars(stmt))


def get_product(session: Session, actor: Actor, product_id: int) -> Product:
    return get_visible_product(session, actor, product_id)


__all__ = [
    "EDITABLE_FIELDS",
    "Verdict",
    "EDIT_TRIGGER",
    "DocumentNeed",
    "Move",
    "NotFound",
    "ScoreOutcome",
    "TriggerOption",
    "advance",
    "available_triggers",
    "create_product",
    "current_documents",
    "document_needs",
    "dossier_fingerprint",
    "get_product",
    "history",
    "need_text",
    "score_outcomes",
    "update_product",
]
