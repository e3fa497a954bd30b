"""API keys: format, hashing at rest, scopes within the creator's role, expiry, instant
revocation, last use, and keys of one tenant out of reach of another."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    ApiKeyCreatedV1,
    CreateApiKeyV1,
    ListApiKeysV1,
    RevokeApiKeyV1,
    VerifyApiKeyV1,
)
from inkpass.domain import apikeys as key_format
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    Account,
    Db,
    Mailbox,
    StartInkPass,
    join_as,
    new_account,
    remote_error,
    snapshot,
)
from tests.shared.bus.conftest import eventually


async def _create(
    bus: Bus, account: Account, *scopes: str, expires_at: datetime | None = None
) -> ApiKeyCreatedV1:
    return await bus.request(
        s.CREATE_API_KEY,
        CreateApiKeyV1(
            access_token=account.access,
            name="ci",
            scopes=list(scopes) or ["den.*"],
            expires_at=expires_at,
        ),
    )


async def _verify(bus: Bus, key: str) -> str:
    principal = await bus.request(s.VERIFY_API_KEY, VerifyApiKeyV1(key=SecretStr(key)))
    return principal.key_id


async def test_a_key_is_recognisable_and_verifies(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    created = await _create(bus, alice, "den.file.read", "den.file.list")
    secret = created.secret.get_secret_value()
    assert secret.startswith("fxk_")
    assert len(secret) == key_format.LENGTH
    assert created.key.prefix == secret[: key_format.DISPLAY_CHARS]
    assert created.key.scopes == ["den.file.list", "den.file.read"]
    principal = await bus.request(s.VERIFY_API_KEY, VerifyApiKeyV1(key=SecretStr(secret)))
    assert (principal.org_id, principal.created_by) == (alice.org_id, alice.user_id)
    assert principal.scopes == ["den.file.list", "den.file.read"]


async def test_keys_are_stored_only_as_sha256_and_last_use_is_recorded(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    await start_inkpass(key_use_flush_s=0.1)
    alice = await new_account(bus, mailbox, "alice")
    created = await _create(bus, alice)
    secret = created.secret.get_secret_value()
    row = await db.fetchrow("select * from api_keys where id = $1", created.key.key_id)
    assert row is not None
    assert row["key_hash"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(row))
    assert row["last_used_at"] is None
    await _verify(bus, secret)

    async def used() -> bool:
        used_at = await db.fetchval(
            "select last_used_at from api_keys where id = $1", created.key.key_id
        )
        return used_at is not None

    await eventually(used, timeout=5)
    listed = await bus.request(s.LIST_API_KEYS, ListApiKeysV1(access_token=alice.access))
    assert [k.key_id for k in listed.keys] == [created.key.key_id]
    assert listed.keys[0].last_used_at is not None


async def test_revocation_is_instant_even_with_a_warm_cache(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    created = await _create(bus, alice)
    secret = created.secret.get_secret_value()
    for _ in range(3):  # warm
        await _verify(bus, secret)
    revoked = await bus.request(
        s.REVOKE_API_KEY,
        RevokeApiKeyV1(access_token=alice.access, key_id=created.key.key_id),
    )
    assert revoked.revoked_at is not None
    err = await remote_error(_verify(bus, secret))
    assert err.code == "inkpass.api_key_invalid"


async def test_revocation_reaches_every_replica(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox
) -> None:
    await start_inkpass()
    await start_inkpass(instance_id="replica-2")
    alice = await new_account(bus, mailbox, "alice")
    created = await _create(bus, alice)
    secret = created.secret.get_secret_value()
    for _ in range(10):  # both replicas (one queue group) cache it
        await _verify(bus, secret)
    await bus.request(
        s.REVOKE_API_KEY,
        RevokeApiKeyV1(access_token=alice.access, key_id=created.key.key_id),
    )

    async def refused_everywhere() -> bool:
        for _ in range(10):
            try:
                await _verify(bus, secret)
            except Exception:  # noqa: S112 - any refusal counts; the code is checked below
                continue
            return False
        return True

    await eventually(refused_everywhere, timeout=5)
    assert (await remote_error(_verify(bus, secret))).code == "inkpass.api_key_invalid"


async def test_malformed_tampered_and_expired_keys_are_all_just_invalid(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    bob = await new_account(bus, mailbox, "bob")
    good = (await _create(bus, alice)).secret.get_secret_value()
    soon = datetime.now(UTC) + timedelta(seconds=1)
    expiring = await _create(bus, alice, expires_at=soon)
    await db.execute(
        "update api_keys set expires_at = now() - interval '1 second' where id = $1",
        expiring.key.key_id,
    )
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    # Another org in the org part, checksum recomputed: a well-formed key that matches nothing.
    body = key_format.PREFIX + good[4:47] + key_format.new_key(bob.org_id)[47:69]
    moved = body + key_format._checksum(body)
    before = await snapshot(db)
    for key in ("", "fxk_", "sk_live_abc", good[:-1], flipped, moved, good + "x"):
        if len(key) > 200:
            continue
        assert (await remote_error(_verify(bus, key))).code in {
            "inkpass.api_key_invalid",
            "bus.invalid_payload",
        }, key
    err = await remote_error(_verify(bus, expiring.secret.get_secret_value()))
    assert err.code == "inkpass.api_key_invalid"
    assert await snapshot(db) == before


async def test_scopes_cannot_exceed_the_creators_role(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    dev = await join_as(bus, mailbox, alice, "developer")
    viewer = await join_as(bus, mailbox, alice, "viewer")
    before = await snapshot(db)
    err = await remote_error(_create(bus, dev, "*"))
    assert err.code == "inkpass.scope_exceeds_role"
    err = await remote_error(_create(bus, dev, "inkpass.member.*"))
    assert err.code == "inkpass.scope_exceeds_role"
    err = await remote_error(_create(bus, viewer, "den.file.read"))
    assert err.code == "inkpass.forbidden"  # viewers make no keys at all
    assert await snapshot(db) == before
    created = await _create(bus, dev, "den.file.read", "*.*.create")
    assert created.key.scopes == ["*.*.create", "den.file.read"]


async def test_keys_of_one_org_are_out_of_reach_of_another(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    mallory = await new_account(bus, mailbox, "mallory")
    created = await _create(bus, alice)
    before = await snapshot(db)
    err = await remote_error(
        bus.request(
            s.REVOKE_API_KEY,
            RevokeApiKeyV1(access_token=mallory.access, key_id=created.key.key_id),
        )
    )
    assert err.code == "inkpass.not_found"
    listed = await bus.request(s.LIST_API_KEYS, ListApiKeysV1(access_token=mallory.access))
    assert listed.keys == []
    assert await snapshot(db) == before
    assert await _verify(bus, created.secret.get_secret_value()) == created.key.key_id
