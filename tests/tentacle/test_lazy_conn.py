"""A lazily taken connection: none is taken by a unit that runs no statement; the first
statement takes one, scoped to the unit's organisation, and release gives it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tentacle.adapters.lazy_conn import LazyConnection


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def _scope(conn: Any, org: str | None) -> None:
    await conn.execute("SELECT set_config('fluxos.org_id', $1, false)", org or "")


async def test_no_statement_takes_no_connection(pool: Any) -> None:
    conn = LazyConnection(pool, _scope, "acme")
    assert not conn.taken
    await conn.release()
    # The pool's only connection is still free: taking it does not wait.
    async with pool.acquire() as other:
        assert await other.fetchval("SELECT 1") == 1


async def test_the_first_statement_takes_a_scoped_connection_until_release(pool: Any) -> None:
    conn = LazyConnection(pool, _scope, "acme")
    assert await conn.fetchval("SELECT current_setting('fluxos.org_id', true)") == "acme"
    assert await conn.execute("SELECT 1") == "SELECT 1"
    assert (await conn.fetchrow("SELECT 2 AS n"))["n"] == 2
    assert [r["n"] for r in await conn.fetch("SELECT generate_series(1, 2) AS n")] == [1, 2]
    assert pool.get_idle_size() == 0  # one connection, held for all four statements
    await conn.release()
    assert not conn.taken
    assert pool.get_idle_size() == 1


async def test_what_it_does_not_offer_is_refused_by_name(pool: Any) -> None:
    conn = LazyConnection(pool, _scope, None)
    with pytest.raises(AttributeError, match="cursor"):
        conn.cursor  # noqa: B018 - the attribute access is what is tested
