"""The one authorization function: `authorize(actor, action, obj)` answers every yes/no of the core.

Who holds which right is data (`workflows/permissions.yaml` for actions and documents, each
definition's transitions for the steps); the rules that hold whatever the roles are here, each with
its reason in Vietnamese and English:

* a membership covers its organisation's subtree, and a producer's own account only its producer;
* a final product (rated, upgraded, withdrawn) is never edited: the decision names its details;
* documents follow the dossier's phase (open at the commune, only the reviewing level's own records
  while a council holds it, nothing after a decision);
* an administrator manages only users whose every role lies inside the units it administers, so a
  district administrator cannot lock out a provincial officer who also holds a commune role.

Scope comes first and is not this module's answer: an object out of scope is *not found*
(`access.get_visible_*`); `authorize` says *permission denied* with the reason. Web, API and CLI ask
the services, and the services ask here; the views decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select

from ..engine import TransitionDef, WorkflowDefinition
from ..errors import PermissionDenied
from ..i18n import Text
from ..models import (
    Certificate,
    Council,
    CouncilMember,
    EcommerceListing,
    MaterialArea,
    MaterialAreaProduct,
    Membership,
    Organisation,
    Plan,
    Producer,
    ProductRevenue,
    ProductSupport,
    RecognitionDecision,
    SalesPoint,
    Training,
    User,
    ValueChain,
)
from .access import Actor

# The programme's records (issue #12): a product's belong where the product is, a unit's to the unit.
_PRODUCT_RECORDS = (ProductSupport, EcommerceListing, ProductRevenue, MaterialAreaProduct)
_UNIT_RECORDS = (ValueChain, SalesPoint, Training, Plan)

ATTACH_DOCUMENT = "attach_document"
TAKE_STEP = "take_step"
# Rights of a council position (the permission file's `councils`), not of an organisation role: the
# establishment decision names who scores and who keeps the record.
SCORE_SHEET = "score_sheet"
CLOSE_SCORING = "close_scoring"
# Actions done by the roles of an object's own level (a council's, a decision's, a certificate's).
_OWN_LEVEL_ACTIONS = (
    "manage_councils",
    "run_rounds",
    "draft_decisions",
    "sign_decisions",
    "revoke_certificates",
    "set_certificate_format",
    "set_default_workflow",
    "manage_plans",
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed or not, why not, and the membership that acts (its organisation signs)."""

    allowed: bool
    reason: Text | None = None
    membership: Membership | None = None
    roles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> Membership | None:
        """The acting membership; PermissionDenied with the reason when refused."""
        if not self.allowed:
            raise PermissionDenied(self.reason or _DENIED, roles=list(self.roles))
        return self.membership


_DENIED = Text("Bạn không có quyền thực hiện việc này", "You are not allowed to do this")
_ALLOWED = Decision(True)


def _place(obj: Any) -> tuple[Any, int | None]:
    """The organisation an object belongs to, and its producer (None for an organisation)."""
    if obj is None:
        return None, None
    if isinstance(obj, Organisation):
        return obj, None
    if isinstance(obj, Producer):
        return obj.commune, obj.id
    if isinstance(obj, _PRODUCT_RECORDS):  # a product's own records: where the product is
        return _place(obj.product)
    if isinstance(obj, MaterialArea):
        return obj.commune, None
    if isinstance(obj, _UNIT_RECORDS):
        return obj.organisation, None
    return obj.commune, obj.producer_id  # a product (a loaded Product, or what a move reads of it)


def _by_roles(actor: Actor, roles: frozenset[str] | tuple[str, ...], obj: Any, what: Text) -> Decision:
    org, producer_id = _place(obj)
    if org is None:
        fitting = [m for m in actor.memberships if m.role in roles]
        membership = fitting[0] if fitting else None
    else:
        membership = actor.membership_for(org, roles, producer_id)
    if membership is not None:
        return Decision(True, membership=membership)
    names = actor.policy.role_names(roles)
    return Decision(
        False,
        Text(
            f"Bạn không có quyền {what.vi}; cần vai trò: {names.vi}",
            f"You are not allowed to {what.en}; it needs: {names.en}",
        ),
        roles=tuple(sorted(roles)),
    )


