"""Two people advance the same product at the same moment: exactly one wins."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ocop_workflow.errors import StaleVersion
from ocop_workflow.models import ProductEvent
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import advance

from .helpers import attach, new_product, product_row


def test_two_concurrent_advances_with_the_same_version(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    version = product_row(db, pid).version
    with db.session() as s:
        events_before = s.scalar(select(func.count()).select_from(ProductEvent).where(ProductEvent.product_id == pid))

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(trigger: str, comment: str | None) -> None:
        session = db.write_session()
        try:
            barrier.wait(timeout=10)
            actor = load_actor(session, officer)
            advance(session, registry, pid, trigger, actor, comment=comment, expected_version=version)
            session.commit()
            result = f"won:{trigger}"
        except StaleVersion:
            session.rollback()
            result = "stale"
        except Exception as exc:  # anything else is a failure of the test
            session.rollback()
            result = f"error:{type(exc).__name__}:{exc}"
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=attempt, args=("accept_idea", None)),
        threading.Thread(target=attempt, args=("withdraw", "Chủ thể xin rút")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(o.split(":")[0] for o in outcomes) == ["stale", "won"], outcomes
    winner = next(o for o in outcomes if o.startswith("won")).split(":")[1]
    p = product_row(db, pid)
    assert p.state == {"accept_idea": "production_plan", "withdraw": "withdrawn"}[winner]
    assert p.version == version + 1
    with db.session() as s:
        events_after = s.scalar(select(func.count()).select_from(ProductEvent).where(ProductEvent.product_id == pid))
    assert events_after == events_before + 1


def test_concurrent_advances_without_expected_version_serialise(db, registry, world, upload_dir):
    """Without a version the second writer sees the first's result and is judged on it."""
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        session = db.write_session()
        try:
            barrier.wait(timeout=10)
            advance(session, registry, pid, "accept_idea", load_actor(session, officer))
            session.commit()
            outcomes.append("won")
        except Exception as exc:
            session.rollback()
            outcomes.append(type(exc).__name__)
        finally:
            session.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # the loser either saw the new state (invalid trigger) or lost the version race (stale)
    assert sorted(outcomes) in (["InvalidTrigger", "won"], ["StaleVersion", "won"]), outcomes
    assert product_row(db, pid).history_count == 2
