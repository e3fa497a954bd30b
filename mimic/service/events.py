"""Staging events in a unit of work: they are published if, and only if, it commits."""

from __future__ import annotations

from typing import Any, Protocol

from contracts.envelope import Actor
from contracts.mimic.models import NotificationV1
from contracts.model import ContractModel
from contracts.subject import Subject
from mimic.adapters.notifications import Notification, to_model
from shared.bus import Bus
from shared.bus.codec import OutboundMessage


class Staging(Protocol):
    """A unit of work that sends what it stages if it commits (`shared.db`'s, or the send
    store's)."""

    def publish(self, message: OutboundMessage) -> None: ...


class Events:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def stage(
        self, uow: Staging, subject: Subject[NotificationV1, None], row: Notification
    ) -> None:
        """A notification's status event, from its row as just written."""
        self.publish(uow, subject, to_model(row), org_id=row.org_id)

    def publish(
        self,
        uow: Staging,
        subject: Subject[Any, None],
        payload: ContractModel,
        *,
        org_id: str,
        actor: Actor | None = None,
    ) -> None:
        uow.publish(self.bus.message(subject, payload, org_id=org_id, actor=actor))
