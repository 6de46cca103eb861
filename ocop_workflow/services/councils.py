"""Evaluation councils (hội đồng đánh giá, phân hạng): set up by a decision, with their members.

Decision 148/QĐ-TTg, Art. 8 (and 1489/QĐ-TTg for the commune's assessment): each level's People's
Committee sets up a council by a decision (number, date) naming its chair, vice-chairs, members and
secretary. A council belongs to one organisation; the roles that run it are those of the
organisation's own level (`run_rounds` / `manage_councils` in the permission file).

Who may *see* a council: anyone whose memberships cover its organisation, and its own members (an
invited expert from another unit sees the council it sits on). Anyone else gets NotFound.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from ..errors import Conflict, InvalidData, NotFound
from ..i18n import Text
from ..models import COUNCIL_POSITIONS, Council, CouncilMember, EvaluationRound, Organisation, User
from ..reminders.calendar import DEFAULT_TZ
from ..validation import clean_line, valid_id
from .access import Actor
from .authz import require
from .listing import get_visible_organisation

MAX_NAME = 200
VN_TZ = ZoneInfo(DEFAULT_TZ)
MAX_DECISION_NUMBER = 64


def _council_not_found(council_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy hội đồng #{council_id}", f"Council #{council_id} not found"))


def visible_councils(actor: Actor):
    """A SQL condition on `Council`: councils the actor may see (its scope covers the council's
    organisation, or it sits on the council)."""
    member = exists().where(CouncilMember.council_id == Council.id, CouncilMember.user_id == actor.id)
    if actor.system:
        return Council.id.is_not(None)
    return or_(actor.subtree(Council.organisation_id), member)


def get_visible_council(session: Session, actor: Actor, council_id: object) -> Council:
    if not valid_id(council_id):
        raise _council_not_found(council_id)
    council = session.scalars(
        select(Council)
        .where(Council.id == council_id, visible_councils(actor))
        .options(selectinload(Council.members).selectinload(CouncilMember.user), selectinload(Council.organisation))
    ).first()
    if council is None:
        raise _council_not_found(council_id)
    return council


def list_councils(session: Session, actor: Actor) -> list[Council]:
    stmt = (
        select(Council)
        .where(visible_councils(actor))
        .options(selectinload(Council.organisation), selectinload(Council.members))
        .order_by(Council.decision_date.desc(), Council.id.desc())
    )
    return list(session.scalars(stmt))


def member_of(council: Council, user_id: int | None) -> CouncilMember | None:
    """The actor's seat on the council, or None."""
    return next((m for m in council.members if m.user_id == user_id), None)


def _check_dates(decision_date: date, valid_from: date, valid_until: date | None, today: date) -> None:
    if decision_date > today:
        raise InvalidData(
            Text(
                f"Ngày ký quyết định thành lập ({decision_date:%d/%m/%Y}) chưa đến: hãy nhập quyết định đã ký",
                f"The decision date ({decision_date:%d/%m/%Y}) is in the future: enter a decision already signed",
            )
        )
    if valid_until is not None and valid_until < valid_from:
        raise InvalidData(
            Text(
                "Ngày hết hiệu lực của hội đồng phải sau ngày bắt đầu",
                "The council's end of validity must come after its start",
            )
        )
    if valid_from < decision_date:
        raise InvalidData(
            Text(
                "Hội đồng không thể có hiệu lực trước ngày ký quyết định thành lập",
                "A council cannot be in force before the decision that sets it up",
            )
        )