def _step(actor: Actor, obj: Any, transition: TransitionDef, verdict: Any, recognition: Any) -> Decision:
    """A workflow step. A council's rating step is fired from an evaluation round: the round's
    verdict stands in for the role check (the round service authorised the secretary's close and
    the members scored); without one no person fires it, only the system actor (imports, demo).
    Likewise a signing step is fired by signing a recognition decision (`recognition`: the decision
    service authorised the chair's signature); no one fires it product by product."""
    roles = frozenset(transition.roles)
    if transition.signs is not None:
        if recognition is not None:
            return _ALLOWED
        names, label = actor.policy.role_names(roles), transition.label
        return Decision(
            False,
            Text(
                f"Bước «{label.vi}» được thực hiện khi {names.vi} ký quyết định công nhận ở trang Quyết định "
                "công nhận, cho mọi sản phẩm của quyết định",
                f"The step “{label.en}” is taken when the {names.en} signs the recognition decision on the "
                "Recognition decisions page, for every product of the decision",
            ),
            roles=tuple(sorted(roles)),
        )
    if transition.rating is not None:
        if verdict is not None:
            return _ALLOWED
        names, label = actor.policy.role_names(roles), transition.label
        return Decision(
            False,
            Text(
                f"Không nhập điểm trực tiếp cho bước «{label.vi}»: điểm là trung bình các phiếu chấm của thành viên "
                f"Hội đồng ({names.vi}) trong một đợt đánh giá; thư ký Hội đồng chốt kết quả ở trang đợt đánh giá",
                f"The step “{label.en}” takes no score typed in: the score is the average of the council members' "
                f"({names.en}) score sheets in an evaluation round; the council's secretary closes it on the "
                "round's page",
            ),
            roles=tuple(sorted(roles)),
        )
    decision = _by_roles(actor, roles, obj, transition.label)
    if decision:
        return decision
    names, label = actor.policy.role_names(roles), transition.label
    return Decision(
        False,
        Text(
            f"Vai trò của bạn không được thực hiện bước «{label.vi}»; cần: {names.vi}",
            f"Your role may not take the step “{label.en}”; it needs: {names.en}",
        ),
        roles=tuple(sorted(roles)),
    )


def _edit_product(actor: Actor, rule, obj: Any, definition: WorkflowDefinition | None) -> Decision:
    if definition is not None:
        state = definition.states.get(obj.state)
        if state is not None and state.final:
            label = state.label
            return Decision(
                False,
                Text(
                    f"Sản phẩm đã ở bước cuối «{label.vi}»: thông tin của nó là thông tin đã được quyết định, "
                    "không sửa được",
                    f"The product has reached the final step “{label.en}”: its details are those the decision "
                    "was made on and cannot be changed",
                ),
            )
    return _by_roles(actor, rule.roles, obj, rule.label)


def _attach(
    actor: Actor, obj: Any, doc_type: str | None, definition: WorkflowDefinition | None, decided_level: str | None
) -> Decision:
    """Attaching `doc_type` (any type when None) to product `obj` in its current state. Once the dossier
    has left the commune, the levels that may file their own records are the one reviewing it now
    (review) and the one whose council decided last (`decided_level`, the product's latest rating: a
    district that forwarded a dossier still files its minutes; None when nothing was decided)."""
    policy = actor.policy
    state = definition.states[obj.state] if definition is not None else None
    phase = policy.phase(definition.key, state) if state is not None else "open"
    by_role = policy.attach.get(phase, {})
    roles = frozenset(by_role)
    if phase != "open":
        levels = {decided_level, "any"} | ({state.level} if phase == "review" else set())
        roles = frozenset(r for r in roles if policy.roles[r].level in levels)
        if not any(m.role in roles for m in actor.memberships):
            return Decision(False, _FROZEN[phase](state.label), roles=tuple(sorted(roles)))
    if doc_type is not None:
        roles = frozenset(r for r in roles if doc_type in by_role[r])
        if not roles:
            return Decision(
                False,
                Text(
                    f"Không nộp được loại tài liệu này khi hồ sơ ở bước «{state.label.vi}»"
                    if state
                    else "Không nộp được loại tài liệu này ở bước hiện tại",
                    f"This type of document cannot be attached while the dossier is at “{state.label.en}”"
                    if state
                    else "This type of document cannot be attached at this step",
                ),
            )
    return _by_roles(actor, roles, obj, Text("nộp tài liệu cho hồ sơ này", "attach documents to this dossier"))


_FROZEN = {
    "review": lambda label: Text(
        f"Hồ sơ đang được thẩm định («{label.vi}»): chỉ cấp thẩm định được nộp biên bản, báo cáo và quyết định "
        "của mình",
        f"The dossier is under review (“{label.en}”): only the reviewing level may attach its own minutes, "
        "reports and decisions",
    ),
    "closed": lambda label: Text(
        f"Hồ sơ đã có quyết định («{label.vi}»): không thể thêm hay thay tài liệu mà quyết định dựa vào; chỉ cấp "
        "đã quyết định nộp biên bản và quyết định của mình",
        f"The dossier has been decided (“{label.en}”): the documents the decision was made on cannot be added "
        "to or replaced; only the deciding level files its minutes and decision",
    ),
}


def _own_level(actor: Actor, rule, obj: Any) -> Decision:
    """Councils, rounds, recognition decisions and certificates are handled by the roles of the
    object's own level, in an organisation that covers the object's (`obj`: the council, decision or
    certificate, or the organisation one is made for)."""
    org = obj.organisation if isinstance(obj, (Council, RecognitionDecision, Certificate, Plan)) else obj
    if org is None:
        return _by_roles(actor, rule.roles, None, rule.label)
    roles = frozenset(r for r in rule.roles if actor.policy.roles[r].level in (org.level, "any"))
    return _by_roles(actor, roles, org, rule.label)


