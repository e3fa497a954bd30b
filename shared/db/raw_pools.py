"""Session settings for a service's raw asyncpg pool on a hot path.

Tentacle's cycle writes, Mimic's send writes and the inbox's projection each run a few fixed,
parameterised statements on their own asyncpg pool, beside the SQLAlchemy `Database` (whose
checkout ping and ORM cost more than those statements). What such a connection must carry is
the same everywhere, so it is said once here.
"""

from __future__ import annotations


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
