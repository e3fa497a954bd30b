"""Sessions: refresh rotation, reuse detection, races, logout, revoke-all, switching orgs, and
revocations reaching local verifiers in other processes (own connection, own cache)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from functools import partial

import pytest
from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    CreateOrgV1,
    ListOrgsV1,
    LogoutV1,
    RefreshSessionV1,
    RevokeAllSessionsV1,
    SwitchOrgV1,
    TokenPairV1,
    VerifyTokenV1,
)
from shared.auth import LocalVerifier, RevocationsUnavailable, TokenRejected
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from tests.inkpass.conftest import (
    Db,
    Mailbox,
    new_account,
    raw_request,
    remote_error,
    snapshot,
    tokens,
)
from tests.shared.bus.conftest import eventually


@pytest.fixture
async def verifier(
    inkpass: ServiceApp, platform_settings: PlatformSettings
) -> AsyncIterator[LocalVerifier]:
    """A verifier on its own connection: nothing shared with inkpass but the bus."""
    other = await Bus(platform_settings, name="other-service").connect()
    local = LocalVerifier.from_bus(other)
    await local.start()
    yield local
    await local.stop()
    await other.close()


async def _refresh(bus: Bus, token: SecretStr) -> TokenPairV1:
    return await bus.request(s.REFRESH, RefreshSessionV1(refresh_token=token))


async def _rejected(verifier: LocalVerifier, token: SecretStr) -> bool:
    try:
        verifier.verify(token.get_secret_value())
    except TokenRejected as exc:
        return exc.code == "inkpass.token_revoked"
    return False


async def test_refresh_rotates_and_reuse_ends_the_whole_family(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, verifier: LocalVerifier, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    second = await _refresh(bus, alice.refresh)
    third = await _refresh(bus, second.refresh_token)
    assert third.session_id == alice.tokens.session_id
    assert third.refresh_token != second.refresh_token
    verifier.verify(third.access_token.get_secret_value())

    # Replaying a rotated-away token: a thief or a bug; either way the family ends.
    err = await remote_error(_refresh(bus, alice.refresh))
    assert err.code == "inkpass.refresh_reused"
    for pair in (second, third):
        err = await remote_error(_refresh(bus, pair.refresh_token))
        assert err.code == "inkpass.token_revoked"
        err = await remote_error(
            bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=pair.access_token))
        )
        assert err.code == "inkpass.token_revoked"
        await eventually(partial(_rejected, verifier, pair.access_token), timeout=5)
    kinds = await db.fetch(
        "select kind from audit_log where user_id = $1 order by occurred_at", alice.user_id
    )
    assert "refresh_reused" in [k["kind"] for k in kinds]


async def test_concurrent_refreshes_cannot_fork_a_family(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    results = await asyncio.gather(
        *(_refresh(bus, alice.refresh) for _ in range(8)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, TokenPairV1)]
    losers = [r for r in results if isinstance(r, RemoteError)]
    assert len(winners) == 1, results
    assert {e.code for e in losers} <= {"inkpass.refresh_reused", "inkpass.token_revoked"}
    assert losers
    # The reuse ended the family: not even the winner's new refresh token works.
    err = await remote_error(_refresh(bus, winners[0].refresh_token))
    assert err.code == "inkpass.token_revoked"
    live = await db.fetchval(
        "select count(*) from sessions where user_id = $1 and revoked_at is null", alice.user_id
    )
    assert live == 0


async def test_logout_reaches_a_local_verifier_in_another_process(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, verifier: LocalVerifier
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    assert verifier.verify(alice.access.get_secret_value()).session_id == alice.tokens.session_id
    await bus.request(s.LOGOUT, LogoutV1(token=alice.refresh))
    await eventually(partial(_rejected, verifier, alice.access), timeout=5)
    # Logging out twice changes nothing more.
    await bus.request(s.LOGOUT, LogoutV1(token=alice.access))


async def test_a_verifier_started_later_still_knows_recent_revocations(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, platform_settings: PlatformSettings
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    await bus.request(s.LOGOUT, LogoutV1(token=alice.access))
    late = await Bus(platform_settings, name="late-service").connect()
    local = LocalVerifier.from_bus(late)
    with pytest.raises(RevocationsUnavailable):  # fails closed until it has caught up
        local.verify(alice.access.get_secret_value())
    await local.start()
    try:
        assert await _rejected(local, alice.access)
    finally:
        await local.stop()
        await late.close()


async def test_revoke_all_ends_sessions_in_every_org(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, verifier: LocalVerifier
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    second_org = await bus.request(
        s.CREATE_ORG,
        CreateOrgV1(access_token=alice.access, name="Side project"),
    )
    elsewhere = await tokens(bus, alice.email, org_id=second_org.org_id)
    assert elsewhere.org_id == second_org.org_id
    bob = await new_account(bus, mailbox, "bob")
    ended = await bus.request(s.REVOKE_ALL, RevokeAllSessionsV1(access_token=alice.access))
    assert ended.sessions == 2
    for token in (alice.access, elsewhere.access_token):
        await eventually(partial(_rejected, verifier, token), timeout=5)
    # Nobody else's sessions were touched.
    assert verifier.verify(bob.access.get_secret_value()).user_id == bob.user_id


async def test_switching_orgs_needs_membership(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    bob = await new_account(bus, mailbox, "bob")
    side = await bus.request(
        s.CREATE_ORG,
        CreateOrgV1(access_token=alice.access, name="Side"),
    )
    switched = await bus.request(
        s.SWITCH_ORG,
        SwitchOrgV1(access_token=alice.access, org_id=side.org_id),
    )
    assert switched.org_id == side.org_id
    assert switched.session_id != alice.tokens.session_id
    orgs = await bus.request(s.LIST_ORGS, ListOrgsV1(access_token=switched.access_token))
    assert {o.org_id for o in orgs.orgs} == {alice.org_id, side.org_id}

    before = await snapshot(db)
    err = await remote_error(
        bus.request(s.SWITCH_ORG, SwitchOrgV1(access_token=bob.access, org_id=side.org_id))
    )
    assert err.code == "inkpass.not_a_member"
    reply = await raw_request(
        bus,
        s.SWITCH_ORG,
        SwitchOrgV1(access_token=bob.access, org_id="x"),
        org_id="x.>",
    )
    assert reply["error"]["code"] == "bus.invalid_payload"
    assert await snapshot(db) == before
    # Sign-in into the last-used org by default.
    assert (await tokens(bus, alice.email)).org_id == side.org_id


async def test_revocation_reaches_a_verifier_in_a_separate_os_process(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, platform_settings: PlatformSettings
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    assert platform_settings.secret_key is not None
    script = (
        "import asyncio, sys\n"
        "from shared.auth import LocalVerifier, TokenRejected\n"
        "from shared.bus import Bus\n"
        "from shared.settings import PlatformSettings\n"
        "async def main():\n"
        "    bus = await Bus(PlatformSettings(), name='child').connect()\n"
        "    v = LocalVerifier.from_bus(bus)\n"
        "    await v.start()\n"
        "    token = sys.stdin.readline().strip()\n"
        "    v.verify(token)\n"
        "    print('accepted', flush=True)\n"
        "    while True:\n"
        "        try:\n"
        "            v.verify(token)\n"
        "        except TokenRejected as exc:\n"
        "            print(exc.code, flush=True)\n"
        "            return\n"
        "        await asyncio.sleep(0.005)\n"
        "asyncio.run(main())\n"
    )
    env = {
        "FLUXOS_NATS_URL": platform_settings.nats_url,
        "FLUXOS_SECRET_KEY": platform_settings.secret_key.get_secret_value(),
        "PATH": "/usr/bin:/bin",
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        child.stdin.write(alice.access.get_secret_value().encode() + b"\n")
        await child.stdin.drain()
        assert (await asyncio.wait_for(child.stdout.readline(), 20)).strip() == b"accepted"
        await bus.request(s.LOGOUT, LogoutV1(token=alice.access))
        line = await asyncio.wait_for(child.stdout.readline(), 10)
        assert line.strip() == b"inkpass.token_revoked"
        assert await asyncio.wait_for(child.wait(), 10) == 0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
