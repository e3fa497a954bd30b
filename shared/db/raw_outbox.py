"""The outbox statements a raw asyncpg unit of work runs, as `shared.db.outbox` lays them down.

Tentacle's and Mimic's hot paths write, mark and release outbox rows without SQLAlchemy
(`raw_pools.py` says why). The rows must be the ones `write_outbox` would write and the relay
expects, so the statements are said once here. Statements that embed the insert in a larger
one (a data-modifying CTE) pass the same parameters, from `outbox_params`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from shared.bus.codec import OutboundMessage
from shared.db.raw_pools import dumps

OUTBOX_ROWS: Final = """
    INSERT INTO fluxos_outbox (batch, subject, headers, body, message_id, next_attempt_at)
    SELECT $1::uuid, u.subject, u.headers::jsonb, u.body, u.message_id,
           clock_timestamp() + make_interval(secs => $6::float8)
      FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[])
           WITH ORDINALITY AS u(subject, headers, body, message_id, n)
     ORDER BY u.n
    RETURNING id
"""
"""Insert `outbox_params` ($1..$5) leased to the writer for $6 seconds; their ids, in order.
Ordered by position so the ids (ascending) follow the order the messages were staged in."""

MARK: Final = """
    UPDATE fluxos_outbox SET published_at = now(), last_error = NULL
     WHERE id = ANY($1::bigint[]) AND published_at IS NULL
"""
"""Rows $1 were published. Rows the relay marked first keep its timestamp."""

RELEASE: Final = """
    UPDATE fluxos_outbox SET next_attempt_at = NULL
     WHERE id = ANY($1::bigint[]) AND published_at IS NULL
"""
"""Give the lease on rows $1 back: due for the relay now, unless published meanwhile."""


def outbox_params(batch: str, messages: Sequence[OutboundMessage]) -> tuple[Any, ...]:
    """The batch and the messages as the unnest's arrays (`OUTBOX_ROWS`' $1..$5), in order."""
    return (
        batch,
        [m.subject for m in messages],
        [dumps(m.headers) for m in messages],
        [m.body for m in messages],
        [m.message_id for m in messages],
    )
