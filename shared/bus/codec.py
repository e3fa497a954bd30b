"""Encoding and decoding envelopes, with bad input classified into stable codes.

Decoding is one pydantic pass on the hot path; only when it fails is the body looked at again
to tell the sender precisely what was wrong (not JSON, another version, a bad field), without
echoing values back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Generic, TypeVar

from pydantic import ValidationError

from contracts.envelope import Envelope, ErrorV1, Meta, Reply
from contracts.model import ContractModel
from contracts.platform.errors import BusErrorCode
from contracts.subject import Subject
from shared.context import Stamp
from shared.errors import CodedPermanentError

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

HEADER_MSG_ID: Final = "Nats-Msg-Id"
_MAX_REASON: Final = 600


class DecodeError(CodedPermanentError):
    """An incoming message that can never be processed as sent."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message ready for the wire: what the outbox stores and the publisher sends."""

    subject: str
    body: bytes
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incoming(Generic[P]):
    meta: Meta
    data: P


def encode(subject: Subject[P, Any], payload: P, meta: Meta | Stamp) -> OutboundMessage:
    if type(payload) is not subject.payload:
        raise TypeError(
            f"{subject} carries {subject.payload.__name__}, not {type(payload).__name__}"
        )
    if meta.type != subject.payload.__name__:
        raise ValueError(f"meta.type {meta.type!r} does not name {subject.payload.__name__}")
    body = b"".join(
        (b'{"meta":', _header(meta), b',"data":', payload.model_dump_json().encode(), b"}")
    )
    return OutboundMessage(
        subject=subject.render(payload, meta),
        body=body,
        message_id=meta.message_id,
        headers={HEADER_MSG_ID: meta.message_id},
    )


@cache
def _envelope_of(model: type[ContractModel]) -> type[Envelope[Any]]:
    return Envelope[model]  # type: ignore[valid-type]


@cache
def _reply_of(model: type[ContractModel]) -> type[Reply[Any]]:
    return Reply[model]  # type: ignore[valid-type]


def decode(subject: Subject[P, Any], body: bytes, *, strict: bool, max_bytes: int) -> Incoming[P]:
    """The envelope of `body`, or a `DecodeError` with a stable code."""
    if len(body) > max_bytes:
        raise DecodeError(
            BusErrorCode.OVERSIZE, f"message of {len(body)} bytes exceeds the limit of {max_bytes}"
        )
    model = subject.payload
    try:
        envelope = _envelope_of(model).model_validate_json(
            body, extra="forbid" if strict else "ignore"
        )
    except ValidationError as exc:
        raise _classify(body, model, exc) from None
    if envelope.meta.type != model.__name__:
        raise _wrong_type(envelope.meta.type, model)
    return Incoming(envelope.meta, envelope.data)


def _classify(body: bytes, model: type[ContractModel], exc: ValidationError) -> DecodeError:
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return DecodeError(BusErrorCode.MALFORMED, "the body is not valid JSON")
    if not isinstance(raw, dict) or not isinstance(raw.get("meta"), dict):
        return DecodeError(BusErrorCode.MALFORMED, 'the body is not an envelope {"meta", "data"}')
    declared = raw["meta"].get("type")
    if isinstance(declared, str) and declared != model.__name__:
        return _wrong_type(declared, model)
    return DecodeError(BusErrorCode.INVALID_PAYLOAD, describe(exc))


def _wrong_type(declared: str, model: type[ContractModel]) -> DecodeError:
    return DecodeError(
        BusErrorCode.UNKNOWN_VERSION,
        f"this subject carries {model.__name__}, not {declared[:80]!r}",
    )


def describe(exc: ValidationError) -> str:
    """Where and why validation failed, without the offending values."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "(body)"
        parts.append(f"{where}: {err['msg']}")
    text = "; ".join(parts)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


# ---------------------------------------------------------------------------------- replies
def _header(meta: Meta | Stamp) -> bytes:
    return meta.to_json() if isinstance(meta, Stamp) else meta.model_dump_json().encode()


def encode_reply(meta: Meta | Stamp, data: ContractModel) -> bytes:
    return b"".join(
        (b'{"meta":', _header(meta), b',"ok":true,"data":', data.model_dump_json().encode(), b"}")
    )


def encode_error(meta: Meta | Stamp, error: ErrorV1) -> bytes:
    return b"".join(
        (
            b'{"meta":',
            _header(meta),
            b',"ok":false,"error":',
            error.model_dump_json().encode(),
            b"}",
        )
    )


def decode_reply(model: type[R], body: bytes, *, strict: bool) -> Reply[R]:
    try:
        reply: Reply[R] = _reply_of(model).model_validate_json(
            body, extra="forbid" if strict else "ignore"
        )
    except ValidationError as exc:
        raise DecodeError(BusErrorCode.INVALID_PAYLOAD, f"bad reply: {describe(exc)}") from None
    return reply
