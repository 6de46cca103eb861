"""The demo's recognition decisions and certificates, and the demo products still on version 1 that
`ocop workflow migrate` moves (issue #10), as someone exploring the demo would find them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ocop_workflow import migrate_db
from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.demo import load_demo
from ocop_workflow.engine import Registry, get_registry
from ocop_workflow.models import Certificate, Product, ProductEvent, RecognitionDecision
from ocop_workflow.reminders.sweep import run_sweep
from ocop_workflow.services import decisions
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.certificates import COUNTING, status_of, valid_on
from ocop_workflow.services.listing import ProductFilter, certified_counts, list_products

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TODAY = NOW.date()
OCOP = [sys.executable, "-m", "ocop_workflow.cli"]


@dataclass
class Demo:
    db: Database
    registry: Registry
    url: str
    instance: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo_recognition")
    url = "sqlite:///" + str(tmp / "demo.sqlite3")
    migrate_db.upgrade(url)
    db = Database(url)
    registry = get_registry()
    load_demo(db, registry, tmp / "uploads", now=NOW)
    yield Demo(db, registry, url, tmp)
    db.dispose()


def _certificates(demo: Demo) -> list[Certificate]:
    with demo.db.session() as s:
        return list(s.scalars(select(Certificate).order_by(Certificate.id)))


def test_recognised_products_hold_signed_decisions_and_certificates(demo: Demo) -> None:
    with demo.db.session() as s:
        certs = list(s.scalars(select(Certificate).order_by(Certificate.id)))
        statuses = Counter(status_of(c, TODAY) for c in certs)
        assert statuses["expired"] >= 1 and statuses["revoked"] == 1 and statuses["superseded"] >= 2
        assert statuses["valid"] >= 5 and statuses["expiring"] >= 2
        signed = list(s.scalars(select(RecognitionDecision).where(RecognitionDecision.status == "signed")))
        assert {d.level for d in signed} == {"district", "province", "central"}
        assert all(d.number and d.signed_on <= TODAY and d.signer_id for d in signed)
        assert len({(d.organisation_id, d.number) for d in signed}) == len(signed)
        for c in certs:  # every certificate comes from a signed decision of its level, issued on its date
            assert c.decision is not None and c.decision.status == "signed"
            assert (c.issued_on, c.level) == (c.decision.signed_on, c.decision.level)
        # every product rated (or upgraded) with 3★ or more holds, or held, a certificate of that star
        by_product = {c.product_id: c for c in sorted(certs, key=lambda c: (c.issued_on, c.id))}
        for p in s.scalars(select(Product).where(Product.state.in_(("rated", "upgraded")))):
            if (p.current_star or 0) >= 3:
                assert by_product[p.id].star == p.current_star, p.name
        # one expired: signed more than 36 months ago; the revoked one says why and by which decision
        expired = [c for c in certs if status_of(c, TODAY) == "expired"]
        assert all(c.expires_on <= TODAY and c.issued_on < TODAY - timedelta(days=3 * 365) for c in expired)
        (revoked,) = [c for c in certs if c.revoked_on is not None]
        assert revoked.revoke_reason and revoked.revoke_decision and revoked.revoked_by_id
        # superseded by a successful upgrade: the successor has a higher star
        upgraded = [c for c in certs if c.superseded_by_id and s.get(Certificate, c.superseded_by_id).star > c.star]
        assert upgraded
        expiring = [c for c in certs if status_of(c, TODAY) == "expiring"]
        assert all(0 < (c.expires_on - TODAY).days <= 90 for c in expiring)


def test_chairs_find_products_awaiting_their_decision(demo: Demo) -> None:
    with demo.db.session() as s:
        chair = load_actor(s, "chutich.tinh@demo.ocop.vn", TODAY)
        drafts = decisions.list_decisions(s, chair, status="draft")
        assert drafts and all(d.level == "province" for d in drafts)
        assert {e.product.state for d in drafts for e in d.entries} == {"province_recognition"}
        assert {e.product.workflow_key for d in drafts for e in d.entries} == {"ocop-148", "ocop-1489"}
        states = Counter((p.workflow_key, p.state) for p in s.scalars(select(Product)))
        for key, state in [
            ("ocop-148", "district_recognition"),
            ("ocop-148", "province_recognition"),
            ("ocop-148", "central_recognition"),
            ("ocop-1489", "province_recognition"),
            ("ocop-1489", "central_recognition"),
        ]:
            assert states[(key, state)] >= 1, (key, state)
        for login in ("chutich.lucngan", "lanhdao.bo"):
            assert load_actor(s, f"{login}@demo.ocop.vn", TODAY).memberships


def test_certified_in_lists_means_a_certificate_valid_today(demo: Demo) -> None:
    certs = _certificates(demo)
    with demo.db.session() as s:
        admin = load_actor(s, "admin@demo.ocop.vn", TODAY)
        valid3 = {c.product_id for c in certs if c.star == 3 and status_of(c, TODAY) in COUNTING}
        page = list_products(s, demo.registry, admin, ProductFilter(star=3, on=TODAY), per_page=200)
        assert {p.id for p in page.items} == valid3
        gone = {c.product_id for c in certs if c.star == 3 and status_of(c, TODAY) in ("expired", "revoked")}
        assert gone and not gone & valid3
        # the same filter a year earlier: the expired certificate and the revoked one still counted
        before = list_products(s, demo.registry, admin, ProductFilter(star=3, on=TODAY - timedelta(days=365)))
        assert gone <= {p.id for p in before.items}
        counts = certified_counts(s, admin, TODAY)
        assert sum(counts.values()) == len(set(s.scalars(select(Certificate.product_id).where(valid_on(TODAY)))))
        assert set(counts) <= {3, 4, 5} and counts.get(3)


def test_expiring_demo_certificates_have_their_notices(demo: Demo) -> None:
    settings = replace(Settings(), database_url=demo.url, smtp_url=None)
    report = run_sweep(demo.db, demo.registry, settings, now=NOW, dry_run=True, send=False)
    expiring = [c for c in _certificates(demo) if status_of(c, TODAY) == "expiring"]
    assert report.certificates >= len(expiring) >= 2


def _cli(demo: Demo, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(demo.instance), "OCOP_DATABASE_URL": demo.url, "OCOP_LANG": "en"})
    return subprocess.run([*OCOP, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("key", ["ocop-148", "ocop-1489"])
def test_workflow_migrate_moves_every_demo_product_in_flight(demo: Demo, key: str) -> None:
    latest = demo.registry.latest(key).version
    with demo.db.session() as s:
        before = {p.id: p.state for p in s.scalars(select(Product).where(Product.workflow_key == key))}
        rows = s.scalars(select(Product).where(Product.workflow_key == key))
        older = {p.id for p in rows if p.workflow_version < latest}
    assert older
    dry = _cli(demo, "workflow", "migrate", "--from", key, "--to", key)
    assert dry.returncode == 0, dry.stderr
    with demo.db.session() as s:  # a dry run writes nothing
        assert {p.id for p in s.scalars(select(Product).where(Product.workflow_version < latest))} >= older
    applied = _cli(demo, "workflow", "migrate", "--from", key, "--to", key, "--apply")
    assert applied.returncode == 0, applied.stderr
    with demo.db.session() as s:
        products = list(s.scalars(select(Product).where(Product.workflow_key == key)))
        assert all(p.workflow_version == latest for p in products)
        assert {p.id: p.state for p in products} == before  # the same states exist in version 2
        moved = s.scalars(select(ProductEvent.product_id).where(ProductEvent.trigger == "migrate_workflow")).all()
        assert older <= set(moved)
        assert not (set(moved) & (set(before) - older))  # products already on version 2 are left alone
