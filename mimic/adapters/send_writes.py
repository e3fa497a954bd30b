"""An email's two hot writes as single statements on the send store's connection.

The same writes as `notifications.create` + `start_attempt` + `ratelimits.charge` and as
`notifications.accept`, for the common case only (a first delivery, limits with room, an
accepted call); anything else goes the general way through `shared.db`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

import asyncpg

from mimic.adapters.notifications import ACCEPT, Notification
from mimic.adapters.send_store import Row, Tx
from mimic.adapters.templates import spec_of
from mimic.domain.ratelimit import Counter
from mimic.domain.templates import TemplateSpec

# Row-level security confines it to the unit's organisation, as `templates.find`.
_TEMPLATE: Final = """
    SELECT key, version, subject, text_body, html_body, variables, description
      FROM templates
     WHERE key = $1 AND ($2::int IS NULL OR version = $2::int)
     ORDER BY version DESC
     LIMIT 1
"""


async def find_template(tx: Tx, key: str, version: int | None) -> TemplateSpec | None:
    """`templates.find` on the send store's connection (a template the catalog had not)."""
    record = await tx.conn.fetchrow(_TEMPLATE, key, version)
    return spec_of(cast(Any, Row(record))) if record is not None else None


# The charge guard reads each conflicting counter's own limit out of the parameter arrays by
# scope (scopes are distinct within one charge), as `ratelimits.charge` does with a CASE.
_FIRST: Final = """
    WITH created AS (
        INSERT INTO notifications ({columns})
        VALUES ({values})
        ON CONFLICT (id) DO NOTHING
        RETURNING id
    ), journal AS (
        INSERT INTO send_attempts (notification_id, seq, org_id, provider, outcome, started_at)
        SELECT id, 1, ${org}::text, ${provider}::text, 'calling', ${now}::timestamptz
          FROM created
    ), charged AS (
        INSERT INTO rate_counters AS c (scope, key, window_start, count, expires_at)
        SELECT u.scope, u.key, u.window_start, 1, u.expires_at
          FROM unnest(${scopes}::text[], ${keys}::text[], ${starts}::timestamptz[],
                      ${ends}::timestamptz[]) AS u(scope, key, window_start, expires_at)
         WHERE EXISTS (SELECT 1 FROM created)
        ON CONFLICT (scope, key, window_start) DO UPDATE SET count = c.count + 1
         WHERE c.count < (${limits}::int[])[array_position(${scopes}::text[], c.scope)]
        RETURNING scope
    )
    SELECT f.created,
           CASE WHEN f.created AND f.charged < ${n_counters}
                THEN mimic_refuse('{refused}') ELSE true END AS recorded
      FROM (SELECT EXISTS (SELECT 1 FROM created) AS created,
                   (SELECT count(*) FROM charged) AS charged) AS f
"""
_REFUSED: Final = "mimic.send.limit_full"
"""The message `mimic_refuse` raises with when a limit is full (the whole statement undone)."""

_statements: dict[tuple[str, ...], str] = {}


def _first_statement(columns: tuple[str, ...]) -> str:
    """The statement for one set of notification columns (always the same set in practice)."""
    statement = _statements.get(columns)
    if statement is None:
        n = len(columns)
        extra = {
            name: n + i
            for i, name in enumerate(
                ("org", "provider", "now", "scopes", "keys", "starts", "ends", "limits"), 1
            )
        }
        extra["n_counters"] = n + len(extra) + 1
        statement = _FIRST.format(
            refused=_REFUSED,
            columns=", ".join(f'"{c}"' for c in columns),
            values=", ".join(f"${i}" for i in range(1, n + 1)),
            **{k: str(v) for k, v in extra.items()},
        )
        _statements[columns] = statement
    return statement


async def record_first(
    tx: Tx,
    values: Mapping[str, Any],
    *,
    provider: str,
    counters: Sequence[Counter],
    now: datetime,
) -> str | None:
    """Insert the notification, journal its first call and charge every counter, in one
    autocommit statement: None when all of it happened; otherwise why nothing did ("exists":
    the row was there; "full": a limit is full, and the statement failed as a whole)."""
    columns = tuple(values)
    try:
        row = await tx.conn.fetchrow(
            _first_statement(columns),
            *(values[c] for c in columns),
            values["org_id"],
            provider,
            now,
            [c.limit.scope.value for c in counters],
            [c.key for c in counters],
            [c.window_start for c in counters],
            [c.window_end for c in counters],
            [c.limit.max_count for c in counters],
            len(counters),
        )
    except asyncpg.RaiseError as exc:
        if exc.args and exc.args[0] == _REFUSED:
            return "full"
        raise
    return None if row["created"] else "exists"