def create_council(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int,
    name: str,
    decision_number: str,
    decision_date: date,
    valid_from: date | None = None,
    valid_until: date | None = None,
    today: date | None = None,
) -> Council:
    """Set up a council of an organisation (of the actor's own level) by its establishment decision."""
    org = get_visible_organisation(session, actor, organisation_id)
    require(actor, "manage_councils", org)
    name = clean_line(name, Text("Tên hội đồng", "Council name"), max_length=MAX_NAME)
    decision_number = clean_line(
        decision_number, Text("Số quyết định", "Decision number"), max_length=MAX_DECISION_NUMBER
    )
    valid_from = valid_from or decision_date
    if not isinstance(decision_date, date):
        raise InvalidData(Text("Cần ngày ký quyết định thành lập", "The decision date is required"))
    _check_dates(decision_date, valid_from, valid_until, today or datetime.now(VN_TZ).date())
    council = Council(
        organisation_id=org.id,
        organisation=org,
        level=org.level,
        name=name,
        decision_number=decision_number,
        decision_date=decision_date,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    session.add(council)
    session.flush()
    return council


def _user_by(session: Session, user: int | str) -> User:
    if isinstance(user, str) and not user.strip().isdigit():
        found = session.scalars(select(User).where(User.email == user.strip().lower())).first()
    else:
        number = int(user) if isinstance(user, int | str) and not isinstance(user, bool) else 0
        found = session.get(User, number) if valid_id(number) else None
    if found is None or not found.active:
        raise InvalidData(Text(f"Không có người dùng «{user}»", f"No user “{user}”"))
    return found


def _seats_frozen(session: Session, council: Council) -> None:
    """While a round is open the seats are what the members were sent the dossiers as: the quorum
    and the average are counted over them, so changing them would change which submitted sheets
    count. The decision that changes a council's members applies to its next round."""
    open_round = session.scalar(
        select(EvaluationRound.name).where(EvaluationRound.council_id == council.id, EvaluationRound.status == "open")
    )
    if open_round is not None:
        raise Conflict(
            Text(
                f"Hội đồng đang có đợt «{open_round}» mở để chấm điểm: chỉ thay đổi thành viên trước khi mở đợt "
                "hoặc sau khi đợt kết thúc",
                f"The council's round “{open_round}” is open for scoring: change its members before a round opens "
                "or after it closes",
            )
        )


def _no_producer_accounts(actor: Actor, person: User) -> None:
    """A producer's own account never sits on a council: it would score its own products."""
    acting = actor.policy.acts_for_producer
    if any(m.role in acting for m in person.memberships):
        raise InvalidData(
            Text(
                f"«{person.name}» là tài khoản của chủ thể sản xuất: không thể là thành viên hội đồng chấm điểm",
                f"“{person.name}” is a producer's account: it cannot sit on an evaluation council",
            )
        )


def set_member(session: Session, actor: Actor, council_id: int, user: int | str, position: str) -> CouncilMember:
    """Seat a user on the council in a position (chair, vice_chair, member, secretary), or change
    the position of someone already seated."""
    council = get_visible_council(session, actor, council_id)
    require(actor, "manage_councils", council)
    _seats_frozen(session, council)
    if position not in COUNCIL_POSITIONS:
        labels = actor.policy.council.positions
        known = ", ".join(f"{k} ({labels[k].vi})" for k in COUNCIL_POSITIONS)
        known_en = ", ".join(f"{k} ({labels[k].en})" for k in COUNCIL_POSITIONS)
        raise InvalidData(
            Text(f"Vị trí «{position}» không có; chọn: {known}", f"Unknown position “{position}”; choose: {known_en}")
        )
    person = _user_by(session, user)
    _no_producer_accounts(actor, person)
    seat = member_of(council, person.id)
    if position == "chair" and any(m.position == "chair" and m.user_id != person.id for m in council.members):
        raise Conflict(Text("Hội đồng đã có Chủ tịch", "The council already has a chair"))
    if seat is None:
        seat = CouncilMember(council=council, user_id=person.id, user=person, position=position)
        session.add(seat)
    else:
        seat.position = position
    session.flush()
    return seat


def remove_member(session: Session, actor: Actor, council_id: int, user: int | str) -> None:
    council = get_visible_council(session, actor, council_id)
    require(actor, "manage_councils", council)
    _seats_frozen(session, council)
    person = _user_by(session, user)
    seat = member_of(council, person.id)
    if seat is None:
        raise NotFound(Text("Người này không thuộc hội đồng", "This person does not sit on the council"))
    council.members.remove(seat)
    session.flush()


def scoring_members(actor: Actor, council: Council) -> list[CouncilMember]:
    """The seats that score (and count for the quorum), in the order the decision lists them."""
    positions = actor.policy.council.score
    return [m for m in council.members if m.position in positions]


def council_organisations(session: Session, actor: Actor) -> list[Organisation]:
    """Organisations the actor may set up councils for (the menu of the council form)."""
    from .authz import can

    orgs = session.scalars(select(Organisation).where(actor.subtree(Organisation.id)).order_by(Organisation.path))
    return [o for o in orgs if can(actor, "manage_councils", o)]


__all__ = [
    "council_organisations",
    "create_council",
    "get_visible_council",
    "list_councils",
    "member_of",
    "remove_member",
    "scoring_members",
    "set_member",
    "visible_councils",
]
