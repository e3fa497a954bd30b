"""What a provider call can end in. The distinction decides whether a retry could duplicate:

* `Accepted`: sent; the provider's id is kept.
* `Rejected`: the provider will never take this message (bad recipient): fail, no failover.
* `Unavailable`: certainly not sent (refused connection, 429, 5xx, bad credentials): the next
  provider may take it now, or the same one later.
* `InDoubt`: the request went out and no answer came back: it may have been sent. Only a
  provider that honours idempotency keys may be asked again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str
    delivered: bool = False
    """The provider is the mailbox itself (the dev sink): accepted means delivered."""


@dataclass(frozen=True)
class Rejected:
    code: str
    message: str


@dataclass(frozen=True)
class Unavailable:
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class InDoubt:
    message: str


Outcome = Accepted | Rejected | Unavailable | InDoubt


@dataclass(frozen=True)
class Completed:
    """An outbound action the provider carried out; `result` holds its ids and links."""

    result: dict[str, str | int]


ActionOutcome = Completed | Rejected | Unavailable | InDoubt
