"""The life of a notification: queued -> sending -> sent -> delivered / bounced, or failed.

Provider webhooks arrive late and out of order; a transition that is not allowed is ignored
rather than applied, so a late "delivered" never hides an earlier bounce.
"""

from __future__ import annotations

from typing import Final

from contracts.mimic.models import NotificationStatus as S

_ALLOWED: Final[dict[S, frozenset[S]]] = {
    S.QUEUED: frozenset({S.SENDING, S.FAILED}),
    S.SENDING: frozenset({S.SENT, S.DELIVERED, S.FAILED}),
    S.SENT: frozenset({S.DELIVERED, S.BOUNCED, S.FAILED}),
    # A bounce can come after the receiving server first said yes (an asynchronous bounce).
    S.DELIVERED: frozenset({S.BOUNCED}),
    S.BOUNCED: frozenset(),
    S.FAILED: frozenset(),
}

HANDED_OVER: Final = frozenset({S.SENT, S.DELIVERED, S.BOUNCED, S.FAILED})
"""Nothing is left to send once a notification is in one of these."""


def can_move(current: S, target: S) -> bool:
    return target in _ALLOWED[current]
