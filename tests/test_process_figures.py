"""Process figures (issue #12, item 3) against a hand-built history whose durations were counted by hand.

Local times (Asia/Ho_Chi_Minh, UTC+7). The commune's dossier check (`commune_review`, 15 working days) is
read under a copy of ocop-1489 v2 whose `sla_calendar` is `working`; the district council (`district_review`,
30 calendar days) under ocop-148 v2 as shipped. Tết 2025 is Monday 27 to Friday 31 January; 7 April (Hùng
Kings), 30 April, 1 and 2 May are holidays.

commune_review (15 working days, commune level):
  P1 (C1) Fri 17/01 → Fri 14/02 10:00: 20/01-24/01 5, Tết 0, 03/02-07/02 5, 10/02-14/02 5 = 15  within
          (an edit of its name on 03/02 does not end the stay)
  P2 (C1) Fri 17/01 → Mon 17/02 06:00 (Sunday in UTC): 16                                      late
  P3 (C3) Fri 28/02 → Sat 22/03 06:00 (Friday in UTC): 15, but the 15th working day was Fri 21/03  late
  P4 (C1) Tue 01/04 → Wed 02/04 08:00: 1                                                           within
province_review (45 working days): P1 from 14/02 (45th working day Mon 21/04), P3 from Sat 22/03 (Thu 29/05),
  P4 from 02/04 (Tue 10/06, after 07/04, 30/04, 01/05, 02/05): all three open, late by 11/06
district_review (30 calendar days, district level):
  Q1 (C1) Mon 02/06 09:00 → Wed 02/07 08:59: within; working days 03/06-02/07 = 22
  Q2 (C3) Mon 02/06 09:00 → Wed 02/07 09:00: exactly 30 days: not within; 22
  Q3 (C1) from Mon 03/11 09:00, open: late from 03/12 09:00
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ocop_workflow.engine import Registry, get_registry
from ocop_workflow.errors import NotFound, PermissionDenied
from ocop_workflow.models import Organisation, Product, ProductEvent
from ocop_workflow.reports.process import process_figures, report_json
from ocop_workflow.services.access import Actor, load_actor

VN = timezone(timedelta(hours=7))
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


@pytest.fixture(scope="session")
def working_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The shipped definitions, with ocop-1489 v2 counting its limits in working days."""
    folder = tmp_path_factory.mktemp("wf") / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / "ocop-1489.v2.yaml"
    text = path.read_text(encoding="utf-8")
    assert "sla_calendar: calendar" in text
    path.write_text(text.replace("sla_calendar: calendar", "sla_calendar: working"), encoding="utf-8")
    return get_registry(folder, "ocop-148")


def t(day: str, hh: int = 9, mm: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hh, minute=mm), VN).astimezone(
        UTC
    )


def _product(s, name: str, producer: int, commune: int, wf: str, moves: list[tuple[str, str, datetime]]) -> None:
    """A product with its history: (trigger, state entered, when)."""
    p = Product(
        name=name,
        name_folded=name.lower(),
        product_group="food",
        producer_id=producer,
        commune_id=commune,
        workflow_key=wf,
        workflow_version=2,
        state=moves[-1][1],
        state_entered_at=[at for trigger, _state, at in moves if trigger != "edit"][-1],
        history_count=len(moves),
    )
    s.add(p)
    s.flush()
    prev = None
    for seq, (trigger, state, at) in enumerate(moves, start=1):
        s.add(
            ProductEvent(
                product_id=p.id,
                seq=seq,
                workflow_key=wf,
                workflow_version=2,
                from_state=prev,
                to_state=state,
                trigger=trigger,
                at=at,
                data={},
                dossier_fingerprint="0" * 64,
            )
        )
        prev = state


