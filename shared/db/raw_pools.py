"""Session settings for a service's raw asyncpg pool on a hot path.

Tentacle's cycle writes, Mimic's send writes and the inbox's projection each run a few fixed,
parameterised statements on their own asyncpg pool, beside the SQLAlchemy `Database` (whose
checkout ping and ORM cost more than those statements). What such a connection must carry is
the same everywhere, so it is said once here.
"""

from __future__ import annotations

import json
from typing import Any


def hot_path_settings(
    application_name: str,
    *,
    statement_timeout_s: float = 30.0,
    idle_in_transaction_timeout_s: float = 60.0,
) -> dict[str, str]:
    """`server_settings` for `asyncpg.create_pool`: generic plans (the statements are few and
    fixed, so planning once per connection saves replanning on every execution), a name that
    shows in `pg_stat_activity`, and timeouts so a stuck statement or an abandoned transaction
    cannot hold its locks for ever (as `shared.db.Database`'s sessions)."""
    return {
        "plan_cache_mode": "force_generic_plan",
        "application_name": application_name[:63],
        "statement_timeout": str(int(statement_timeout_s * 1000)),
        "idle_in_transaction_session_timeout": str(int(idle_in_transaction_timeout_s * 1000)),
    }


def dumps(value: Any) -> str:
    """JSON as the hot paths send it: compact, and anything else (datetimes, ids) as text."""
    return json.dumps(value, separators=(",", ":"), default=str)


async def json_codecs(conn: Any) -> None:
    """For a pool's `init`: json and jsonb travel as Python values (asyncpg's default is text)."""
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=dumps, decoder=json.loads, schema="pg_catalog")


async def keep(conn: Any) -> None:
    """Pool `reset` for a pool whose owner scopes connections to an org session-wide: nothing
    to reset. Every unit of work ends with COMMIT or ROLLBACK (or its connection is closed), so
    no transaction, lock, cursor or listener outlives it, and the org setting is tracked by the
    owner and replaced by the next user of another org. asyncpg's default reset would cost a
    round trip and clear that setting behind the owner's back."""
