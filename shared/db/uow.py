"""The unit of work a handler writes through: one session, one transaction, one org scope."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from shared.db.dedupe import claim_message
from shared.db.outbox import checked_message, write_outbox


class UnitOfWork:
    """Handed out by `Database.transaction`; valid only inside its `async with` block."""

    def __init__(
        self, session: AsyncSession, org_id: str | None, *, lease: timedelta | None = None
    ) -> None:
        self.session = session
        self.org_id = org_id
        self.batch = new_id()
        self._lease = lease
        self._leased_at: float | None = None
        self._staged: list[OutboundMessage] = []
        self._written: list[tuple[int, OutboundMessage]] = []

    def publish(self, message: OutboundMessage) -> None:
        """Send `message` if, and only if, this transaction commits.

        Staged in memory and written to the outbox in one statement before the commit, so a
        handler that publishes several messages pays one round trip.
        """
        self._staged.append(checked_message(message))

    async def flush(self) -> None:
        """Write staged messages to the outbox now (the commit does it anyway)."""
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        if self._leased_at is None:
            # Before the insert: the lease the database computes starts after this instant.
            self._leased_at = time.monotonic()
        ids = await write_outbox(self.session, self.batch, staged, lease=self._lease)
        self._written.extend(zip(ids, staged, strict=True))

    async def claim_message(self, consumer: str, message_id: str) -> bool:
        """False when `consumer` already processed `message_id`: the handler should do nothing.

        The claim commits or rolls back with the handler's writes.
        """
        return await claim_message(self.session, consumer, message_id)

    def lease_ends(self, allowance: timedelta) -> float:
        """The monotonic time by which this unit of work's last send must have started."""
        if self._lease is None or self._leased_at is None:
            return float("-inf")
        return self._leased_at + (self._lease - allowance).total_seconds()

    @property
    def written(self) -> list[tuple[int, OutboundMessage]]:
        """Outbox rows written so far, as (id, message) in publishing order."""
        return list(self._written)
