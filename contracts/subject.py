"""Typed subjects: a name bound to its payload model (and reply model for requests).

Grammar: ``<service>.v<N>.<kind>.<noun>[.<tokens>].<verb>``, kind one of

* ``cmd``: a command to one owner, carried by JetStream to a durable consumer;
* ``evt``: a fact, past tense, carried by JetStream and fanned out;
* ``rpc``: request-reply over core NATS, for reads and synchronous checks.

Token values are never passed by hand: they are read from the payload (or, for ``org_id``,
from the envelope), and validated, so a subject can only be built from checked ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from contracts.ids import validate_token
from contracts.model import ContractModel

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel | None)

_WORD = re.compile(r"^[a-z][a-z0-9_]*$")
ORG_TOKEN = "org_id"


class _HasOrg(Protocol):
    """What render reads from an envelope header (`Meta`, or the runtime's cheaper twin)."""

    @property
    def org_id(self) -> str | None: ...


class Kind(StrEnum):
    CMD = "cmd"
    EVT = "evt"
    RPC = "rpc"

    @property
    def uses_jetstream(self) -> bool:
        return self is not Kind.RPC


@dataclass(frozen=True, eq=False)
class Subject(Generic[P, R]):
    service: str
    version: int
    kind: Kind
    noun: str
    verb: str
    payload: type[P]
    reply: type[R] | None
    tokens: tuple[str, ...] = ()
    summary: str = ""
    tenant: bool = True
    _template: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for part in (self.service, self.noun, self.verb, *self.tokens):
            if not _WORD.fullmatch(part):
                raise ValueError(f"subject part {part!r} must be a lowercase word")
        if self.version < 1:
            raise ValueError("subject versions start at 1")
        if (self.kind is Kind.RPC) != (self.reply is not None):
            raise ValueError("rpc subjects, and only they, declare a reply model")
        if (
            self.kind is Kind.EVT
            and self.tenant
            and (not self.tokens or self.tokens[0] != ORG_TOKEN)
        ):
            raise ValueError(
                f"tenant event {self.noun}.{self.verb} must start its tokens with org_id"
            )
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a token name appears twice")
        parts = [self.service, f"v{self.version}", self.kind.value, self.noun]
        parts += [f"{{{t}}}" for t in self.tokens]
        parts.append(self.verb)
        object.__setattr__(self, "_template", ".".join(parts))

    # ------------------------------------------------------------------ names
    @property
    def template(self) -> str:
        """The name with token placeholders: ``tentacle.v1.evt.task.{org_id}.{task_id}.created``."""
        return self._template

    @property
    def wildcard(self) -> str:
        """The name with ``*`` in every token: the pattern that matches every instance."""
        return self.filter()

    @property
    def key(self) -> str:
        """A readable unique key of this subject (its wildcard name)."""
        return self.wildcard

    def filter(self, **values: str) -> str:
        """A pattern with the given tokens fixed and the others ``*`` (for consumer filters)."""
        unknown = set(values) - set(self.tokens)
        if unknown:
            raise ValueError(f"{self.template} has no token(s) {sorted(unknown)}")
        rendered = {
            t: validate_token(values[t], name=t) if t in values else "*" for t in self.tokens
        }
        return self._fill(rendered)

    def render(self, payload: P, meta: _HasOrg | None = None) -> str:
        """The concrete subject for one message; tokens come from the payload, then the meta."""
        return self._fill({t: self._token_value(t, payload, meta) for t in self.tokens})

    def parse(self, subject: str) -> dict[str, str] | None:
        """The token values of a concrete subject, or None if it is not an instance of this one."""
        fixed = self.template.split(".")
        actual = subject.split(".")
        if len(fixed) != len(actual):
            return None
        values: dict[str, str] = {}
        for want, got in zip(fixed, actual, strict=True):
            if want.startswith("{"):
                values[want[1:-1]] = got
            elif want != got:
                return None
        return values

    def _fill(self, values: Mapping[str, str]) -> str:
        name = self.template
        for token, value in values.items():
            name = name.replace(f"{{{token}}}", value)
        return name

    def _token_value(self, token: str, payload: P, meta: _HasOrg | None) -> str:
        value: Any = getattr(payload, token, None)
        if value is None and meta is not None:
            value = getattr(meta, token, None)
        if value is None:
            raise ValueError(f"{self.template}: no value for token {token!r}")
        return validate_token(str(value), name=token)

    def __repr__(self) -> str:
        return f"Subject({self.template})"


def command(
    service: str,
    noun: str,
    verb: str,
    payload: type[P],
    *,
    version: int = 1,
    tokens: tuple[str, ...] = (),
    summary: str = "",
    tenant: bool = True,
) -> Subject[P, None]:
    return Subject(service, version, Kind.CMD, noun, verb, payload, None, tokens, summary, tenant)


def event(
    service: str,
    noun: str,
    verb: str,
    payload: type[P],
    *,
    version: int = 1,
    tokens: tuple[str, ...] = (ORG_TOKEN,),
    summary: str = "",
    tenant: bool = True,
) -> Subject[P, None]:
    return Subject(service, version, Kind.EVT, noun, verb, payload, None, tokens, summary, tenant)


def rpc(
    service: str,
    noun: str,
    verb: str,
    payload: type[P],
    reply: type[Any],
    *,
    version: int = 1,
    tokens: tuple[str, ...] = (),
    summary: str = "",
    tenant: bool = True,
) -> Subject[P, Any]:
    return Subject(service, version, Kind.RPC, noun, verb, payload, reply, tokens, summary, tenant)
