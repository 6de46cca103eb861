"""Administration of user accounts within an administrator's scope: who they see, deactivation.

An administrator (role "admin") manages the users who hold a role somewhere in the admin's
scope, and users without any role yet (just created). Users out of scope are not found.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import InvalidData, NotFound, PermissionDenied
from ..i18n import Text
from ..models import Membership, Organisation, User
from .access import Actor
from .catalog import organisations_in_scope
from .sessions import end_user_sessions

ADMIN_ROLE = "admin"


def is_admin(actor: Actor) -> bool:
    return any(m.role == ADMIN_ROLE for m in actor.memberships)


def require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied(Text("Bạn không có quyền quản trị", "You are not an administrator"),
                               roles=[ADMIN_ROLE])


def admin_organisations(session: Session, actor: Actor) -> list[Organisation]:
    """The organisations under the actor's admin memberships, in tree order."""
    roots = [m.organisation for m in actor.memberships if m.role == ADMIN_ROLE]
    return [o for o in organisations_in_scope(session, actor) if any(r.contains(o) for r in roots)]


def _managed(actor: Actor):  # noqa: ANN202
    in_scope = select(Membership.user_id).where(actor.org_filter(Membership.organisation_id))
    no_membership = ~select(Membership.id).where(Membership.user_id == User.id).exists()
    return or_(User.id.in_(in_scope), no_membership)


def users_for_admin(session: Session, actor: Actor) -> list[User]:
    """Users with a membership inside the admin's scope, and users without any membership yet."""
    return list(session.scalars(select(User).where(_managed(actor)).order_by(User.email)))


def get_user_for_admin(session: Session, actor: Actor, user_id: int) -> User:
    user = session.scalars(select(User).where(User.id == user_id, _managed(actor))).one_or_none()
    if user is None:
        raise NotFound(Text(f"Không tìm thấy người dùng #{user_id}", f"User #{user_id} not found"))
    return user


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (every session of the user stops working) or reactivate an account in scope.
    Administrators cannot deactivate their own account."""
    require_admin(actor)
    user = get_user_for_admin(session, actor, user_id)
    if user.id == actor.id and not active:
        raise InvalidData(Text("Bạn không thể khoá tài khoản của chính mình",
                               "You cannot deactivate your own account"))
    user.active = bool(active)
    if not user.active:
        # every login ends now, for good (reactivation does not revive them); API tokens are refused
        # while the account is deactivated, because each request loads the user (services/tokens.py)
        end_user_sessions(session, user.id)
    session.flush()
    return user


__all__ = ["admin_organisations", "get_user_for_admin", "is_admin", "require_admin", "set_user_active",
           "users_for_admin"]
