"""Creating each service's database and role on the platform's server, idempotently.

Every replica of every service runs this at start, possibly at the same moment, so the work is
serialised by an advisory lock on the administrative connection (advisory locks are per
database: every provisioner connects to the same admin database, the one in the admin URL).
Names are validated and then quoted by PostgreSQL itself (`format('%I', ...)`), never by
string formatting here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Final

import asyncpg

from shared.db.errors import DatabaseMisconfigured, DatabaseUnavailable
from shared.db.identifiers import validate_identifier
from shared.db.locks import advisory_key
from shared.db.scram import scram_verifier, verifier_matches
from shared.db.urls import (
    derive_service_database,
    explicit_database_url,
    parse_url,
    to_asyncpg_dsn,
)
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

DEFAULT_EXTENSIONS: Final = ("vector", "pg_trgm", "citext")
PROVISION_LOCK_KEY: Final = advisory_key("db.provision")

# What a service role must never have: it would let the service escape RLS or reach other
# services' databases. Checked at every start, so a hand-made change is undone.
_ROLE_ATTRIBUTES: Final = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION"
_EXPECTED_FLAGS: Final = {
    "rolcanlogin": True,
    "rolsuper": False,
    "rolbypassrls": False,
    "rolcreaterole": False,
    "rolcreatedb": False,
    "rolreplication": False,
}


async def _connect(url: str, *, timeout: float, lock_timeout: float | None = None) -> Any:
    settings = {"application_name": "fluxos-provisioning"}
    if lock_timeout is not None:
        settings["lock_timeout"] = f"{int(lock_timeout * 1000)}ms"
    try:
        return await asyncpg.connect(to_asyncpg_dsn(url), timeout=timeout, server_settings=settings)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        raise DatabaseMisconfigured("the administrative database URL cannot log in") from None
    except asyncpg.InvalidCatalogNameError:
        raise DatabaseMisconfigured(
            "the database in the administrative URL does not exist"
        ) from None
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as exc:
        raise DatabaseUnavailable(f"cannot reach PostgreSQL: {type(exc).__name__}") from exc
    except asyncpg.CannotConnectNowError as exc:
        raise DatabaseUnavailable("PostgreSQL is starting or shutting down") from exc


async def _ddl(conn: Any, template: str, *args: str) -> None:
    """Run a DDL `template` whose %I / %L placeholders PostgreSQL fills and quotes itself."""
    placeholders = "".join(f", ${i}::text" for i in range(2, len(args) + 2))
    statement = await conn.fetchval(f"select format($1::text{placeholders})", template, *args)
    await conn.execute(statement)


async def _password_matches(admin: Any, role: str, password: str) -> bool:
    try:
        stored = await admin.fetchval("select rolpassword from pg_authid where rolname = $1", role)
    except asyncpg.InsufficientPrivilegeError:
        # Only a superuser may read pg_authid; a CREATEROLE admin just sets the password again.
        return False
    return verifier_matches(stored, password)


async def _ensure_role(admin: Any, role: str, password: str) -> None:
    flags = await admin.fetchrow(
        "select rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication "
        "from pg_roles where rolname = $1",
        role,
    )
    if flags is None:
        try:
            await _ddl(
                admin,
                f"CREATE ROLE %I {_ROLE_ATTRIBUTES} PASSWORD %L",
                role,
                scram_verifier(password),
            )
        except asyncpg.DuplicateObjectError:
            pass  # created meanwhile by a provisioner that used another admin database
        else:
            log.info("created database role %s", role)
            return
    elif any(flags[name] != expected for name, expected in _EXPECTED_FLAGS.items()):
        await _ddl(admin, f"ALTER ROLE %I {_ROLE_ATTRIBUTES}", role)
        log.warning("reset the attributes of database role %s", role)
    if not await _password_matches(admin, role, password):
        await _ddl(admin, "ALTER ROLE %I PASSWORD %L", role, scram_verifier(password))
        log.info("set the password of database role %s", role)


async def _ensure_database(admin: Any, database: str, owner: str) -> None:
    current_owner = await admin.fetchval(
        "select pg_get_userbyid(datdba) from pg_database where datname = $1", database
    )
    if current_owner is None:
        try:
            await _ddl(admin, "CREATE DATABASE %I OWNER %I", database, owner)
            log.info("created database %s", database)
        except asyncpg.DuplicateDatabaseError:
            pass
    elif current_owner != owner:
        await _ddl(admin, "ALTER DATABASE %I OWNER TO %I", database, owner)
    # PUBLIC may connect to and create temporary tables in any new database by default; without
    # this, one service's role could open another service's database.
    await _ddl(admin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", database)


LEAKPROOF_FUNCTIONS: Final = (
    "jsonb_contains(jsonb, jsonb)",
    "jsonb_exists(jsonb, text)",
    "arrayoverlap(anyarray, anyarray)",
    "arraycontains(anyarray, anyarray)",
    "ts_match_vq(tsvector, tsquery)",
    "jsonb_extract_path(jsonb, text[])",
    "jsonb_eq(jsonb, jsonb)",
    "jsonb_lt(jsonb, jsonb)",
    "jsonb_le(jsonb, jsonb)",
    "jsonb_gt(jsonb, jsonb)",
    "jsonb_ge(jsonb, jsonb)",
)
"""Operators behind GIN index searches (JSON containment, array overlap, full-text match) and
behind btree expression indexes on JSON fields (`#>` and the jsonb comparisons).

