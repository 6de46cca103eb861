"""Properties of a council's result (hypothesis), as issue #9's acceptance states them:

- for any set of submitted sheets, the recorded score is their average by the written rounding rule
  (the exact mean, half-up to 2 decimals) and the star follows the bands;
- recused and draft sheets never count;
- a product's scoring never closes below the quorum (two thirds of the scoring members);
- a sheet can never exceed a criterion's maximum or use an option the set does not have.

The round scenarios run through the services on one SQLite database per module (each example
seats its own council and scores its own product); the pure rules run without a database.
"""

from __future__ import annotations

import itertools
import math
import shutil
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ocop_workflow.db import Database
from ocop_workflow.engine import get_registry
from ocop_workflow.errors import Conflict, InvalidData
from ocop_workflow.models import RoundProduct, ScoreSheet
from ocop_workflow.services import rounds, sheets
from ocop_workflow.services.access import load_actor

from .council_world import MEETING, TODAY, parts, review_product, seat_council
from .helpers import product_row
from .world import World, build_world

BANDS = ((30, 1), (50, 2), (70, 3), (90, 4))  # Decision 148: 1★ < 30 ≤ 2★ < 50 ≤ 3★ < 70 ≤ 4★ < 90 ≤ 5★
DISTRICT_MAX_STAR, DISTRICT_FORWARDS_FROM = 3, 70


def band(score: float) -> int:
    return next((star for upper, star in BANDS if score < upper), 5)


def written_rule(totals: list[float]) -> float:
    """The rounding rule as rounds.py's docstring writes it, computed on exact fractions."""
    mean = Fraction(sum(Fraction(str(t)) for t in totals), len(totals))
    return float(Fraction(math.floor(mean * 100 + Fraction(1, 2)), 100))


# --- the pure rules ----------------------------------------------------------------------------------

totals_2dp = st.integers(0, 10_000).map(lambda n: n / 100)


@settings(max_examples=300, deadline=None)
@given(st.lists(totals_2dp, min_size=1, max_size=15))
def test_the_average_is_the_exact_mean_rounded_half_up(totals):
    average = rounds.average_of(totals, 2)
    assert average == written_rule(totals)
    assert Decimal(str(average)).as_tuple().exponent >= -2
    assert min(totals) <= average <= max(totals)


def test_the_rounding_rule_at_its_edges():
    assert rounds.average_of([69.99, 70.0]) == 70.0  # 69.995 is 70.00: half-up, not to even
    assert rounds.average_of([89.99, 90.0]) == 90.0
    assert rounds.average_of([29.98, 29.99]) == 29.99  # 29.985
    assert rounds.average_of([70, 70, 69.99]) == 70.0  # 69.99666…
    assert rounds.average_of([70, 69.99, 69.99]) == 69.99  # 69.99333…


@given(st.integers(1, 60))
def test_the_quorum_is_two_thirds_rounded_up(members):
    needed = rounds.quorum_needed(members, Fraction(2, 3))
    assert 3 * needed >= 2 * members and 3 * (needed - 1) < 2 * members


# --- sheets against the criteria set ----------------------------------------------------------------


def _value(criterion):
    """Any number: allowed ones (the options, or quarter points up to the maximum) and others."""
    allowed = (
        st.integers(0, int(criterion.max_points / (criterion.step or 0.25))).map(lambda q: q * (criterion.step or 0.25))
        if criterion.free
        else st.sampled_from([o.points for o in criterion.options])
    )
    wrong = st.one_of(
        st.floats(-50, 150, allow_nan=False).map(lambda x: round(x, 2)),
        st.integers(-5, int(criterion.max_points) + 5),
    )
    return st.one_of(allowed, wrong)


def _allowed(criterion, value) -> bool:
    d = Decimal(str(value))
    if criterion.free:
        return 0 <= d <= Decimal(str(criterion.max_points)) and d % Decimal(str(criterion.step or 0.25)) == 0
    return any(Decimal(str(o.points)) == d for o in criterion.options)


ALL_SHEETS = [s for key in get_registry().criteria.sets for s in get_registry().criteria.in_set(key)]
a_sheet_and_answers = st.sampled_from(ALL_SHEETS).flatmap(
    lambda sheet: st.tuples(
        st.just(sheet), st.fixed_dictionaries({}, optional={c.code: _value(c) for c in sheet.criteria})
    )
)


def test_some_sheet_has_options():
    assert any(not c.free for s in ALL_SHEETS for c in s.criteria), "no sheet with options to test"


@settings(max_examples=200, deadline=None)
@given(a_sheet_and_answers)
def test_a_sheet_takes_only_the_sets_values(sheet_and_answers):
    sheet, answers = sheet_and_answers
    ok = all(_allowed(sheet.criterion(code), v) for code, v in answers.items())
    try:
        scored = sheet.score(answers, complete=False)
    except InvalidData:
        assert not ok, answers
        return
    assert ok, answers
    for part in sheet.parts:
        assert 0 <= scored.part_totals[part.key] <= part.max_points
    assert scored.total == pytest.approx(sum(float(v) for v in answers.values()))
    assert scored.total <= sheet.max_total == (100 if sheet.kind == "council" else sheet.max_total)


# --- rounds through the services ---------------------------------------------------------------------


class Lab:
    def __init__(self, db: Database, registry, world: World, upload_dir) -> None:
        self.db, self.registry, self.world, self.upload_dir = db, registry, world, upload_dir
        self.names = itertools.count(1)


