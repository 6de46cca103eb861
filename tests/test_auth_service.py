"""Issue #8: the core's login, session, password and language services, on SQLite and PostgreSQL,
without Flask: authenticate (throttled, rehash on login), server-side sessions, change_password,
set_locale, deactivation, and the password rule everywhere a password is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from ocop_workflow.errors import InvalidData
from ocop_workflow.models import ApiToken, LoginFailure, User, UserSession
from ocop_workflow.passwords import password_problems, verify_password
from ocop_workflow.services import accounts, auth, directory, sessions, tokens
from ocop_workflow.services.access import load_actor

from .world import PASSWORD

NEW = "dua-hau-may-bay-7"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LIMITS = auth.LoginLimits(account_limit=3, ip_limit=5, window=timedelta(minutes=15))


def _email(world) -> str:
    return world.user("commune_officer", "C1")


# --- authenticate and throttling -----------------------------------------------------------------
def test_authenticate_returns_the_user_or_one_refusal_for_every_reason(db, world):
    email = _email(world)
    with db.transaction() as s:
        directory.create_user(s, email="no-pass@test.ocop.vn", name="Không mật khẩu", password=None)
        assert auth.authenticate(s, " " + email.upper(), PASSWORD, ip="10.0.0.1").email == email
        for who, password in ((email, "sai-mat-khau"), ("nobody@test.ocop.vn", PASSWORD), ("no-pass@test.ocop.vn", "")):
            with pytest.raises(auth.LoginFailed) as caught:
                auth.authenticate(s, who, password, ip="10.0.0.1")
            assert caught.value.message("en") == "Wrong e-mail or password, or the account is deactivated."
        s.scalars(select(User).where(User.email == email)).one().active = False
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(s, email, PASSWORD)


def test_failures_lock_the_account_then_the_window_frees_it(db, world):
    email = _email(world)
    with db.transaction() as s:
        for n in range(3):
            with pytest.raises(auth.LoginFailed):
                auth.authenticate(s, email, "sai", ip=f"10.0.0.{n}", limits=LIMITS, now=T0 + timedelta(minutes=n))
        with pytest.raises(auth.LoginThrottled) as caught:  # the right password waits too
            auth.authenticate(s, email, PASSWORD, ip="10.9.9.9", limits=LIMITS, now=T0 + timedelta(minutes=3))
        assert caught.value.kind == "account" and caught.value.retry_after == 12 * 60
        assert "thử lại sau 12 phút" in caught.value.message("vi")
        # the first failure leaves the window at T0 + 15 min
        assert (
            auth.authenticate(
                s, email, PASSWORD, ip="10.9.9.9", limits=LIMITS, now=T0 + timedelta(minutes=15, seconds=1)
            ).email
            == email
        )
        # the success cleared the account's failures; the old rows are forgotten as new ones come in
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(s, email, "sai", ip="10.0.0.1", limits=LIMITS, now=T0 + timedelta(minutes=40))
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 2


def test_an_address_is_locked_after_its_own_limit_across_accounts(db, world):
    with db.transaction() as s:
        for n in range(5):
            with pytest.raises(auth.LoginFailed):
                auth.authenticate(s, f"x{n}@test.ocop.vn", "sai", ip="10.0.0.1", limits=LIMITS, now=T0)
        with pytest.raises(auth.LoginThrottled) as caught:
            auth.authenticate(s, _email(world), PASSWORD, ip="10.0.0.1", limits=LIMITS, now=T0)
        assert caught.value.kind == "ip" and "from your address" in caught.value.message("en")
        assert auth.authenticate(s, _email(world), PASSWORD, ip="10.0.0.2", limits=LIMITS, now=T0)


def test_a_login_checked_before_a_password_change_or_deactivation_fails(db, world):
    email = _email(world)
    with db.session() as s:
        check = auth.check_login(s, email, PASSWORD)
    assert check.verified_hash and PASSWORD not in repr(check)
    with db.transaction() as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        user.password_hash = PasswordHasher().hash(NEW)
    with db.transaction() as s, pytest.raises(auth.LoginFailed):
        auth.finish_login(s, check)
    with db.session() as s:
        check = auth.check_login(s, email, NEW)
    with db.transaction() as s:
        s.scalars(select(User).where(User.email == email)).one().active = False
    with db.transaction() as s, pytest.raises(auth.LoginFailed):
        auth.finish_login(s, check)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 2  # both counted against the account


def test_a_hash_with_old_parameters_is_replaced_on_login(db, world):
    email = _email(world)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with db.transaction() as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        user.password_hash = weak
    with db.transaction() as s:
        auth.authenticate(s, email, PASSWORD)
    with db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.email == email))
        assert stored != weak and "m=65536" in stored and verify_password(stored, PASSWORD)


# --- sessions -----------------------------------------------------------------------------------
def test_sessions_start_end_and_expire(db, world):
    with db.transaction() as s:
        user = s.scalars(select(User).where(User.email == _email(world))).one()
        a = sessions.start_session(s, user, lifetime=timedelta(hours=12), now=T0, user_agent="Firefox", ip="10.0.0.1")
        b = sessions.start_session(s, user, lifetime=timedelta(days=7), remember=True, now=T0)
        assert a.token not in repr(a) and a.row.token_hash == sessions.hash_token(a.token)
        live = sessions.load_login(s, a.token, now=T0 + timedelta(hours=1))
        assert live.actor.user.email == _email(world) and live.session_id == a.row.id and live.actor.memberships
        assert sessions.load_login(s, a.token, now=T0 + timedelta(hours=12)) is None  # expired
        assert sessions.load_login(s, b.token, now=T0 + timedelta(days=6)) is not None
        assert sessions.load_login(s, "x" * 500) is None and sessions.load_login(s, a.token[:-1] + "A") is None
        sessions.end_session(s, b.row.id, now=T0 + timedelta(hours=2))
        assert sessions.load_login(s, b.token, now=T0 + timedelta(hours=3)) is None
        assert sessions.touch(s, a.row.id, T0, now=T0 + timedelta(minutes=10))
        assert not sessions.touch(s, a.row.id, T0 + timedelta(minutes=10), now=T0 + timedelta(minutes=11))


def test_change_password_ends_other_sessions_and_revokes_tokens_by_choice(db, world):
    email = _email(world)
    with db.transaction() as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        here = sessions.start_session(s, user, lifetime=timedelta(hours=1))
        there = sessions.start_session(s, user, lifetime=timedelta(hours=1))
        token = tokens.create_token(s, user, name="script").token
        actor = load_actor(s, user.id)
        with pytest.raises(InvalidData) as caught:
            auth.change_password(s, actor, "sai", NEW, revoke_tokens=False, keep_session=here.row.id)
        assert caught.value.details["field"] == "current"
        with pytest.raises(InvalidData) as caught:
            auth.change_password(s, actor, PASSWORD, email, revoke_tokens=False)
        assert "e-mail" in caught.value.message("en")
        assert sessions.load_login(s, there.token) is not None  # a refusal changes nothing
        done = auth.change_password(s, actor, PASSWORD, NEW, revoke_tokens=False, keep_session=here.row.id)
        assert done.sessions_ended == 1 and done.tokens_revoked == 0
        assert sessions.load_login(s, here.token) is not None and sessions.load_login(s, there.token) is None
        assert tokens.authenticate(s, token)
        done = auth.change_password(s, actor, NEW, NEW + "-2", revoke_tokens=True, keep_session=here.row.id)
        assert done.tokens_revoked == 1
        with pytest.raises(tokens.InvalidToken):
            tokens.authenticate(s, token)
    with db.transaction() as s:
        assert auth.authenticate(s, email, NEW + "-2")


def test_deactivation_ends_every_session(db, world):
    with db.transaction() as s:
        officer = s.scalars(select(User).where(User.email == _email(world))).one()
        started = [sessions.start_session(s, officer, lifetime=timedelta(hours=1)) for _ in range(2)]
        admin = load_actor(s, world.user("admin", "P"))
        accounts.set_user_active(s, admin, officer.id, False)
        accounts.set_user_active(s, admin, officer.id, True)
        assert all(sessions.load_login(s, x.token) is None for x in started)
        assert s.scalar(select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))) == 0


def test_set_locale(db, world):
    with db.transaction() as s:
        actor = load_actor(s, _email(world))
        assert auth.set_locale(s, actor, "en").locale == "en"
        with pytest.raises(InvalidData) as caught:
            auth.set_locale(s, actor, "fr")
        assert caught.value.message("vi") == "Ngôn ngữ phải là một trong vi, en"


def test_deleting_a_user_deletes_their_sessions(db, world):
    with db.transaction() as s:
        user = directory.create_user(s, email="tam@test.ocop.vn", name="Tạm", password=None)
        sessions.start_session(s, user, lifetime=timedelta(hours=1))
        tokens.create_token(s, user, name="t")
    with db.transaction() as s:
        s.delete(s.scalars(select(User).where(User.email == "tam@test.ocop.vn")).one())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UserSession)) == 0
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 0


# --- the password rule --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("ngan", "at least 8 characters"),
        ("x" * 201, "at most 200 characters"),
        ("Binh.TV@xa.vn", "not be the e-mail"),
        ("binh.tv.", "not be the e-mail"),
        ("Trần Văn Bình", "not be the user's name"),
        ("tranvanbinh", "not be the user's name"),
        ("12345678", "most common passwords"),
        ("iloveyou", "most common passwords"),
        ("Password1", "most common passwords"),
        ("hjkl;hjkl;", "too easy to guess"),
        ("ocopocopocop", "too easy to guess"),
        ("binh19901990", "too easy to guess"),
    ],
)
def test_the_password_rule_refuses(password, reason):
    problems = password_problems(password, email="binh.tv@xa.vn", name="Trần Văn Bình")
    assert len(problems) == 1 and reason in problems[0].en, problems
    assert problems[0].vi != problems[0].en


@pytest.mark.parametrize("password", [PASSWORD, "dua-hau-may-bay-7", "ocop-demo-2025", "Vải thiều Lục Ngạn 2026"])
def test_the_password_rule_accepts(password):
    assert password_problems(password, email="binh.tv@xa.vn", name="Trần Văn Bình") == []


def test_create_user_applies_the_rule(db):
    with db.transaction() as s:
        with pytest.raises(InvalidData) as caught:
            directory.create_user(s, email="an@xa.vn", name="An", password="password123")
        assert "phổ biến" in caught.value.message("vi")
        assert directory.create_user(s, email="an@xa.vn", name="An", password=NEW).password_hash
