"""What wraps every payload on the bus.

Wire format of a command, event or request::

    {"meta": {...Meta...}, "data": {...payload...}}

and of a reply::

    {"meta": {...}, "ok": true, "data": {...reply...}}
    {"meta": {...}, "ok": false, "error": {"code": "...", "message": "...", "retryable": false}}

`meta.message_id` is also sent as the `Nats-Msg-Id` header so JetStream drops duplicates within
the stream's duplicate window; consumers dedupe for longer by the same id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Self, TypeVar

from pydantic import AwareDatetime, Field, model_validator

from contracts.ids import CallId, MessageId, OrgId, SubjectToken
from contracts.model import ContractModel

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    AGENT = "agent"
    SYSTEM = "system"
    INTEGRATION = "integration"


class Actor(ContractModel):
    """Who caused the message: a person, a key, an agent, an integration or the platform."""

    kind: ActorKind
    id: SubjectToken


class Meta(ContractModel):
    """The envelope's header: identity, tenancy and place in the execution tree."""

    message_id: MessageId
    type: str = Field(description="Name of the payload model, e.g. TaskCreatedV1.")
    org_id: OrgId | None = Field(
        default=None, description="Organisation the message belongs to; None for platform scope."
    )
    actor: Actor
    call_id: CallId
    parent_call_id: CallId | None = None
    root_call_id: CallId
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))


class Envelope(ContractModel, Generic[P]):
    meta: Meta
    data: P


class ErrorV1(ContractModel):
    """An error with a stable code a caller can branch on; never a stringified exception."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    message: str
    retryable: bool = False
    details: dict[str, Any] | None = None


class Reply(ContractModel, Generic[R]):
    meta: Meta
    ok: bool
    data: R | None = None
    error: ErrorV1 | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.ok != (self.data is not None) or self.ok == (self.error is not None):
            raise ValueError("a reply carries data when ok and an error otherwise")
        return self
