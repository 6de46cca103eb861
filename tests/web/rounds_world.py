"""Councils, members and rounds for the web tests of issue #9 (test_rounds_web, test_rounds_browser).

Three council members of the Lục Ngạn district council (chair, two members) are added as users with
the test password; the district secretariat (`dsec`) sits as the council's secretary, so it both runs
the rounds and closes the scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ocop_workflow.models import Organisation, User
from ocop_workflow.services import councils, directory, rounds
from ocop_workflow.services.access import Actor

MEMBERS = {  # key -> (name, position)
    "m1": ("Nguyễn Văn Chủ Tịch", "chair"),
    "m2": ("Trần Thị Thành Viên", "member"),
    "m3": ("Lê Văn Ủy Viên", "member"),
}


@dataclass
class Seats:
    council_id: int
    emails: dict[str, str] = field(default_factory=dict)


def member_email(key: str) -> str:
    return f"{key}@hoidong.test.ocop.vn"


def add_members(env) -> dict[str, str]:
    """Create the three member accounts (district council role at D1), sharing the test password hash."""
    registry = env.app.extensions["ocop"].registry
    emails = {}
    with env.db.transaction() as s:
        hashed = s.scalar(select(User.password_hash).where(User.email == env.world.emails["dcouncil"]))
        system = Actor.system_actor(registry.policy)
        district = s.get(Organisation, env.world.orgs["D1"])
        for key, (name, _position) in MEMBERS.items():
            user = directory.create_user(s, email=member_email(key), name=name, password=None)
            user.password_hash = hashed
            directory.add_membership(s, registry, user, district, "district_council", actor=system)
            emails[key] = member_email(key)
    return emails


def setup_council(env, *, today: date | None = None) -> Seats:
    """A district council of Lục Ngạn with its members and `dsec` as secretary."""
    emails = add_members(env)
    today = today or date.today()
    with env.db.transaction() as s:
        dsec = env.actor(s, "dsec")
        council = councils.create_council(
            s,
            dsec,
            organisation_id=env.world.orgs["D1"],
            name="Hội đồng đánh giá, phân hạng sản phẩm OCOP huyện Lục Ngạn",
            decision_number="123/QĐ-UBND",
            decision_date=today - timedelta(days=30),
        )
        for key, (_name, position) in MEMBERS.items():
            councils.set_member(s, dsec, council.id, emails[key], position)
        councils.set_member(s, dsec, council.id, env.world.emails["dsec"], "secretary")
        return Seats(council.id, emails)


def meeting_day(today: date | None = None) -> date:
    """A meeting date comfortably more than one working day away."""
    return (today or date.today()) + timedelta(days=10)


def open_round_with(env, seats: Seats, product_ids: list[int], name: str = "Đợt 1 năm 2026") -> int:
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        dsec = env.actor(s, "dsec")
        found = rounds.create_round(s, dsec, seats.council_id, name=name, meeting_date=meeting_day())
        for pid in product_ids:
            rounds.add_product(s, registry, dsec, found.id, pid)
        rid = found.id
    if product_ids:
        with env.db.transaction() as s:
            rounds.open_round(s, env.actor(s, "dsec"), rid)
    return rid


def actor_by_email(s, email: str):
    from ocop_workflow.services.access import load_actor

    return load_actor(s, email)
