"""What a round protects, found by trying it as its users would (issue #9): the seats do not change
while members score, a producer never sits on a council or scores its own product, an invited
member from outside the area reads the dossiers sent to it, dossiers reach the members one working
day before the meeting even when added late, the queue shows only what can still be scored, and
the reason a product left is kept in every reader's language. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ocop_workflow.errors import Conflict, InvalidData, NotFound, PermissionDenied, StaleVersion
from ocop_workflow.models import Membership, Producer, Product, User
from ocop_workflow.services import councils, rounds, sheets
from ocop_workflow.services.access import get_visible_product, load_actor

from .council_world import MEETING, TODAY, Seated, parts, review_product, seat_council
from .helpers import move


@pytest.fixture
def seated(db, registry, world) -> Seated:
    return seat_council(db, registry, world)


def _draft(db, registry, seated: Seated, pids: list[int]) -> int:
    with db.transaction() as s:
        actor = load_actor(s, seated.secretariat, TODAY)
        found = rounds.create_round(s, actor, seated.council_id, name="Đợt 1 năm 2026", meeting_date=MEETING)
        for pid in pids:
            rounds.add_product(s, registry, actor, found.id, pid, today=TODAY)
        return found.id


def _open(db, seated: Seated, rid: int) -> None:
    with db.transaction() as s:
        rounds.open_round(s, load_actor(s, seated.secretariat, TODAY), rid, today=TODAY)


def _seat(db, seated: Seated, email: str, position: str = "member") -> None:
    with db.transaction() as s:
        councils.set_member(s, load_actor(s, seated.secretariat, TODAY), seated.council_id, email, position)


def test_seats_are_frozen_while_a_round_is_open(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _draft(db, registry, seated, [pid])
    _open(db, seated, rid)
    with pytest.raises(Conflict, match="is open for scoring: change its members"):
        _seat(db, seated, world.user("district_council", "D1"))
    with db.transaction() as s, pytest.raises(Conflict):
        councils.remove_member(s, load_actor(s, seated.secretariat, TODAY), seated.council_id, seated.members[1])
    with db.session() as s:
        council = councils.get_visible_council(s, load_actor(s, seated.secretariat, TODAY), seated.council_id)
        assert len(council.members) == 5  # three scoring members and two secretaries, as opened


def test_a_producer_account_never_sits_on_a_council_nor_scores_its_own_product(db, registry, world, upload_dir, seated):
    with pytest.raises(InvalidData, match="producer's account"):
        _seat(db, seated, world.user("producer", "C1"))
    # a member who also acts for the producer (a second membership) cannot score that producer's product
    pid = review_product(db, registry, world, upload_dir)
    rid = _draft(db, registry, seated, [pid])
    _open(db, seated, rid)
    with db.transaction() as s:
        user = s.query(User).filter_by(email=seated.members[0]).one()
        producer = s.get(Producer, world.producers["cooperative"])
        s.add(
            Membership(user_id=user.id, organisation_id=producer.commune_id, role="producer", producer_id=producer.id)
        )
    with db.transaction() as s, pytest.raises(PermissionDenied, match="acts for this product's producer"):
        sheets.save_sheet(s, registry, load_actor(s, seated.members[0], TODAY), rid, pid, parts(60), submit=True)


def test_an_invited_member_from_outside_the_area_reads_the_dossiers_sent_to_it(db, registry, world, upload_dir, seated):
    expert = world.user("commune_officer", "C3")  # Yên Thế: outside Lục Ngạn
    pid = review_product(db, registry, world, upload_dir)
    rid = _draft(db, registry, seated, [pid])
    _seat(db, seated, expert)
    with db.session() as s, pytest.raises(NotFound):  # not sent yet: the round is a draft
        get_visible_product(s, load_actor(s, expert, TODAY), pid)
    _open(db, seated, rid)
    with db.session() as s:
        assert get_visible_product(s, load_actor(s, expert, TODAY), pid).id == pid
    # another product of the district, in no round of theirs, stays out of sight
    other = review_product(db, registry, world, upload_dir, name="Mỳ Chũ")
    with db.session() as s, pytest.raises(NotFound):
        get_visible_product(s, load_actor(s, expert, TODAY), other)


def test_a_product_added_to_an_open_round_must_reach_the_members_a_working_day_before(
    db, registry, world, upload_dir, seated
):
    first = review_product(db, registry, world, upload_dir)
    late = review_product(db, registry, world, upload_dir, name="Mỳ Chũ")
    rid = _draft(db, registry, seated, [first])
    _open(db, seated, rid)
    with db.transaction() as s:  # Monday for a Wednesday meeting: still in time
        rounds.add_product(s, registry, load_actor(s, seated.secretariat, TODAY), rid, late, today=TODAY)
    third = review_product(db, registry, world, upload_dir, name="Gà đồi")
    with db.transaction() as s, pytest.raises(Conflict, match="one working day before"):  # meeting day: too late
        rounds.add_product(s, registry, load_actor(s, seated.secretariat, TODAY), rid, third, today=MEETING)


def test_today_is_the_local_date():
    # 01:30 on Thursday 3 December in Hà Nội is still Wednesday in UTC
    assert rounds.local_today(datetime(2026, 12, 2, 18, 30, tzinfo=UTC)) == date(2026, 12, 3)


def test_the_queue_hides_what_left_and_the_reason_is_kept_in_both_languages(db, registry, world, upload_dir, seated):
    stays = review_product(db, registry, world, upload_dir)
    leaves = review_product(db, registry, world, upload_dir, name="Mỳ Chũ")
    rid = _draft(db, registry, seated, [stays, leaves])
    _open(db, seated, rid)
    move(db, registry, seated.secretariat, leaves, "return_for_revision", comment="Thiếu phiếu kiểm nghiệm")
    with db.session() as s:
        queue = sheets.member_queue(s, load_actor(s, seated.members[0], TODAY))
        assert [item.product.id for item in queue] == [stays]
    for email in seated.members:
        with db.transaction() as s:
            sheets.save_sheet(s, registry, load_actor(s, email, TODAY), rid, stays, parts(72), submit=True)
    with db.transaction() as s:
        actor = load_actor(s, seated.secretaries[0], TODAY)
        rounds.close_product(s, registry, actor, rid, stays)
        rounds.close_round(s, registry, actor, rid)
    with db.session() as s:
        view = rounds.round_view(s, registry, load_actor(s, seated.secretariat, TODAY), rid)
        left = next(ev for ev in view.entries if ev.product.id == leaves)
        assert left.entry.status == "left" and left.entry.left_reason == "left_review"
        assert left.left.vi.startswith("Sản phẩm đã rời bước thẩm định")
        assert left.left.en.startswith("The product has left the review")


def test_a_stale_sheet_says_the_sheet_changed(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _draft(db, registry, seated, [pid])
    _open(db, seated, rid)
    with db.transaction() as s:
        sheet = sheets.save_sheet(s, registry, load_actor(s, seated.members[0], TODAY), rid, pid, parts(50))
        version = sheet.version
    with db.transaction() as s:
        sheets.save_sheet(
            s, registry, load_actor(s, seated.members[0], TODAY), rid, pid, parts(60), expected_version=version
        )
    with db.transaction() as s, pytest.raises(StaleVersion) as refused:
        sheets.save_sheet(
            s, registry, load_actor(s, seated.members[0], TODAY), rid, pid, parts(70), expected_version=version
        )
    assert "score sheet was saved elsewhere" in refused.value.text.en


def test_a_product_still_on_an_older_definition_version_is_moved_before_a_round_rates_it(
    db, registry, world, upload_dir, seated
):
    """Version 2 recognises a council's result by a signed decision with a certificate; rated on version 1
    a product would get neither. So a round takes and closes products on the newest version only, and
    says how to move the others."""
    old, new = (review_product(db, registry, world, upload_dir, name=n) for n in ("Mật ong rừng", "Vải thiều"))
    rid = _draft(db, registry, seated, [new])
    with db.transaction() as s:
        s.get(Product, old).workflow_version = 1  # as if started before version 2 (the states are the same)
    with db.transaction() as s, pytest.raises(Conflict) as refused:
        rounds.add_product(s, registry, load_actor(s, seated.secretariat, TODAY), rid, old, today=TODAY)
    message = refused.value.message("vi")
    assert "ocop-148@v1" in message and "ocop workflow migrate --from ocop-148 --to ocop-148 --apply" in message
    # one already in a round when the new version came is refused at the close, with nothing written
    with db.transaction() as s:
        s.get(Product, new).workflow_version = 1
    _open(db, seated, rid)
    for email in seated.members[:3]:
        with db.transaction() as s:
            sheets.save_sheet(s, registry, load_actor(s, email, TODAY), rid, new, parts(60), submit=True)
    with db.transaction() as s, pytest.raises(Conflict, match="ocop workflow migrate"):
        rounds.close_product(s, registry, load_actor(s, seated.secretaries[0], TODAY), rid, new)
    with db.session() as s:
        assert s.get(Product, new).state == "district_review"