@pytest.fixture(scope="module")
def lab(sqlite_template, registry, tmp_path_factory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("round-properties")
    shutil.copy(sqlite_template, folder / "ocop.sqlite3")
    db = Database(f"sqlite:///{folder / 'ocop.sqlite3'}")
    yield Lab(db, registry, build_world(db, registry), folder / "uploads")
    db.dispose()


def _scenario(lab: Lab, n_members: int) -> tuple:
    """A council of `n_members` scoring members (and its secretaries), an open round holding one
    product at district review: (seated, round id, product id)."""
    n = next(lab.names)
    seated = seat_council(lab.db, lab.registry, lab.world, n_members=n_members, name=f"P{n}")
    pid = review_product(lab.db, lab.registry, lab.world, lab.upload_dir, name=f"Sản phẩm thử {n}")
    with lab.db.transaction() as s:
        actor = load_actor(s, seated.secretariat, TODAY)
        found = rounds.create_round(s, actor, seated.council_id, name=f"Đợt {n}", meeting_date=MEETING)
        rounds.add_product(s, lab.registry, actor, found.id, pid)
        rounds.open_round(s, actor, found.id, today=TODAY)
        return seated, found.id, pid


# totals on the food sheet (quarter points), often high enough to reach the province
quarter_totals = st.one_of(st.integers(0, 400), st.integers(260, 400)).map(lambda q: q / 4)
# a member's sheet: mostly submitted, else a draft, a recusal or nothing yet
a_sheet = st.tuples(st.sampled_from(("submitted",) * 5 + ("draft", "recused", "none")), quarter_totals)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.integers(1, 9).flatmap(lambda n: st.lists(a_sheet, min_size=n, max_size=n)))
def test_closing_records_the_average_of_the_submitted_sheets_or_refuses_below_quorum(lab, registry, plan):
    seated, rid, pid = _scenario(lab, len(plan))
    ids = {}
    with lab.db.transaction() as s:
        for email, (status, total) in zip(seated.members, plan, strict=True):
            actor = load_actor(s, email, TODAY)
            ids[email] = actor.id
            if status == "recused":
                sheets.recuse(s, registry, actor, rid, pid, "Có quan hệ với chủ thể")
            elif status != "none":
                # a submitted sheet was often a draft first; a draft may be a full one
                sheets.save_sheet(s, registry, actor, rid, pid, parts(total), submit=status == "submitted")
    submitted = [t for status, t in plan if status == "submitted"]
    quorum = registry.latest("ocop-148").evaluation.quorum
    needed = max(1, math.ceil(len(plan) * quorum))
    before = product_row(lab.db, pid)
    try:
        with lab.db.transaction() as s:
            rounds.close_product(s, registry, load_actor(s, seated.secretaries[0], TODAY), rid, pid)
    except Conflict:
        event("refused below quorum")
        assert len(submitted) < needed, plan
        after = product_row(lab.db, pid)
        assert (after.state, after.version) == (before.state, before.version)
        with lab.db.session() as s:
            assert s.scalars(select(RoundProduct.status).where(RoundProduct.round_id == rid)).one() == "pending"
        return
    assert len(submitted) >= needed, plan
    with lab.db.session() as s:
        entry = s.scalars(select(RoundProduct).where(RoundProduct.round_id == rid)).one()
    average = written_rule(submitted)
    assert entry.average == average
    assert entry.star == min(band(average), DISTRICT_MAX_STAR)
    forwarded = average >= DISTRICT_FORWARDS_FROM
    event("forwarded" if forwarded else "rated at the district")
    # 3★ at the district waits for the district's recognition decision (v2); below 3★ it is rated
    expected = "province_review" if forwarded else ("district_recognition" if band(average) >= 3 else "rated")
    assert entry.to_state == expected
    assert entry.outcome == ("forwarded" if forwarded else ("recognised" if band(average) >= 3 else "not_recognised"))
    after = product_row(lab.db, pid)
    assert after.state == entry.to_state
    if not forwarded:
        assert after.current_star == entry.star
    # recused and draft sheets never count: exactly the submitters are recorded as present
    members = dict(zip(seated.members, plan, strict=True))
    assert sorted(entry.present) == sorted(ids[e] for e, (st_, _) in members.items() if st_ == "submitted")
    assert sorted(entry.recused) == sorted(ids[e] for e, (st_, _) in members.items() if st_ == "recused")


@pytest.fixture(scope="module")
def one_seat(lab) -> tuple:
    return _scenario(lab, 1)


def _stored(lab: Lab, rid: int) -> list[tuple]:
    with lab.db.session() as s:
        rows = s.scalars(select(ScoreSheet).join(RoundProduct).where(RoundProduct.round_id == rid))
        return [(sh.status, sh.answers, sh.total, sh.version) for sh in rows]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.sampled_from(["A", "B", "C"]),
    value=st.one_of(
        st.floats(-100, 200, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3)),
        st.sampled_from([40.25, 25.25, 35.25, -0.25, 41, 26, 36, 1e9]),
    ),
)
def test_save_sheet_never_stores_a_value_outside_the_criterion(lab, one_seat, registry, code, value):
    seated, rid, pid = one_seat
    criterion = registry.criteria.get("ocop-148/food").criterion(code)
    answers = {"A": 20, "B": 10, "C": 15, code: value}
    before = _stored(lab, rid)
    try:
        with lab.db.transaction() as s:
            saved = sheets.save_sheet(s, registry, load_actor(s, seated.members[0], TODAY), rid, pid, answers)
            stored = saved.answers[code]
    except InvalidData:
        assert not _allowed(criterion, value)
        assert _stored(lab, rid) == before  # nothing of the refused save is kept
        return
    assert _allowed(criterion, value) and 0 <= stored <= criterion.max_points
