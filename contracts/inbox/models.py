"""Message models of inbox: the entries of an organisation's live feed.

Every change the inbox makes to what a person sees (a message, a conversation's state, a task's
progress) is numbered 1..n per organisation in the inbox's database and announced as a
`FeedEntryV1`; replicas forward entries to the SSE streams of that organisation's members, and a
reconnecting stream reads the entries it missed from the database by number.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, JsonValue

from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel


class FeedKind(StrEnum):
    MESSAGE = "message"
    """A message was added to (or changed in) a conversation."""
    CONVERSATION = "conversation"
    """A conversation's state changed: read status, priority, title."""
    PROGRESS = "progress"
    """A task moved (step started, planned, paused, ...) without a message of its own."""


class FeedEntryV1(ContractModel):
    org_id: OrgId
    seq: int = Field(ge=1, description="1, 2, 3, ... per organisation, without gaps.")
    kind: FeedKind
    conversation_id: SubjectToken | None = None
    task_id: SubjectToken | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)
    source_at: datetime | None = Field(
        default=None, description="When the fact behind the entry happened (for latency)."
    )
    at: datetime
