"""A district council of Lục Ngạn (D1 in tests/world.py) with its members, and products waiting for it.

The council is set up by the district secretariat through the services, as an office would:
`n_members` scoring members (a chair, then members; district council users of D1) and two
secretaries (both may close, so two can race), all new users so that the world's own
`district_council@D1` stays a council user of the district who does *not* sit on this council.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.services import councils as council_service
from ocop_workflow.services import directory
from ocop_workflow.services.access import Actor, load_actor

from .helpers import attach, move, new_product, required_docs
from .world import World

DECISION = date(2026, 1, 5)  # the People's Committee's decision setting the council up
TODAY = date(2026, 3, 2)  # a Monday
MEETING = date(2026, 3, 4)  # two working days later: the round may open today


@dataclass
class Seated:
    council_id: int
    secretariat: str  # runs the rounds (district_secretariat@D1), not seated
    members: list[str] = field(default_factory=list)  # scoring seats, the chair first
    secretaries: list[str] = field(default_factory=list)


def seat_council(db: Database, registry: Registry, world: World, *, n_members: int = 3, name: str = "D1") -> Seated:
    system = Actor.system_actor(registry.policy)
    secretariat = world.user("district_secretariat", "D1")
    seated = Seated(0, secretariat)
    with db.transaction() as s:
        d1 = directory.get_org(s, "D1")
        people = [(f"tv{i + 1}.{name.lower()}@test.ocop.vn", "chair" if i == 0 else "member") for i in range(n_members)]
        people += [(f"thuky{i + 1}.{name.lower()}@test.ocop.vn", "secretary") for i in range(2)]
        for email, _ in people:
            user = directory.create_user(s, email=email, name=email.split("@")[0], password=None)
            directory.add_membership(s, registry, user, d1, "district_council", actor=system)
        actor = load_actor(s, secretariat, TODAY)
        council = council_service.create_council(
            s,
            actor,
            organisation_id=d1.id,
            name=f"Hội đồng đánh giá, phân hạng sản phẩm OCOP huyện Lục Ngạn ({name})",
            decision_number="123/QĐ-UBND",
            decision_date=DECISION,
        )
        for email, position in people:
            council_service.set_member(s, actor, council.id, email, position)
            (seated.secretaries if position == "secretary" else seated.members).append(email)
        seated.council_id = council.id
    return seated


def review_product(
    db: Database, registry: Registry, world: World, upload_dir: Path, name: str = "Vải thiều Lục Ngạn"
) -> int:
    """A food product of C1's co-operative, with a complete dossier, at `district_review`."""
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["cooperative"], name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    attach(
        db,
        registry,
        officer,
        pid,
        required_docs(registry, "ocop-148", "submit_to_district", "food", "cooperative"),
        upload_dir,
    )
    assert move(db, registry, officer, pid, "submit_to_district") == "district_review"
    return pid


def parts(total: float) -> dict[str, float]:
    """Answers of the food sheet (parts A 40, B 25, C 35, quarter points) adding up to `total`."""
    quarters = round(total * 4)
    assert quarters * 4 == round(total * 16) and 0 <= quarters <= 400
    a = round(quarters * 0.40)
    b = min(round(quarters * 0.25), quarters - a)
    c = quarters - a - b
    return {"A": a / 4, "B": b / 4, "C": c / 4}