_ACCEPT_NAMES: Final = ("nid", "seq", "org_id", "provider", "pmid", "status", "delivered_at", "now")


def _positional(sql: str, names: Sequence[str]) -> str:
    """`sql` with `:name` parameters as asyncpg's `$n`, longest names first (no prefix clash)."""
    for name in sorted(names, key=len, reverse=True):
        sql = sql.replace(f":{name}", f"${names.index(name) + 1}")
    return sql


# The very statement the general path runs, so both settle an accepted call alike.
_ACCEPT_SQL: Final = _positional(ACCEPT.text, _ACCEPT_NAMES)


async def accept(tx: Tx, params: Mapping[str, Any]) -> Notification | None:
    """`notifications.accept` on the send store (`params` from `accept_params`): the row as
    now sent or delivered (with `was_announced`), or None if it had moved on."""
    record = await tx.conn.fetchrow(_ACCEPT_SQL, *(params[n] for n in _ACCEPT_NAMES))
    if record is None:
        return None
    # Read by attribute, as the general path's rows are (`to_model`, the event snapshots).
    return cast(Notification, Row(record))


# The first settlement of a call the fast first write recorded, when nothing else touched the
# row since (the guard: as recorded, `updated_at` included): the accept, the journal, the
# provider's id and the outbox rows of its events in one autocommit statement. The events are
# built beforehand from the row as it will be (`accepted_row`), so the statement can write
# them; if the guard fails, nothing is written and the caller settles the general way.
_ACCEPT_FIRST: Final = """
    WITH upd AS (
        UPDATE notifications
        SET status = $6, provider = $4, provider_message_id = $5,
            sent_at = $8, delivered_at = $7, updated_at = $8, announced = true
        WHERE id = $1 AND status = 'sending' AND NOT announced AND attempts = 1
          AND updated_at = $9::timestamptz
        RETURNING id
    ), attempt AS (
        UPDATE send_attempts
        SET outcome = 'accepted', provider_message_id = $5, finished_at = $8
        WHERE notification_id = $1 AND seq = $2 AND EXISTS (SELECT 1 FROM upd)
    ), known AS (
        INSERT INTO provider_messages (provider, provider_message_id, org_id, notification_id)
        SELECT $4::text, $5::text, $3::text, $1::text WHERE EXISTS (SELECT 1 FROM upd)
        ON CONFLICT DO NOTHING
    ), sent AS (
        INSERT INTO fluxos_outbox (batch, subject, headers, body, message_id, next_attempt_at)
        SELECT $10::uuid, u.subject, u.headers::jsonb, u.body, u.message_id,
               clock_timestamp() + make_interval(secs => $15::float8)
          FROM unnest($11::text[], $12::text[], $13::bytea[], $14::text[])
               WITH ORDINALITY AS u(subject, headers, body, message_id, n)
         WHERE EXISTS (SELECT 1 FROM upd)
         ORDER BY u.n
        RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM upd) AS applied, ARRAY(SELECT id FROM sent ORDER BY id) AS ids
"""

_UNSET: Final = {
    "provider": None,
    "provider_message_id": None,
    "deferrals": 0,
    "error_code": None,
    "error_message": None,
    "deferred_until": None,
    "sent_at": None,
    "delivered_at": None,
    "bounced_at": None,
    "failed_at": None,
}
"""The columns a fast first write leaves at their defaults."""


def accepted_row(recorded: Mapping[str, Any], params: Mapping[str, Any]) -> Notification:
    """The row `_ACCEPT_FIRST` leaves, from the one the fast first write recorded and the
    accept's `params`, read by attribute as a fetched row."""
    row = {
        **_UNSET,
        **recorded,
        "status": params["status"],
        "provider": params["provider"],
        "provider_message_id": params["pmid"],
        "sent_at": params["now"],
        "delivered_at": params["delivered_at"],
        "updated_at": params["now"],
        "announced": True,
        "was_announced": False,
    }
    return cast(Notification, Row(row))


async def accept_first(tx: Tx, params: Mapping[str, Any], recorded: Mapping[str, Any]) -> bool:
    """Settle a fast-recorded first call with its staged events in one statement; False (and
    nothing written, nothing to publish) when the row is no longer as recorded."""
    result = await tx.conn.fetchrow(
        _ACCEPT_FIRST,
        *(params[n] for n in _ACCEPT_NAMES),
        recorded["updated_at"],
        *tx.outbox_args(),
    )
    if not result["applied"]:
        tx.unstage()
        return False
    tx.wrote(list(result["ids"]))
    return True
