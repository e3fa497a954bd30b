"""The whole bus as an AsyncAPI document, generated from the contracts.

    faststream docs gen shared.bus.catalog:app --out asyncapi.json
    fluxos asyncapi --out asyncapi.json

FastStream describes a broker from its declared subscribers; this module declares one per
subject in the registry, typed with the subject's real wire models (`Envelope[Payload]`, and
`Reply[ReplyModel]` for request-reply), so the document cannot drift from what services send.
Nothing here connects: the broker is never started.
"""

from __future__ import annotations

from typing import Any

from faststream import FastStream
from faststream.nats import JStream, NatsBroker
from faststream.specification import AsyncAPI

from contracts.envelope import Envelope, Reply
from contracts.registry import STREAMS, SUBJECTS
from contracts.streams import stream_for
from contracts.subject import Kind, Subject
from shared.version import VERSION

_KIND = {
    Kind.CMD: "Command (JetStream, one durable consumer owns it).",
    Kind.EVT: "Event (JetStream, fanned out to every interested consumer).",
    Kind.RPC: "Request-reply (core NATS, queue group of the owning service).",
}


def _describe(subject: Subject[Any, Any]) -> str:
    lines = [subject.summary or "", _KIND[subject.kind]]
    if subject.tokens:
        lines.append("Tokens: " + ", ".join(subject.tokens) + ".")
    if subject.kind.uses_jetstream:
        lines.append(f"Stream: {stream_for(subject, STREAMS).name}.")
    return " ".join(line for line in lines if line)


def _document_only(subject: Subject[Any, Any]) -> Any:
    async def handler(message: Any) -> Any:  # pragma: no cover - the broker never runs
        raise RuntimeError("the catalog broker describes the bus; it never handles messages")

    handler.__name__ = subject.template.replace(".", "_").replace("{", "").replace("}", "")
    handler.__annotations__ = {
        "message": Envelope[subject.payload],  # type: ignore[name-defined]
        "return": Reply[subject.reply] if subject.reply is not None else None,  # type: ignore[name-defined]
    }
    return handler


def build_catalog() -> FastStream:
    broker = NatsBroker()
    streams = {s.name: JStream(s.name, subjects=list(s.subjects), declare=False) for s in STREAMS}
    for subject in SUBJECTS:
        options: dict[str, Any] = {
            "title": subject.template,
            "description": _describe(subject),
        }
        if subject.kind.uses_jetstream:
            options["stream"] = streams[stream_for(subject, STREAMS).name]
        else:
            options["queue"] = subject.service
        broker.subscriber(subject.wildcard, **options)(_document_only(subject))
        if subject.reply is not None:
            # Replies go to the requester's inbox; documenting them there is literally true.
            broker.publisher(
                "_INBOX.>",
                title=f"{subject.template} (reply)",
                description=f"The reply to {subject.template}: data when ok, else an ErrorV1.",
                schema=Reply[subject.reply],  # type: ignore[name-defined]
            )
    spec = AsyncAPI(
        title="fluxos bus",
        version=VERSION,
        description=(
            "Every subject of the fluxos platform. Messages are JSON envelopes "
            '{"meta": Meta, "data": Payload}; replies are {"meta", "ok", "data" | "error"}. '
            "meta.message_id is also the Nats-Msg-Id header of JetStream messages."
        ),
    )
    return FastStream(broker, specification=spec)


app = build_catalog()
