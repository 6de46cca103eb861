"""The two milestones plan reports count by (services/milestones.py): set by the move that reaches them,
never moved by a later one, and the same as the history says when recomputed from it (the migration)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from ocop_workflow.models import Product, ProductEvent
from ocop_workflow.services.milestones import fill_from_history

from .helpers import move, product_row, to_council


def _events(db, pid: int) -> dict[str, object]:
    with db.session() as s:
        rows = s.execute(select(ProductEvent.to_state, ProductEvent.at).where(ProductEvent.product_id == pid)).all()
    first = {}
    for state, at in sorted(rows, key=lambda r: r.at):
        first.setdefault(state, at)
    return first


def test_the_moves_set_the_milestones_once_and_the_history_agrees(db, registry, world, upload_dir) -> None:
    pid = to_council(db, registry, world, upload_dir)  # idea accepted, plan approved, submitted to the district
    first = _events(db, pid)
    p = product_row(db, pid)
    assert p.idea_accepted_at == first["production_plan"]
    assert p.first_submitted_at == first["district_review"]
    # stored as the history stores its moments, so the database compares them as equal (the reports compare
    # these columns with days in SQL: on SQLite a moment written in another text form would sort apart)
    with db.session() as s:
        moment = select(func.min(ProductEvent.at)).where(
            ProductEvent.product_id == pid, ProductEvent.to_state == "production_plan"
        )
        same = s.scalar(select(Product.idea_accepted_at == moment.scalar_subquery()).where(Product.id == pid))
    assert same

    # returned and submitted again: the first submission stays the first
    district = world.user("district_secretariat", "D1")
    move(db, registry, district, pid, "return_for_revision", comment="Thiếu phiếu kiểm nghiệm")
    move(db, registry, world.user("commune_officer", "C1"), pid, "submit_to_district")
    assert product_row(db, pid).first_submitted_at == first["district_review"]

    # recomputed from the history (what the migration does), the same moments; a product with no such
    # move has none
    with db.transaction() as s:
        s.execute(update(Product).values(idea_accepted_at=None, first_submitted_at=None))
        fill_from_history(s.connection(), registry.catalogue)
    again = product_row(db, pid)
    assert (again.idea_accepted_at, again.first_submitted_at) == (p.idea_accepted_at, p.first_submitted_at)
