"""inkpass's pure rules, without servers: lockout maths, actions, roles, policies, key format."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.ids import new_id
from contracts.inkpass.models import (
    ConditionOp,
    ConditionV1,
    PolicyEffect,
    PolicySpecV1,
    TimeWindowV1,
)
from contracts.inkpass.types import OtpPurpose, Role
from inkpass.domain import apikeys, otp
from inkpass.domain.actions import action_matches, pattern_covered
from inkpass.domain.errors import InkPassError
from inkpass.domain.lockout import Counter, Limit, reserve
from inkpass.domain.passwords import check_new_password
from inkpass.domain.policy import Policy, Principal, condition_holds, evaluate, in_window
from inkpass.domain.roles import may_assign, may_manage, role_allows

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
LIMIT = Limit(3, timedelta(minutes=15), timedelta(seconds=30), timedelta(minutes=15))


def test_the_attempt_that_reaches_the_limit_locks_the_door_behind_it() -> None:
    counter = None
    for _ in range(3):
        r = reserve(counter, LIMIT, NOW)
        assert r.allowed
        counter = r.counter
    assert r.locked_now
    assert counter is not None
    assert counter.locked_until == NOW + timedelta(seconds=30)
    refused = reserve(counter, LIMIT, NOW + timedelta(seconds=10))
    assert not refused.allowed
    assert refused.retry_after_s == 21


def test_locks_grow_while_attempts_keep_failing_but_never_beyond_the_cap() -> None:
    counter = Counter(3, NOW, NOW)
    locks = []
    at = NOW
    for _ in range(8):
        r = reserve(counter, LIMIT, at)
        assert r.allowed
        counter = r.counter
        assert counter.locked_until is not None
        locks.append(counter.locked_until - at)
        at = counter.locked_until
    assert locks[0] == timedelta(seconds=60)
    assert locks == sorted(locks)
    assert max(locks) == LIMIT.max_lock


def test_a_quiet_key_starts_afresh() -> None:
    counter = Counter(2, NOW - timedelta(hours=1), None)
    r = reserve(counter, LIMIT, NOW)
    assert r.counter.attempts == 1
    assert r.counter.window_started_at == NOW


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("*", "den.file.read", True),
        ("den.*", "den.file.read", True),
        ("den.*", "mimic.send.run", False),
        ("*.*.read", "den.file.read", True),
        ("*.*.read", "den.file.write", False),
        ("den.file.read", "den.file.read", True),
        ("den.file", "den.file.read", False),
        ("den.file.read.x", "den.file.read", False),
    ],
)
def test_action_patterns(pattern: str, action: str, matches: bool) -> None:
    assert action_matches(pattern, action) is matches


@pytest.mark.parametrize(
    ("scope", "grants", "covered"),
    [
        ("den.file.read", ["*.*.read"], True),
        ("den.file.*", ["*.*.read"], False),
        ("den.*", ["*"], True),
        ("*", ["*.*.read", "*.*.list"], False),
        ("den.file.*", ["den.*"], True),
        ("den.*", ["den.file.*"], False),
    ],
)
def test_a_scope_is_granted_only_by_a_wider_grant(
    scope: str, grants: list[str], covered: bool
) -> None:
    assert pattern_covered(scope, grants) is covered


def test_roles() -> None:
    assert role_allows(Role.VIEWER, "den.file.read")
    assert not role_allows(Role.VIEWER, "den.file.delete")
    assert not role_allows(Role.DEVELOPER, "inkpass.member.invite")
    assert role_allows(Role.ADMIN, "inkpass.member.invite")
    assert not role_allows(Role.ADMIN, "inkpass.org.delete")
    assert may_assign(Role.ADMIN, Role.ADMIN)
    assert not may_assign(Role.ADMIN, Role.OWNER)
    assert not may_manage(Role.ADMIN, Role.OWNER)
    assert not may_assign(Role.DEVELOPER, Role.ADMIN)


def _attrs(**resource: Any) -> dict[str, Any]:
    return {
        "actor": {"user_id": "u1", "roles": ["viewer"], "attributes": {"level": 3}},
        "resource": {"type": "file", "attributes": resource},
        "context": {"source_ip": "10.0.0.7"},
    }


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (ConditionV1(attribute="resource.attributes.a", op=ConditionOp.EQ, value="x"), True),
        (ConditionV1(attribute="resource.attributes.a", op=ConditionOp.NE, value="y"), True),
        (ConditionV1(attribute="resource.attributes.n", op=ConditionOp.EQ, value=True), False),
        (ConditionV1(attribute="resource.attributes.n", op=ConditionOp.GT, value=1), True),
        (ConditionV1(attribute="resource.attributes.n", op=ConditionOp.LTE, value=1), False),
        (ConditionV1(attribute="resource.attributes.n", op=ConditionOp.GT, value="1"), False),
        (ConditionV1(attribute="resource.attributes.a", op=ConditionOp.IN, value=["x", "z"]), True),
        (ConditionV1(attribute="resource.attributes.a", op=ConditionOp.NOT_IN, value=["x"]), False),
        (ConditionV1(attribute="resource.attributes.p", op=ConditionOp.PREFIX, value="/a/"), True),
        (ConditionV1(attribute="resource.attributes.t", op=ConditionOp.CONTAINS, value="hr"), True),
        (ConditionV1(attribute="resource.attributes.a", op=ConditionOp.EXISTS), True),
        (ConditionV1(attribute="resource.attributes.zz", op=ConditionOp.EXISTS), False),
        (ConditionV1(attribute="resource.attributes.zz", op=ConditionOp.NE, value="q"), False),
        (
            ConditionV1(attribute="context.source_ip", op=ConditionOp.IN_CIDR, value="10.0.0.0/24"),
            True,
        ),
        (ConditionV1(attribute="context.source_ip", op=ConditionOp.IN_CIDR, value="bad"), False),
        (
            ConditionV1(
                attribute="resource.attributes.owner", op=ConditionOp.EQ, value_from="actor.user_id"
            ),
            True,
        ),
        (
            ConditionV1(
                attribute="actor.attributes.level",
                op=ConditionOp.GTE,
                value_from="resource.attributes.n",
            ),
            True,
        ),
    ],
)
def test_conditions(condition: ConditionV1, holds: bool) -> None:
    attrs = _attrs(a="x", n=2, p="/a/b", t=["hr", "ops"], owner="u1")
    assert condition_holds(condition, attrs) is holds


def test_windows_span_midnight_and_respect_weekdays_and_zones() -> None:
    night = TimeWindowV1(timezone="UTC", start=time(22, 0), end=time(6, 0))
    assert in_window(night, NOW.replace(hour=23))
    assert in_window(night, NOW.replace(hour=3))
    assert not in_window(night, NOW)
    weekend = TimeWindowV1(weekdays=[6, 7])
    assert not in_window(weekend, NOW)
    tokyo_office = TimeWindowV1(timezone="Asia/Tokyo", start=time(9, 0), end=time(18, 0))
    assert not in_window(tokyo_office, NOW)  # 21:00 in Tokyo
    assert in_window(tokyo_office, NOW.replace(hour=1))  # 10:00 in Tokyo


def test_deny_overrides_allow_and_keys_stay_within_scopes_and_role() -> None:
    deny = Policy("p-deny", PolicySpecV1(name="d", effect=PolicyEffect.DENY, actions=["den.*"]))
    allow = Policy(
        "p-allow", PolicySpecV1(name="a", effect=PolicyEffect.ALLOW, actions=["den.file.update"])
    )
    viewer = Principal("u1", (Role.VIEWER,))
    resource = {"type": "file", "attributes": {}}
    assert evaluate(viewer, "den.file.update", resource, {}, [allow], NOW).allowed
    decision = evaluate(viewer, "den.file.update", resource, {}, [allow, deny], NOW)
    assert (decision.allowed, decision.policy_id) == (False, "p-deny")
    key = Principal("u1", (Role.DEVELOPER,), api_key_id="k1", scopes=("den.file.*",))
    assert evaluate(key, "den.file.delete", resource, {}, [], NOW).allowed
    assert not evaluate(key, "den.folder.read", resource, {}, [], NOW).allowed
    weak_key = Principal("u1", (Role.VIEWER,), api_key_id="k1", scopes=("den.file.*",))
    assert not evaluate(weak_key, "den.file.delete", resource, {}, [], NOW).allowed


@given(st.binary(min_size=0, max_size=100))
def test_garbage_never_parses_as_a_key(noise: bytes) -> None:
    assert apikeys.parse("fxk_" + noise.hex()) is None


def test_keys_round_trip_and_any_change_breaks_the_checksum() -> None:
    org = new_id()
    key = apikeys.new_key(org)
    parsed = apikeys.parse(key)
    assert parsed is not None
    assert parsed.org_id == org
    for i in range(4, len(key)):
        changed = key[:i] + ("0" if key[i] != "0" else "1") + key[i + 1 :]
        assert apikeys.parse(changed) is None


def test_otp_hashes_bind_person_and_purpose() -> None:
    key = b"k" * 32
    h = otp.code_hash(key, "u1", OtpPurpose.LOGIN, "123456")
    assert h != otp.code_hash(key, "u1", OtpPurpose.RESET_PASSWORD, "123456")
    assert h != otp.code_hash(key, "u2", OtpPurpose.LOGIN, "123456")
    assert len(otp.new_code()) == 6


@pytest.mark.parametrize("password", ["password1234", "zzzzzzzzzzzz", "alice.smith-rocks"])
def test_guessable_passwords(password: str) -> None:
    with pytest.raises(InkPassError):
        check_new_password(password, email="alice.smith@example.com")
    check_new_password("a much better one here", email="alice.smith@example.com")
