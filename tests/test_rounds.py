"""A council's evaluation round through the services, on SQLite and PostgreSQL: the whole path
(council, members, round, products, sheets, closing) and every refusal of issue #9's Build 4."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ocop_workflow.errors import Conflict, InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import Document, EvaluationRound, ProductEvent, Rating, RoundProduct, ScoreSheet
from ocop_workflow.services import rounds, sheets
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import current_documents, dossier_fingerprint

from .council_world import MEETING, TODAY, Seated, parts, review_product, seat_council
from .helpers import count, move, new_product, product_row


@pytest.fixture
def seated(db, registry, world) -> Seated:
    return seat_council(db, registry, world)


def _round(db, registry, seated: Seated, pids: list[int], *, open_it: bool = True) -> int:
    with db.transaction() as s:
        actor = load_actor(s, seated.secretariat, TODAY)
        found = rounds.create_round(s, actor, seated.council_id, name="Đợt 1 năm 2026", meeting_date=MEETING)
        for pid in pids:
            rounds.add_product(s, registry, actor, found.id, pid)
        if open_it:
            rounds.open_round(s, actor, found.id, today=TODAY)
        return found.id


def _save(db, registry, email, rid, pid, total=None, *, submit=True, answers=None):
    with db.transaction() as s:
        return sheets.save_sheet(
            s,
            registry,
            load_actor(s, email, TODAY),
            rid,
            pid,
            answers if answers is not None else parts(total),
            submit=submit,
        ).version


def _recuse(db, registry, email, rid, pid, reason="Người thân là thành viên hợp tác xã"):
    with db.transaction() as s:
        sheets.recuse(s, registry, load_actor(s, email, TODAY), rid, pid, reason)


def _close(db, registry, email, rid, pid) -> RoundProduct:
    with db.transaction() as s:
        entry = rounds.close_product(s, registry, load_actor(s, email, TODAY), rid, pid)
        s.refresh(entry)
        return entry


def _entry(db, rid, pid) -> RoundProduct:
    with db.session() as s:
        return s.scalars(select(RoundProduct).where(RoundProduct.round_id == rid, RoundProduct.product_id == pid)).one()


def test_the_whole_round(db, registry, world, upload_dir, seated):
    chair, m2, m3 = seated.members
    secretary = seated.secretaries[0]
    jam = review_product(db, registry, world, upload_dir, "Mứt vải Lục Ngạn")
    honey = review_product(db, registry, world, upload_dir, "Mật ong hoa vải")
    wine = review_product(db, registry, world, upload_dir, "Rượu vải Phượng Sơn")
    early = new_product(db, registry, world.user("commune_officer", "C1"), world.producers["household"], name="Ý tưởng")

    with db.transaction() as s:
        actor = load_actor(s, seated.secretariat, TODAY)
        found = rounds.create_round(s, actor, seated.council_id, name="Đợt 1 năm 2026", meeting_date=TODAY)
        rid = found.id
        for pid in (jam, honey, wine):
            entry = rounds.add_product(s, registry, actor, rid, pid)
            # the members score exactly the dossier added: its fingerprint is recorded
            assert entry.dossier_fingerprint == dossier_fingerprint(current_documents(s, pid))
            assert entry.review_state == "district_review" and entry.sheet_key == "ocop-148/food"
        with pytest.raises(Conflict, match="is not at"):  # an idea is no council's business yet
            rounds.add_product(s, registry, actor, rid, early)
        with pytest.raises(Conflict, match="already in this round"):
            rounds.add_product(s, registry, actor, rid, jam)
        # a meeting today: the dossiers would not reach the members one working day before it
        with pytest.raises(InvalidData, match="one working day"):
            rounds.open_round(s, actor, rid, today=TODAY)
    with db.transaction() as s:
        s.get(EvaluationRound, rid).meeting_date = MEETING
    with db.transaction() as s:
        assert rounds.open_round(s, load_actor(s, seated.secretariat, TODAY), rid, today=TODAY).status == "open"

    # the wine goes back for revision: it leaves the round, and nobody can score it any more
    move(db, registry, world.user("district_secretariat", "D1"), wine, "return_for_revision", comment="Thiếu nhãn")
    with pytest.raises(Conflict, match="left the review"):
        _save(db, registry, chair, rid, wine, 80)

    # the jam: two submit, one recuses; a draft saved on the way is replaced by the submission
    _save(db, registry, chair, rid, jam, 50, submit=False)
    with db.session() as s:
        view = sheets.sheet_view(s, registry, load_actor(s, chair, TODAY), rid, jam)
        assert view.sheet.status == "draft" and view.sheet.total == 50 and view.editable
        assert view.sheet.part_totals == {"A": 20.0, "B": 12.5, "C": 17.5}
    _save(db, registry, chair, rid, jam, 60)
    _save(db, registry, m2, rid, jam, 65.5)
    _recuse(db, registry, m3, rid, jam)
    # the honey: all three submit (one after a draft)
    _save(db, registry, m3, rid, honey, 71.25, submit=False)
    _save(db, registry, chair, rid, honey, 80)
    _save(db, registry, m2, rid, honey, 75)
    with db.session() as s:  # no member sees another's marks before closing
        view = rounds.round_view(s, registry, load_actor(s, secretary, TODAY), rid)
        by_product = {e.product.id: e for e in view.entries}
        assert view.can_close and not view.can_run
        assert by_product[jam].tally.quorum_met and not by_product[jam].sheets_visible
        assert (len(by_product[honey].tally.submitted), len(by_product[honey].tally.drafts)) == (2, 1)
        assert by_product[wine].left is not None
    _save(db, registry, m3, rid, honey, 71.25)

    entry = _close(db, registry, secretary, rid, jam)
    # (60 + 65.5) / 2 = 62.75: below 70, the district recognises it with 3★ (it waits for the district's
    # recognition decision)
    assert (entry.status, entry.average, entry.star, entry.outcome, entry.to_state) == (
        "closed",
        62.75,
        3,
        "recognised",
        "district_recognition",
    )
    assert sorted(entry.present) == sorted(_ids(db, [chair, m2])) and entry.recused == _ids(db, [m3])
    jam_row = product_row(db, jam)
    assert (jam_row.state, jam_row.current_star) == ("district_recognition", 3)
    with db.session() as s:
        rating = s.scalars(select(Rating).where(Rating.product_id == jam)).one()
        assert (rating.level, rating.score, rating.star, rating.final) == ("district", 62.75, 3, True)
        event = s.get(ProductEvent, entry.event_id)
        assert event.trigger == "rate_district" and event.score == 62.75
        assert event.data["round"] == {"id": rid, "name": "Đợt 1 năm 2026", "council_id": seated.council_id}

    entry = _close(db, registry, seated.secretaries[1], rid, honey)
    # (80 + 75 + 71.25) / 3 = 75.41666…: 75.42, forwarded to the province
    assert (entry.average, entry.outcome, entry.to_state) == (75.42, "forwarded", "province_review")
    assert product_row(db, honey).state == "province_review"

    with db.transaction() as s:
        closed = rounds.close_round(s, registry, load_actor(s, secretary, TODAY), rid)
        assert closed.status == "closed" and closed.closed_at is not None
    assert _entry(db, rid, wine).status == "left"
    with db.session() as s:  # after closing, everyone's sheets are shown
        view = rounds.round_view(s, registry, load_actor(s, m3, TODAY), rid)
        assert all(e.sheets_visible for e in view.entries if e.product.id in (jam, honey))


def _ids(db, emails: list[str]) -> list[int]:
    with db.session() as s:
        return sorted(load_actor(s, e, TODAY).id for e in emails)


def test_an_incomplete_dossier_is_not_added(db, registry, world, upload_dir, seated):
    """A dossier that lost a required document (here: its lab test report no longer current, as after
    an import) cannot be scored: the refusal names what is missing, and the round stays empty."""
    pid = review_product(db, registry, world, upload_dir)
    with db.transaction() as s:
        lab = select(Document).where(Document.product_id == pid, Document.doc_type == "lab_test_report")
        s.scalars(lab).one().current = False
    with db.transaction() as s:
        actor = load_actor(s, seated.secretariat, TODAY)
        rid = rounds.create_round(s, actor, seated.council_id, name="Đợt 2", meeting_date=MEETING).id
        with pytest.raises(InvalidData, match="missing “Laboratory test report”") as refused:
            rounds.add_product(s, registry, actor, rid, pid)
        assert "thiếu" in refused.value.message("vi")
        with pytest.raises(InvalidData, match="no products"):  # nor can an empty round open
            rounds.open_round(s, actor, rid, today=TODAY)
    assert count(db, RoundProduct) == 0


# --- the refusals of Build 4 ---------------------------------------------------------------------------


def test_closing_twice_is_refused(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    for email in seated.members[:2]:
        _save(db, registry, email, rid, pid, 64)
    _close(db, registry, seated.secretaries[0], rid, pid)
    for secretary in seated.secretaries:
        with pytest.raises(Conflict, match="already closed"):
            _close(db, registry, secretary, rid, pid)
    assert count(db, Rating, Rating.product_id == pid) == 1
    assert product_row(db, pid).history_count == 5  # create, accept, approve, submit, one rating


def test_closing_without_quorum_is_refused_and_changes_nothing(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    _save(db, registry, seated.members[0], rid, pid, 80)
    _save(db, registry, seated.members[1], rid, pid, 80, submit=False)  # a draft does not count
    _recuse(db, registry, seated.members[2], rid, pid)  # nor does a recusal
    with pytest.raises(Conflict, match="1 of 3 members have submitted, at least 2") as refused:
        _close(db, registry, seated.secretaries[0], rid, pid)
    assert "đã nộp 1/3 phiếu, cần ít nhất 2" in refused.value.message("vi")
    assert _entry(db, rid, pid).status == "pending" and product_row(db, pid).state == "district_review"
    # nor may the round close with a product still being scored
    with db.transaction() as s, pytest.raises(Conflict, match="still being scored"):
        rounds.close_round(s, registry, load_actor(s, seated.secretaries[0], TODAY), rid)


def test_scoring_after_closing_is_refused(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    _save(db, registry, seated.members[0], rid, pid, 60)
    _save(db, registry, seated.members[1], rid, pid, 62)
    _close(db, registry, seated.secretaries[0], rid, pid)
    late = seated.members[2]
    with pytest.raises(Conflict, match="can no longer be changed"):
        _save(db, registry, late, rid, pid, 90)
    with pytest.raises(Conflict, match="can no longer be changed"):
        _save(db, registry, seated.members[0], rid, pid, 90)  # nor change a sheet that counted
    with pytest.raises(Conflict):
        _recuse(db, registry, late, rid, pid)
    with db.transaction() as s:
        rounds.close_round(s, registry, load_actor(s, seated.secretaries[0], TODAY), rid)
    with pytest.raises(Conflict):
        _save(db, registry, late, rid, pid, 90)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScoreSheet)) == 2
        assert {sh.total for sh in s.scalars(select(ScoreSheet))} == {60.0, 62.0}
    # and the round is over: closing it again is refused
    with db.transaction() as s, pytest.raises(Conflict, match="already closed"):
        rounds.close_round(s, registry, load_actor(s, seated.secretaries[0], TODAY), rid)


def test_scoring_before_the_round_opens_is_refused(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid], open_it=False)
    with pytest.raises(Conflict, match="not open"):
        _save(db, registry, seated.members[0], rid, pid, 60)


def test_scoring_from_outside_the_council(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    # outside the council's organisation (the other district's council): the round does not exist for them
    for email in (world.user("district_council", "D2"), world.user("commune_officer", "C3")):
        with pytest.raises(NotFound):
            _save(db, registry, email, rid, pid, 80)
        with db.session() as s, pytest.raises(NotFound):
            sheets.sheet_view(s, registry, load_actor(s, email, TODAY), rid, pid)
    # inside the organisation but not seated (the district's council user, the secretariat, a
    # secretary, who does not score): refused by position
    for email in (world.user("district_council", "D1"), seated.secretariat, seated.secretaries[0]):
        with pytest.raises(PermissionDenied, match="Only this council's .* may fill in score sheets"):
            _save(db, registry, email, rid, pid, 80)
    assert count(db, ScoreSheet) == 0


def test_only_the_secretary_closes(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    for email in seated.members:
        _save(db, registry, email, rid, pid, 72)
    for email in (seated.members[0], seated.members[1], seated.secretariat, world.user("district_council", "D1")):
        with pytest.raises(PermissionDenied, match="may close the scoring"):
            _close(db, registry, email, rid, pid)
    with pytest.raises(NotFound):
        _close(db, registry, world.user("district_council", "D2"), rid, pid)
    assert _entry(db, rid, pid).status == "pending"
    assert _close(db, registry, seated.secretaries[1], rid, pid).status == "closed"


def test_a_sheet_outside_the_criteria_set_is_refused(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    member = seated.members[0]
    for answers, message in (
        ({"A": 41, "B": 20, "C": 30}, "not allowed"),  # above part A's 40
        ({"A": 30.1, "B": 20, "C": 30}, "not allowed"),  # not a quarter point
        ({"A": 30, "B": 20, "C": 30, "Z9": 1}, "no criterion"),
        ({"A": 30, "B": 20}, "not scored yet: C"),  # a submission answers everything
        ({"A": "ba mươi", "B": 20, "C": 30}, "is not a number"),
    ):
        with pytest.raises(InvalidData, match=message):
            _save(db, registry, member, rid, pid, answers=answers)
    with pytest.raises(InvalidData, match="reason"):
        _recuse(db, registry, member, rid, pid, reason="   ")
    assert count(db, ScoreSheet) == 0
    # a partial draft is fine
    _save(db, registry, member, rid, pid, answers={"A": 30, "B": 20}, submit=False)


# --- two secretaries at once ---------------------------------------------------------------------------


def test_two_secretaries_closing_at_once_exactly_one_wins(db, registry, world, upload_dir, seated):
    pid = review_product(db, registry, world, upload_dir)
    rid = _round(db, registry, seated, [pid])
    for email, total in zip(seated.members, (91, 88, 90.5), strict=True):
        _save(db, registry, email, rid, pid, total)
    events_before = product_row(db, pid).history_count

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(email: str) -> None:
        session = db.write_session()
        try:
            barrier.wait(timeout=10)
            rounds.close_product(session, registry, load_actor(session, email, TODAY), rid, pid)
            session.commit()
            result = "won"
        except Conflict:
            session.rollback()
            result = "conflict"
        except Exception as exc:  # anything else fails the test
            session.rollback()
            result = f"error:{type(exc).__name__}:{exc}"
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(email,)) for email in seated.secretaries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(outcomes) == ["conflict", "won"], outcomes
    entry = _entry(db, rid, pid)
    assert (entry.status, entry.average, entry.to_state) == ("closed", 89.83, "province_review")
    assert product_row(db, pid).history_count == events_before + 1
    assert count(db, Rating, Rating.product_id == pid) == 1