@pytest.fixture
def history(db, world):
    c1, c3 = world.orgs["C1"], world.orgs["C3"]
    own, other = world.producers["cooperative"], world.other_producer
    with db.transaction() as s:
        w = "ocop-1489"
        _product(
            s,
            "P1",
            own,
            c1,
            w,
            [
                ("create", "commune_review", t("2025-01-17")),
                ("edit", "commune_review", t("2025-02-03")),
                ("send_to_province", "province_review", t("2025-02-14", 10)),
            ],
        )
        _product(
            s,
            "P2",
            own,
            c1,
            w,
            [("create", "commune_review", t("2025-01-17")), ("return", "implementation", t("2025-02-17", 6))],
        )
        _product(
            s,
            "P3",
            other,
            c3,
            w,
            [("create", "commune_review", t("2025-02-28")), ("send", "province_review", t("2025-03-22", 6))],
        )
        _product(
            s,
            "P4",
            own,
            c1,
            w,
            [("create", "commune_review", t("2025-04-01")), ("send", "province_review", t("2025-04-02", 8))],
        )
        w = "ocop-148"
        _product(
            s,
            "Q1",
            own,
            c1,
            w,
            [("create", "district_review", t("2025-06-02")), ("rate", "rated", t("2025-07-02", 8, 59))],
        )
        _product(
            s,
            "Q2",
            other,
            c3,
            w,
            [("create", "district_review", t("2025-06-02")), ("rate", "rated", t("2025-07-02", 9))],
        )
        _product(s, "Q3", own, c1, w, [("create", "district_review", t("2025-11-03"))])
    return db


def _figures(db, registry, at: str, actor: Actor | None = None, org_code: str | None = None, year: int | None = None):
    with db.session() as s:
        who = actor or Actor.system_actor(registry.policy)
        if isinstance(who, str):
            who = load_actor(s, who, policy=registry.policy)
        org = s.query(Organisation).filter_by(code=org_code).one() if org_code else None
        report = process_figures(s, registry, who, date.fromisoformat(at), year=year, org=org)
        return report, {(r.stage, r.level): r for r in report.rows}


def test_hand_counted_shares_and_medians_grow_with_the_as_of_day(history, working_registry):
    reg = working_registry
    # 21/03: P1 and P2 ended (15 within, 16 late); P3's leaving at 06:00 on 22/03 local is not seen yet
    report, rows = _figures(history, reg, "2025-03-21")
    check = rows[("commune_review", "commune")]
    assert (check.ended, check.with_sla, check.within_sla) == (2, 2, 1)
    assert check.share_within == 50.0
    assert check.median_days == 15.5  # 15 and 16: P2 left on Monday 17/02 local (Sunday in UTC)
    assert (check.open, check.late) == (1, 0)  # P3, on the last day of its limit
    assert check.sla == ((15, "working"),)
    assert report.years == [2025]

    # 22/03: P3 ended the day after its 15th working day: late, though only 15 working days long
    _report, rows = _figures(history, reg, "2025-03-22")
    check = rows[("commune_review", "commune")]
    assert (check.ended, check.within_sla, check.open) == (3, 1, 0)
    assert round(check.share_within, 1) == 33.3
    assert check.median_days == 15

    # 10/06 and 11/06: P4 (1 working day, within) ended; in province_review since 02/04, late after 10/06
    _report, rows = _figures(history, reg, "2025-06-10")
    check = rows[("commune_review", "commune")]
    assert (check.ended, check.within_sla, check.share_within, check.median_days) == (4, 2, 50.0, 15)
    province = rows[("province_council", "province")]
    # P1 since 14/02 (45th working day 21/04) and P3 since 22/03 (29/05) are late; P4 not yet
    assert (province.ended, province.open, province.late) == (0, 3, 2)
    _report, rows = _figures(history, reg, "2025-06-11")
    province = rows[("province_council", "province")]
    assert (province.open, province.late) == (3, 3)


def test_calendar_days_limits_and_the_year(history, working_registry):
    reg = working_registry
    _report, rows = _figures(history, reg, "2025-12-02")
    district = rows[("district_council", "district")]
    # Q1 left a minute before its 30 days ran out, Q2 exactly at it; both stayed 22 working days
    assert (district.ended, district.with_sla, district.within_sla, district.median_days) == (2, 2, 1, 22)
    assert (district.open, district.late) == (1, 0)  # Q3's 30 days run out on 03/12 at 09:00
    assert district.sla == ((30, "calendar"),)
    _report, rows = _figures(history, reg, "2025-12-03")
    assert rows[("district_council", "district")].late == 1
    # final states have no limit: counted, never late
    rated = rows[("rated", "commune")]
    assert (rated.open, rated.late, rated.sla) == (2, 0, ())
    # another year: nothing ended then; the open stays are as of the day
    report, rows = _figures(history, reg, "2025-12-03", year=2024)
    assert all(r.ended == 0 for r in report.rows)
    assert rows[("district_council", "district")].open == 1
    assert report.year == 2024 and report.years == [2025]
    data = report_json(report, "en")
    assert data["year"] == 2024 and data["rows"][0]["median_working_days"] is None


