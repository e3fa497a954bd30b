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


def new_meta(
    payload_type: str,
    *,
    actor: Actor | None = None,
    org_id: str | None = None,
    message_id: str | None = None,
    parent: CallContext | None = None,
    default_actor: Actor,
) -> Meta:
    """Meta for a message published now.

    Inside a handler the message is a child of the current call and inherits its org and actor
    unless they are given. Outside any call it starts a new tree.
    """
    # Built without re-validation (this is on every publish): ids are generated here, actors
    # and parent contexts are already validated models, and caller-given ids are checked.
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
    return Meta.model_construct(
        message_id=message_id or new_id(),
        type=payload_type,
        org_id=org,
        actor=who,
        call_id=call_id,
        parent_call_id=parent_call,
        root_call_id=root,
        occurred_at=datetime.now(UTC),
    )
