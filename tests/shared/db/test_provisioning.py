"""Per-service databases and roles on a real server: created once, locked down, repeatable."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from pydantic import SecretStr

from shared.db.errors import DatabaseMisconfigured, DatabaseUnavailable
from shared.db.provisioning import drop_service_databases, ensure_service_database
from shared.db.urls import derive_service_database, parse_url, to_asyncpg_dsn
from shared.settings import PlatformSettings
from tests.shared.db.conftest import provision


async def fetchval(url: str, query: str, *args: object) -> object:
    conn = await asyncpg.connect(to_asyncpg_dsn(url))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def test_creates_role_and_database_the_service_can_use(
    secret_platform: PlatformSettings, admin_url: str
) -> None:
    target = await provision(secret_platform, "notes")
    conn = await asyncpg.connect(to_asyncpg_dsn(target.url))
    try:
        assert await conn.fetchval("select current_user") == target.role
        assert await conn.fetchval("select current_database()") == target.name
        await conn.execute("create table t (v citext, e vector(3))")
        await conn.execute("insert into t values ('A', '[1,2,3]')")
        assert await conn.fetchval("select count(*) from t where v = 'a'") == 1
        assert await conn.fetchval("select similarity('fluxos', 'fluxes') > 0") is True
    finally:
        await conn.close()

    admin = await asyncpg.connect(admin_url)
    try:
        role = await admin.fetchrow("select * from pg_roles where rolname = $1", target.role)
        assert role is not None
        assert role["rolcanlogin"]
        for flag in ("rolsuper", "rolbypassrls", "rolcreaterole", "rolcreatedb", "rolreplication"):
            assert role[flag] is False, flag
        owner = await admin.fetchval(
            "select pg_get_userbyid(datdba) from pg_database where datname = $1", target.name
        )
        assert owner == target.role
        # The password travels and is stored as a SCRAM verifier, never as text.
        stored = await admin.fetchval(
            "select rolpassword from pg_authid where rolname = $1", target.role
        )
        assert stored.startswith("SCRAM-SHA-256$")
        assert target.password not in stored
    finally:
        await admin.close()


async def test_services_cannot_open_each_others_databases(
    secret_platform: PlatformSettings,
) -> None:
    notes = await provision(secret_platform, "notes")
    files = await provision(secret_platform, "files")
    notes_into_files = parse_url(notes.url).set(database=files.name)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await asyncpg.connect(to_asyncpg_dsn(notes_into_files.render_as_string(False)))
    # Nor create objects in their own database's public schema on anybody else's behalf.
    assert (
        await fetchval(files.url, "select has_schema_privilege('public', 'public', 'CREATE')")
        is False
    )


async def test_is_idempotent_and_safe_when_many_start_at_once(
    secret_platform: PlatformSettings, admin_url: str
) -> None:
    target = derive_service_database(secret_platform, "notes")
    await asyncio.gather(
        *(
            ensure_service_database(
                admin_url, database=target.name, role=target.role, password=target.password
            )
            for _ in range(6)
        )
    )
    await provision(secret_platform, "notes")
    assert await fetchval(target.url, "select current_user") == target.role
    assert (
        await fetchval(
            admin_url, "select count(*) from pg_database where datname = $1", target.name
        )
        == 1
    )


async def test_a_new_secret_resets_the_password(
    secret_platform: PlatformSettings, admin_url: str
) -> None:
    old = await provision(secret_platform, "notes")
    rotated = secret_platform.model_copy(update={"secret_key": SecretStr("a new secret")})
    new = await provision(rotated, "notes")
    assert new.password != old.password
    assert await fetchval(new.url, "select current_user") == new.role
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(to_asyncpg_dsn(old.url))


async def test_attributes_edited_by_hand_are_undone(
    secret_platform: PlatformSettings, admin_url: str
) -> None:
    target = await provision(secret_platform, "notes")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'alter role "{target.role}" bypassrls createdb')
        await provision(secret_platform, "notes")
        row = await admin.fetchrow(
            "select rolbypassrls, rolcreatedb from pg_roles where rolname = $1", target.role
        )
        assert row is not None
        assert (row["rolbypassrls"], row["rolcreatedb"]) == (False, False)
    finally:
        await admin.close()


@pytest.mark.parametrize(
    ("database", "role", "extensions"),
    [
        ('x"; drop database postgres; --', "r", ()),
        ("db", "Robert'); drop", ()),
        ("db", "r", ("vector; drop",)),
    ],
)
async def test_untrusted_names_never_reach_sql(
    admin_url: str, database: str, role: str, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(DatabaseMisconfigured):
        await ensure_service_database(
            admin_url, database=database, role=role, password="pw", extensions=extensions
        )


async def test_unreachable_server_is_transient() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        await ensure_service_database(
            "postgresql://u:p@127.0.0.1:1/postgres",
            database="db",
            role="r",
            password="pw",
            timeout=2,
        )
    assert info.value.retryable


async def test_drop_removes_only_the_prefix(
    secret_platform: PlatformSettings, admin_url: str, db_prefix: str
) -> None:
    await provision(secret_platform, "notes")
    await provision(secret_platform, "files")
    bystander = secret_platform.model_copy(update={"database_prefix": db_prefix + "x"})
    kept = await provision(bystander, "notes")
    try:
        dropped = await drop_service_databases(admin_url, db_prefix)
        assert sorted(dropped) == [f"{db_prefix}_files", f"{db_prefix}_notes"]
        left = await fetchval(
            admin_url,
            "select count(*) from pg_roles where starts_with(rolname, $1)",
            db_prefix + "_",
        )
        assert left == 0
        assert await fetchval(kept.url, "select current_user") == kept.role
    finally:
        await drop_service_databases(admin_url, db_prefix + "x")
