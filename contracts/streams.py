"""Declarations of JetStream streams and durable consumers.

They are data, not connections: `shared.bus.provisioning` turns them into server state
idempotently when a service starts. Every setting that matters for delivery is explicit here, so
a reader of the contract knows how a message is retried and when it is dead-lettered.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from contracts.model import ContractModel
from contracts.subject import Kind, Subject

P = TypeVar("P", bound=ContractModel)

_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_DURABLE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")


class Retention(StrEnum):
    LIMITS = "limits"
    WORK_QUEUE = "workqueue"
    INTEREST = "interest"


class Storage(StrEnum):
    FILE = "file"
    MEMORY = "memory"


class DeliverPolicy(StrEnum):
    ALL = "all"
    NEW = "new"


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    description: str
    retention: Retention = Retention.LIMITS
    storage: Storage = Storage.FILE
    max_age: timedelta | None = timedelta(days=7)
    max_msgs: int | None = None
    max_bytes: int | None = None
    max_msg_size: int | None = 8 * 1024 * 1024
    duplicate_window: timedelta = timedelta(minutes=2)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"stream name {self.name!r} must be UPPER_SNAKE")
        if not self.subjects:
            raise ValueError(f"stream {self.name} captures no subjects")


@dataclass(frozen=True)
class Consumer(Generic[P]):
    """A durable pull consumer of one subject, owned by one service.

    `ack_wait` is how long the server waits before redelivering a message whose handler went
    silent (crashed, hung); long handlers extend it with heartbeats. `backoff` is the delay before
    each retry after a transient failure (the consumer naks with that delay); `jitter` spreads
    each delay by up to that fraction either way, so messages that failed together (a provider
    outage) do not all come back in the same instant. After `max_deliver` attempts the message is
    dead-lettered.

    The server filters what it delivers: `filter_tokens` fixes a token to one value,
    `filter_choices` lets a token take any of a few values (one filter subject per
    combination), so a consumer that needs only some kinds of a busy subject never receives
    the rest. `legacy_subjects` are earlier shapes of `subject` (same payload) whose messages
    may still sit in the stream from before the change: they are consumed whole and accepted,
    so an upgrade neither skips nor dead-letters them.
    """

    durable: str
    service: str
    stream: Stream
    subject: Subject[P, None]
    description: str
    filter_tokens: tuple[tuple[str, str], ...] = ()
    filter_choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    legacy_subjects: tuple[Subject[P, None], ...] = ()
    ack_wait: timedelta = timedelta(seconds=30)
    max_deliver: int = 5
    backoff: tuple[timedelta, ...] = (
        timedelta(seconds=1),
        timedelta(seconds=5),
        timedelta(seconds=30),
        timedelta(minutes=2),
    )
    max_ack_pending: int = 1000
    concurrency: int = 64
    heartbeat: bool = True
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if not _DURABLE.fullmatch(self.durable):
            raise ValueError(f"durable name {self.durable!r} must be lower-kebab")
        if not self.subject.kind.uses_jetstream:
            raise ValueError(f"{self.durable}: rpc subjects are not consumed from a stream")
        if self.max_deliver < 1:
            raise ValueError(f"{self.durable}: max_deliver must be at least 1")
        if self.concurrency < 1 or self.concurrency > self.max_ack_pending:
            raise ValueError(f"{self.durable}: concurrency must be within 1..max_ack_pending")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"{self.durable}: jitter is a fraction within [0, 1)")
        fixed = [t for t, _ in self.filter_tokens]
        chosen = [t for t, _ in self.filter_choices]
        if len(set(fixed + chosen)) != len(fixed) + len(chosen):
            raise ValueError(f"{self.durable}: a token is filtered twice")
        if any(not values for _, values in self.filter_choices):
            raise ValueError(f"{self.durable}: a filter choice needs at least one value")
        for old in self.legacy_subjects:
            if old.payload is not self.subject.payload or old.kind is not self.subject.kind:
                raise ValueError(f"{self.durable}: {old} is not an earlier shape of its subject")
            if patterns_overlap(old.wildcard, self.subject.wildcard):
                raise ValueError(f"{self.durable}: {old} overlaps {self.subject}")
        self.filter_subjects  # noqa: B018 - renders (and so validates) every filter now

    @property
    def filter_subjects(self) -> tuple[str, ...]:
        """What the server delivers: the subject with its fixed and chosen tokens (every
        combination of the choices), then the legacy shapes, whole."""
        names = [t for t, _ in self.filter_choices]
        current = tuple(
            self.subject.filter(**dict(self.filter_tokens), **dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(values for _, values in self.filter_choices))
        )
        return current + tuple(old.wildcard for old in self.legacy_subjects)

    @property
    def filter_subject(self) -> str:
        """The first filter subject (the only one unless choices or legacy shapes are set)."""
        return self.filter_subjects[0]

    def accepts_subject(self, subject: str, payload: P, meta: Any) -> bool:
        """Whether a message with this payload belongs on `subject`, in the current shape or
        in a legacy one."""
        if self.subject.render(payload, meta) == subject:
            return True
        return any(old.render(payload, meta) == subject for old in self.legacy_subjects)

    def retry_delay(self, attempt: int) -> timedelta:
        """Delay before redelivering after failed attempt number `attempt` (1-based)."""
        if not self.backoff:
            return timedelta(0)
        return self.backoff[min(attempt, len(self.backoff)) - 1]

    def jittered_delay(self, attempt: int) -> timedelta:
        """`retry_delay` spread by `jitter` (not for security, so the plain PRNG is fine)."""
        delay = self.retry_delay(attempt)
        if not self.jitter:
            return delay
        return delay * (1.0 + random.uniform(-self.jitter, self.jitter))  # noqa: S311


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` is one token, a trailing `>` one or more."""
    want = pattern.split(".")
    got = subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)


def patterns_overlap(a: str, b: str) -> bool:
    """Whether some concrete subject matches both patterns."""
    ta, tb = a.split("."), b.split(".")
    for i in range(max(len(ta), len(tb))):
        x = ta[i] if i < len(ta) else None
        y = tb[i] if i < len(tb) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and "*" not in (x, y):
            return False
    return True


def stream_for(subject: Subject[Any, Any], streams: tuple[Stream, ...]) -> Stream:
    """The one stream that captures a JetStream subject."""
    if subject.kind is Kind.RPC:
        raise ValueError(f"{subject} is request-reply and lives in no stream")
    owners = [s for s in streams if any(patterns_overlap(p, subject.wildcard) for p in s.subjects)]
    if len(owners) != 1:
        names = [s.name for s in owners]
        raise LookupError(f"{subject} must be captured by exactly one stream, found {names}")
    return owners[0]