def test_a_commune_sees_its_commune_and_nothing_else(history, working_registry, world):
    reg = working_registry
    commune = world.user("commune_association", "C1")
    report, rows = _figures(history, reg, "2025-06-11", actor=commune)
    assert report.org.code == "C1"
    check = rows[("commune_review", "commune")]
    assert (check.ended, check.within_sla, check.median_days) == (3, 2, 15)  # P1, P2, P4 (not P3 in C3)
    with pytest.raises(NotFound):
        _figures(history, reg, "2025-06-11", actor=commune, org_code="C3")
    with pytest.raises(NotFound):
        _figures(history, reg, "2025-06-11", actor=commune, org_code="D1")
    # the district of C3 sees P3 alone; the province sees all four
    _report, rows = _figures(history, reg, "2025-06-11", actor=world.user("district_secretariat", "D2"))
    assert rows[("commune_review", "commune")].ended == 1
    _report, rows = _figures(history, reg, "2025-06-11", actor=world.user("province_association", "P"), org_code="D1")
    assert rows[("commune_review", "commune")].ended == 3
    # a producer's own account may not read reports
    with pytest.raises(PermissionDenied):
        _figures(history, reg, "2025-06-11", actor=world.user("producer", "C1"))


def test_the_command_prints_the_same_figures(history, world, monkeypatch):
    from click.testing import CliRunner

    from ocop_workflow.cli import Context
    from ocop_workflow.cli_process import process

    monkeypatch.setenv("OCOP_DATABASE_URL", history.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("OCOP_LANG", "vi")
    contexts: list[Context] = []

    class Runner(CliRunner):
        def invoke(self, cmd, args):  # one Context per run, its database closed after
            contexts.append(Context())
            try:
                return super().invoke(cmd, args, obj=contexts[-1])
            finally:
                if contexts[-1]._db is not None:
                    contexts[-1]._db.dispose()

    runner = Runner()
    out = runner.invoke(process, ["--at", "2025-12-31", "--json"])
    assert out.exit_code == 0, out.output
    rows = {(r["stage"], r["level"]): r for r in json.loads(out.output)["rows"]}
    # the shipped definitions count calendar days: Q1 within its 30 days, Q2 not; both 22 working days
    district = rows[("district_council", "district")]
    assert (district["ended"], district["share_within_sla"], district["median_working_days"]) == (2, 50.0, 22)
    assert (district["open"], district["late"]) == (1, 1)
    table = runner.invoke(process, ["--at", "2025-12-31", "--as", world.user("commune_association", "C1")])
    assert table.exit_code == 0, table.output
    assert "Phượng Sơn" in table.output and "Hồ sơ tại Hội đồng huyện" in table.output
    line = next(x for x in table.output.splitlines() if x.startswith("Hồ sơ tại Hội đồng huyện"))
    # ended (Q1 only), within, median, open and late (Q3, past its 30 days on 31/12)
    assert line.split()[-6:] == ["1", "100,0", "%", "22", "1", "1"]
    refused = runner.invoke(process, ["--org", "C3", "--as", world.user("commune_association", "C1")])
    assert refused.exit_code != 0 and "error:" in refused.output
    future = runner.invoke(process, ["--at", "2099-01-01"])
    assert future.exit_code != 0 and "sau hôm nay" in future.output


def test_late_agrees_with_the_product_lists_rule(history, working_registry):
    """The open stays counted late are the products the lists and the reminder sweep call late on that day."""
    from sqlalchemy import func, select

    from ocop_workflow.reports.process import end_of_day
    from ocop_workflow.services.lateness import late_condition, late_params

    # days after the last move (the products table holds the state of now, not of a past day)
    for day in ("2025-12-02", "2025-12-03", "2025-12-31"):
        report, _rows = _figures(history, working_registry, day)
        moment = end_of_day(date.fromisoformat(day)) - timedelta(microseconds=1)
        with history.session() as s:
            stmt = select(func.count()).select_from(Product).where(late_condition(working_registry))
            listed = s.execute(stmt, late_params(working_registry, moment)).scalar_one()
        assert sum(r.late for r in report.rows) == listed, day
        assert sum(r.open for r in report.rows) == 7  # one open stay per product