def _position(actor: Actor, action: str, member: CouncilMember | None) -> Decision:
    rules = actor.policy.council
    positions = rules.score if action == SCORE_SHEET else rules.close
    if member is not None and member.position in positions:
        return _ALLOWED
    names = ", ".join(rules.positions[p].vi for p in sorted(positions))
    names_en = ", ".join(rules.positions[p].en for p in sorted(positions))
    what = (
        Text("chấm phiếu đánh giá", "fill in score sheets")
        if action == SCORE_SHEET
        else Text("kết thúc việc chấm điểm", "close the scoring")
    )
    return Decision(
        False,
        Text(
            f"Chỉ {names} của hội đồng này được {what.vi}",
            f"Only this council's {names_en} may {what.en}",
        ),
    )


def _administer(actor: Actor, rule, target: User | None) -> Decision:
    decision = _by_roles(actor, rule.roles, None, rule.label)
    if not decision or target is None:
        return decision
    roots = admin_roots(actor)
    if all(any(root.contains(m.organisation) for root in roots) for m in target.memberships):
        return decision
    return Decision(
        False,
        Text(
            "Người dùng này có vai trò ở đơn vị ngoài phạm vi bạn quản trị (ví dụ cấp trên): "
            "bạn không thể thay đổi tài khoản",
            "This user holds a role in a unit outside the units you administer (a higher level, for example): "
            "you cannot change the account",
        ),
    )


def admin_roots(actor: Actor) -> list[Organisation]:
    """The organisations under which the actor administers users."""
    rule = actor.policy.actions["administer_users"]
    return [m.organisation for m in actor.memberships if m.role in rule.roles]


def managed_users(actor: Actor) -> ColumnElement[bool]:
    """A SQL condition on `User`: every role the user holds lies inside the units the actor
    administers (users without any role yet included): the users `administer_users` allows."""
    paths = sorted({o.path for o in admin_roots(actor)})
    if not paths:
        return false()
    outside = select(Membership.id).where(
        Membership.user_id == User.id, ~actor.subtree(Membership.organisation_id, paths)
    )
    return ~exists(outside)


def authorize(
    actor: Actor,
    action: str,
    obj: Any = None,
    *,
    doc_type: str | None = None,
    transition: TransitionDef | None = None,
    definition: WorkflowDefinition | None = None,
    decided_level: str | None = None,
    verdict: Any = None,
    recognition: Any = None,
    member: CouncilMember | None = None,
) -> Decision:
    """May `actor` do `action` on `obj`? The object is in scope (callers load it through `access`).

    `action` is a key of the permission file's `actions`, or "attach_document" (with `doc_type`, or
    None for "anything at all", the product's `definition` and, after a decision, the
    `decided_level`: see `documents.decided_level`), or "take_step" (with the
    definition's `transition`, and for a council's rating step the round's `verdict`,
    `products.Verdict`, for a signing step the signed decision, `products.Recognised`), or
    "score_sheet" / "close_scoring" (with the actor's `member` row of
    the council, None when not a member). `obj` is the product, producer, organisation or user acted on, or
    None for "anywhere" (menus: may this actor create products at all?).
    """
    if actor.system:
        return _ALLOWED
    if action == TAKE_STEP:
        return _step(actor, obj, transition, verdict, recognition)
    if action == ATTACH_DOCUMENT:
        return _attach(actor, obj, doc_type, definition, decided_level)
    if action in (SCORE_SHEET, CLOSE_SCORING):
        return _position(actor, action, member)
    rule = actor.policy.actions.get(action)
    if rule is None:
        raise KeyError(f"unknown action {action!r}")  # a programming error, not a user's
    if action == "edit_product" and obj is not None:
        return _edit_product(actor, rule, obj, definition)
    if action == "administer_users":
        return _administer(actor, rule, obj)
    if action in _OWN_LEVEL_ACTIONS:
        return _own_level(actor, rule, obj)
    return _by_roles(actor, rule.roles, obj, rule.label)


def require(actor: Actor, action: str, obj: Any = None, **context: Any) -> Membership | None:
    """`authorize`, raising PermissionDenied with the reason when refused; returns the acting membership."""
    return authorize(actor, action, obj, **context).check()


def can(actor: Actor, action: str, obj: Any = None, **context: Any) -> bool:
    return authorize(actor, action, obj, **context).allowed


__all__ = [
    "ATTACH_DOCUMENT",
    "CLOSE_SCORING",
    "SCORE_SHEET",
    "TAKE_STEP",
    "Decision",
    "admin_roots",
    "authorize",
    "can",
    "managed_users",
    "require",
]
