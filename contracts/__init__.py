"""The bus's contracts: typed subjects, envelopes, streams and consumers.

This package is the only thing services share. It depends on pydantic and the standard library.
"""

from __future__ import annotations

from contracts.envelope import Actor, ActorKind, Envelope, ErrorV1, Meta, Reply
from contracts.ids import OrgId, SubjectToken, new_id, validate_token
from contracts.model import ContractModel
from contracts.streams import Consumer, DeliverPolicy, Retention, Storage, Stream
from contracts.subject import Kind, Subject, command, event, rpc

__all__ = [
    "Actor",
    "ActorKind",
    "Consumer",
    "ContractModel",
    "DeliverPolicy",
    "Envelope",
    "ErrorV1",
    "Kind",
    "Meta",
    "OrgId",
    "Reply",
    "Retention",
    "Storage",
    "Stream",
    "Subject",
    "SubjectToken",
    "command",
    "event",
    "new_id",
    "rpc",
    "validate_token",
]
