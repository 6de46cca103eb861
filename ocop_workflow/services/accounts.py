"""Administration of user accounts within an administrator's units: who they see, deactivation.

An administrator (a role the permission file gives `administer_users`) manages the users whose
every role lies inside the units it administers, and users without any role yet (just created).
A user who also holds a role elsewhere — a provincial officer with a commune role under a district,
say — is out of a district administrator's reach: not listed, and not found when asked for by id.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..models import Organisation, User
from .access import Actor
from .authz import admin_roots, can, managed_users, require
from .listing import organisations_in_scope
from .sessions import end_user_sessions

ADMINISTER = "administer_users"


def is_admin(actor: Actor) -> bool:
    """Whether the actor administers users anywhere (the menu's Administration entry)."""
    return can(actor, ADMINISTER)


def require_admin(actor: Actor) -> None:
    require(actor, ADMINISTER)


def admin_organisations(session: Session, actor: Actor) -> list[Organisation]:
    """The organisations under the actor's administrator memberships, in tree order."""
    roots = admin_roots(actor)
    return [o for o in organisations_in_scope(session, actor) if any(r.contains(o) for r in roots)]


def users_for_admin(session: Session, actor: Actor) -> list[User]:
    """The users the actor administers (see the module's docstring), by e-mail."""
    require_admin(actor)
    return list(session.scalars(select(User).where(managed_users(actor)).order_by(User.email)))


def get_user_for_admin(session: Session, actor: Actor, user_id: int) -> User:
    require_admin(actor)
    user = session.scalars(select(User).where(User.id == user_id, managed_users(actor))).one_or_none()
    if user is None:
        raise NotFound(Text(f"Không tìm thấy người dùng #{user_id}", f"User #{user_id} not found"))
    return user


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (every session of the user stops working) or reactivate an account in scope.
    Administrators cannot deactivate their own account."""
    user = get_user_for_admin(session, actor, user_id)
    require(actor, ADMINISTER, user)
    if user.id == actor.id and not active:
        raise InvalidData(Text("Bạn không thể khoá tài khoản của chính mình", "You cannot deactivate your own account"))
    user.active = bool(active)
    if not user.active:
        # every login ends now, for good (reactivation does not revive them); API tokens are refused
        # while the account is deactivated, because each request loads the user (services/tokens.py)
        end_user_sessions(session, user.id)
    session.flush()
    return user


__all__ = [
    "admin_organisations",
    "get_user_for_admin",
    "is_admin",
    "require_admin",
    "set_user_active",
    "users_for_admin",
]
