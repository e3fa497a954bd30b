"""Every subject, stream and consumer of the bus, gathered from the service contract packages."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from contracts import den, inbox, inkpass, mimic, platform, tentacle
from contracts.envelope import Actor, ErrorV1, Meta
from contracts.model import ContractModel
from contracts.streams import Consumer, Stream
from contracts.subject import Subject

PACKAGES: tuple[ModuleType, ...] = (platform, inkpass, tentacle, mimic, den, inbox)
SERVICES: tuple[str, ...] = tuple(p.SERVICE for p in PACKAGES if p is not platform)

SUBJECTS: tuple[Subject[Any, Any], ...] = tuple(s for p in PACKAGES for s in p.SUBJECTS)
STREAMS: tuple[Stream, ...] = tuple(s for p in PACKAGES for s in p.STREAMS)
CONSUMERS: tuple[Consumer[Any], ...] = tuple(c for p in PACKAGES for c in p.CONSUMERS)


def models() -> dict[str, type[ContractModel]]:
    """Every model that appears on the wire, by class name (the name is the version)."""
    found: dict[str, type[ContractModel]] = {}
    envelope_models: list[type[ContractModel]] = [Meta, Actor, ErrorV1]
    for model in envelope_models + _payload_models():
        other = found.setdefault(model.__name__, model)
        if other is not model:
            raise ValueError(f"two different models are named {model.__name__}")
    return dict(sorted(found.items()))


def _payload_models() -> list[type[ContractModel]]:
    out: list[type[ContractModel]] = []
    for subject in SUBJECTS:
        out.append(subject.payload)
        if subject.reply is not None:
            out.append(subject.reply)
    return out


def consumers_of(service: str) -> tuple[Consumer[Any], ...]:
    return tuple(c for c in CONSUMERS if c.service == service)
