"""Shortcuts for the round tests (exports, API, CLI): a district council of four people, a round with
products at the district's review, and members' sheets, all through the core services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.models import Organisation
from ocop_workflow.services import councils, directory, rounds, sheets
from ocop_workflow.services.access import Actor, load_actor

DECISION_DATE = date(2026, 1, 5)
TODAY = date(2026, 3, 2)  # a Monday
MEETING = date(2026, 3, 10)
MEMBERS = (  # e-mail, name, position
    ("chutich@hd.test.vn", "Nguyễn Văn Chủ", "chair"),
    ("uyvien1@hd.test.vn", "Trần Thị Bình", "member"),
    ("uyvien2@hd.test.vn", "Lê Văn Cường", "member"),
    ("thuky@hd.test.vn", "Phạm Thị Thư", "secretary"),
)
CHAIR, MEMBER1, MEMBER2, SECRETARY = (m[0] for m in MEMBERS)


@dataclass
class RoundSetup:
    council_id: int
    round_id: int
    products: list[int] = field(default_factory=list)


def make_council(
    db: Database, registry: Registry, secretariat: str, org_id: int, *, people=MEMBERS, role: str = "district_council"
) -> int:
    """A council of `org_id` whose people hold `role` there (council members are officials of the
    level: a secretary with no role in the area could not see the products to close them)."""
    with db.transaction() as s:
        who = load_actor(s, secretariat, policy=registry.policy)
        council = councils.create_council(
            s,
            who,
            organisation_id=org_id,
            name="Hội đồng đánh giá, phân hạng sản phẩm OCOP huyện Lục Ngạn",
            decision_number="123/QĐ-UBND",
            decision_date=DECISION_DATE,
        )
        for email, name, position in people:
            user = directory.create_user(s, email=email, name=name, password=None)
            org = s.get(Organisation, org_id)
            directory.add_membership(s, registry, user, org, role, actor=Actor.system_actor(registry.policy))
            s.flush()
            councils.set_member(s, who, council.id, email, position)
        return council.id


def make_round(
    db: Database, registry: Registry, secretariat: str, council_id: int, products: list[int], *, open_it: bool = True
) -> int:
    with db.transaction() as s:
        who = load_actor(s, secretariat, policy=registry.policy)
        found = rounds.create_round(s, who, council_id, name="Đợt 1 năm 2026", meeting_date=MEETING)
        for pid in products:
            rounds.add_product(s, registry, who, found.id, pid)
        if open_it:
            rounds.open_round(s, who, found.id, today=TODAY)
        return found.id


def parts(total: float) -> dict[str, float]:
    """Answers of the parts-only sheets (A 40, B 25, C 35) adding up to `total` (a multiple of 0.25)."""
    a = min(40.0, total)
    b = min(25.0, total - a)
    return {"A": a, "B": b, "C": total - a - b}


def score(db: Database, registry: Registry, email: str, round_id: int, product_id: int, total: float) -> None:
    with db.transaction() as s:
        sheets.save_sheet(
            s, registry, load_actor(s, email, policy=registry.policy), round_id, product_id, parts(total), submit=True
        )


def recuse(db: Database, registry: Registry, email: str, round_id: int, product_id: int, reason: str) -> None:
    with db.transaction() as s:
        sheets.recuse(s, registry, load_actor(s, email, policy=registry.policy), round_id, product_id, reason)


def to_district_review(db: Database, registry: Registry, world, upload_dir, *, name: str, kind: str = "cooperative"):
    """A food product of commune C1 taken to the district's review with a complete dossier."""
    from .helpers import attach, move, new_product, required_docs

    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers[kind], name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    needed = required_docs(registry, "ocop-148", "submit_to_district", "food", kind)
    attach(db, registry, officer, pid, needed, upload_dir)
    assert move(db, registry, officer, pid, "submit_to_district") == "district_review"
    return pid
