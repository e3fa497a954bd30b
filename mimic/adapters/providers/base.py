"""What every provider offers the send use case."""

from __future__ import annotations

from typing import Protocol

from mimic.domain.email import OutgoingEmail
from mimic.domain.outcomes import Outcome


class EmailProvider(Protocol):
    name: str
    idempotent: bool
    """It honours our idempotency key: asking again after an unanswered call cannot duplicate."""

    async def send(self, email: OutgoingEmail, *, idempotency_key: str) -> Outcome:
        """Hand one email over; never raises for the provider's own failures."""
        ...

    async def close(self) -> None: ...