Under row-level security PostgreSQL may only use an index for a condition whose function is
LEAKPROOF (it runs before the tenant policy), and these built-ins are not marked so: without
this, every containment filter and full-text search on a tenant table scans the tenant's rows.
They raise no error that depends on a row's data (documents are depth-bounded by their
services; `#>` answers NULL for a path that does not fit), so they reveal nothing beyond their
result. Marking needs a superuser; where the
admin is not one, tenant queries stay correct, only slower."""


async def _prepare_inside(conn: Any, owner: str, extensions: Sequence[str]) -> None:
    # Extensions need the admin's privileges (vector is not a trusted extension).
    for extension in extensions:
        await _ddl(conn, "CREATE EXTENSION IF NOT EXISTS %I", extension)
    for signature in LEAKPROOF_FUNCTIONS:
        try:
            await conn.execute(f"ALTER FUNCTION pg_catalog.{signature} LEAKPROOF")
        except asyncpg.InsufficientPrivilegeError:
            log.warning("cannot mark %s leakproof (the admin is not a superuser)", signature)
    # Before PostgreSQL 15 PUBLIC could create objects in schema public; the owner is made
    # explicit so the service owns what it creates whatever the server's version.
    await _ddl(conn, "ALTER SCHEMA public OWNER TO %I", owner)
    await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


async def ensure_service_database(
    admin_url: str,
    *,
    database: str,
    role: str,
    password: str,
    extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    timeout: float = 30.0,
) -> None:
    """Make `database`, owned by login role `role` with `password`, exist as it should.

    Safe to call from many processes at once and as often as wanted; changes only what differs
    (a missing role or database, a changed password, role attributes edited by hand).
    """
    validate_identifier(database, what="database name")
    validate_identifier(role, what="role name")
    wanted = [validate_identifier(name, what="extension") for name in extensions]
    admin = await _connect(admin_url, timeout=timeout, lock_timeout=timeout)
    try:
        if await admin.fetchval("select current_database()") == database:
            raise DatabaseMisconfigured(
                "the admin URL must name another database than the service's"
            )
        try:
            await admin.execute("select pg_advisory_lock($1)", PROVISION_LOCK_KEY)
        except asyncpg.LockNotAvailableError as exc:
            raise DatabaseUnavailable("another process holds the provisioning lock") from exc
        try:
            try:
                await _ensure_role(admin, role, password)
                await _ensure_database(admin, database, role)
            except asyncpg.InsufficientPrivilegeError as exc:
                raise DatabaseMisconfigured(
                    "the administrative role needs CREATEROLE and CREATEDB (or superuser)"
                ) from exc
            inside_url = parse_url(admin_url).set(database=database)
            conn = await _connect(inside_url.render_as_string(hide_password=False), timeout=timeout)
            try:
                await _prepare_inside(conn, role, wanted)
            finally:
                await conn.close()
        finally:
            await admin.execute("select pg_advisory_unlock($1)", PROVISION_LOCK_KEY)
    finally:
        await admin.close()


async def prepare_service_database(
    settings: ServiceSettings, *, extensions: Iterable[str] = DEFAULT_EXTENSIONS
) -> str:
    """The URL the service should connect with, its database provisioned if it is derived.

    An explicit <SERVICE>_DATABASE_URL is the operator's database: it is used as given (with the
    asyncpg driver) and not touched.
    """
    explicit = explicit_database_url(settings)
    if explicit is not None:
        return explicit
    target = derive_service_database(settings.platform, type(settings).service_name)
    await ensure_service_database(
        target.admin_url,
        database=target.name,
        role=target.role,
        password=target.password,
        extensions=extensions,
    )
    return target.url


async def drop_service_databases(
    admin_url: str, prefix: str, *, timeout: float = 30.0
) -> list[str]:
    """Drop every database and role named `<prefix>_*`; returns the dropped database names.

    Meant for test teardown and uninstalling: connections to those databases are terminated.
    """
    validate_identifier(prefix, what="database prefix")
    admin = await _connect(admin_url, timeout=timeout, lock_timeout=timeout)
    try:
        await admin.execute("select pg_advisory_lock($1)", PROVISION_LOCK_KEY)
        try:
            databases = [
                row["datname"]
                for row in await admin.fetch(
                    "select datname from pg_database "
                    "where starts_with(datname, $1 || '_') and datname <> current_database() "
                    "order by datname",
                    prefix,
                )
            ]
            for name in databases:
                await _ddl(admin, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name)
            roles = await admin.fetch(
                "select rolname from pg_roles "
                "where starts_with(rolname, $1 || '_') "
                "and not rolsuper and rolname <> current_user "
                "order by rolname",
                prefix,
            )
            for row in roles:
                await _ddl(admin, "DROP ROLE IF EXISTS %I", row["rolname"])
            return databases
        finally:
            await admin.execute("select pg_advisory_unlock($1)", PROVISION_LOCK_KEY)
    finally:
        await admin.close()
