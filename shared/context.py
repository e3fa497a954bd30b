"""The execution tree, carried implicitly through a handler's work.

While a handler runs, the message it is handling is the current call. Anything it publishes
becomes a child call: same root, same org, same actor, `parent_call_id` set to the current
call. Logging reads the same context, so every log line names its place in the tree.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.envelope import Actor, ActorKind, Meta
from contracts.ids import new_id, validate_token


@dataclass(frozen=True, slots=True)
class CallContext:
    call_id: str
    root_call_id: str
    org_id: str | None
    actor: Actor

    @classmethod
    def from_meta(cls, meta: Meta) -> CallContext:
        return cls(meta.call_id, meta.root_call_id, meta.org_id, meta.actor)

    @classmethod
    def root(cls, *, actor: Actor, org_id: str | None = None) -> CallContext:
        """A new tree: e.g. an HTTP request or a schedule firing."""
        call = new_id()
        return cls(call, call, org_id, actor)

    def child(self) -> CallContext:
        return CallContext(new_id(), self.root_call_id, self.org_id, self.actor)


_current: ContextVar[CallContext | None] = ContextVar("fluxos_call", default=None)


def current_call() -> CallContext | None:
    return _current.get()


def enter_call(call: CallContext) -> Token[CallContext | None]:
    return _current.set(call)


def leave_call(token: Token[CallContext | None]) -> None:
    _current.reset(token)


def system_actor(service: str) -> Actor:
    return Actor(kind=ActorKind.SYSTEM, id=service)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The envelope header of a message being created now: `Meta` without pydantic's cost.

    Publishing builds one per message, so it is a plain slotted object serialised by the C json
    encoder; every value in it is an id already checked to be a subject token, a model's class
    name, an enum value or a timestamp, none of which JSON needs to escape beyond what
    `json.dumps` does. A test keeps its fields and its JSON identical to `Meta`'s.
    """

    message_id: str
    type: str
    org_id: str | None
    actor: Actor
    call_id: str
    parent_call_id: str | None
    root_call_id: str
    occurred_at: datetime

    def to_json(self) -> bytes:
        # Formatted directly: every value is a checked subject token, a class name, an enum
        # value or a timestamp, so none needs escaping (the test against Meta proves the JSON).
        org = "null" if self.org_id is None else f'"{self.org_id}"'
        parent = "null" if self.parent_call_id is None else f'"{self.parent_call_id}"'
        when = self.occurred_at.isoformat().replace("+00:00", "Z")
        return (
            f'{{"message_id":"{self.message_id}","type":"{self.type}","org_id":{org},'
            f'"actor":{{"kind":"{self.actor.kind.value}","id":"{self.actor.id}"}},'
            f'"call_id":"{self.call_id}","parent_call_id":{parent},'
            f'"root_call_id":"{self.root_call_id}","occurred_at":"{when}"}}'
        ).encode()

    def to_meta(self) -> Meta:
        return Meta.model_construct(
            message_id=self.message_id,
            type=self.type,
            org_id=self.org_id,
            actor=self.actor,
            call_id=self.call_id,
            parent_call_id=self.parent_call_id,
            root_call_id=self.root_call_id,
            occurred_at=self.occurred_at,
        )


def new_stamp(
    payload_type: str,
    *,
    actor: Actor | None = None,
    org_id: str | None = None,
    message_id: str | None = None,
    parent: CallContext | None = None,
    default_actor: Actor,
) -> Stamp:
    """The header of a message published now.

    Inside a handler the message is a child of the current call and inherits its org and actor
    unless they are given. Outside any call it starts a new tree.
    """
    # Ids generated here are tokens by construction and actors and parent contexts are
    # validated models; only caller-given ids need checking.
    if org_id is not None:
        validate_token(org_id, name="org_id")
    if message_id is not None:
        validate_token(message_id, name="message_id")
    parent = parent if parent is not None else current_call()
    call_id = new_id()
    if parent is None:
        org, who, parent_call, root = org_id, actor or default_actor, None, call_id
    else:
        org = org_id if org_id is not None else parent.org_id
        who = actor or parent.actor
        parent_call, root = parent.call_id, parent.root_call_id
    return Stamp(
        message_id or new_id(),
        payload_type,
        org,
        who,
        call_id,
        parent_call,
        root,
        datetime.now(UTC),
    )
