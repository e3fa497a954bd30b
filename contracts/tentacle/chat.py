"""Chat with Flux, the conversational agent that lives in the inbox (it runs in tentacle).

How the inbox talks to Flux:

1. **Send** the user's message with `CHAT_SEND` (a JetStream command, so it survives restarts):
   `SendChatMessageV1(conversation_id, message_id, text)`, org and user in the envelope. The
   `message_id` is the idempotency key: sending it again (a retry, a redelivery) never makes a
   second reply; the same id with other text or in another conversation is refused (the
   command is dead-lettered with `tentacle.chat_message_conflict`) and changes nothing. The
   reply's id is known in advance: `chat_reply_id(org, message_id)`.
2. **Follow** `CHAT_STREAMED.filter(org_id=..., conversation_id=...)`: every event of every reply
   in that conversation, as `ChatEventV1`. `seq` numbers one reply's events 1, 2, 3, ... without
   gaps (a reply resumed after an approval carries on counting), so a client orders them and
   notices a gap; the same `(reply_id, seq)` can arrive twice on a plain NATS subscription
   (JetStream consumers get it once), so keep the first. Kinds, in the order they can come:

   * `started`: the reply began (or resumed after an approval); after a crash or a retry
     the interrupted round runs again, and `discard_after_seq` says which deltas to drop;
   * `delta`: the next piece of the assistant's text, token by token (concatenate them);
   * `tool_call`: the model called a tool (name and arguments as it wrote them);
   * `tool_result`: what the tool answered (`ok` false with a stable `error.code` if it failed:
     invalid arguments, not configured, not found in this organisation, ...);
   * `approval_needed`: a tool that acts on the world (sending an email) waits for the user,
     like a task's checkpoint; the reply stops here until `CHAT_RESPOND` answers it;
   * `done`: the reply is complete (`text` is the whole final answer);
   * `cancelled`: the user cancelled it (`partial_text` is what had been streamed);
   * `error`: the reply failed (`error.code`, e.g. `llm.budget_exceeded`, `llm.unavailable`).

   A reply ends with exactly one of `approval_needed`, `done`, `cancelled` or `error`.
3. **Answer an approval** with `CHAT_RESPOND` (a JetStream command):
   `RespondChatApprovalV1(conversation_id, reply_id, approval_id, approved, feedback)`. Approved,
   the tool runs; declined, the model is told so; either way the reply continues streaming.
4. **Cancel** a reply mid-stream with the `CHAT_CANCEL` request (`reply_id`, or the
   conversation's running reply). The partial answer is kept in the history marked `cancelled`;
   the conversation stays usable and the next message gets a normal reply.
5. **History** with the `CHAT_HISTORY` request: the conversation's persisted turns (user
   messages, assistant answers with their tool calls, tool results, each with a status) and the
   tasks created from the conversation with their progress; what Flux itself reads every turn.

Only one reply runs per conversation at a time: a message sent while one is streaming waits
(redelivered with backoff) until it ends; a message sent while one waits for an approval
declines that approval ("the user moved on") and is answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, JsonValue, model_validator

from contracts.envelope import Actor, ErrorV1
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel
from contracts.streams import Consumer, Retention, Stream
from contracts.subject import Subject, command, event, rpc
from contracts.tentacle.models import TaskV1
from contracts.tentacle.subjects import SERVICE

_ID_NAMESPACE = uuid.UUID("6c1f2b0e-4a9d-4e57-8f0b-666c75786368")

MAX_MESSAGE_CHARS: Final = 20_000


def chat_reply_id(org_id: str, message_id: str) -> str:
    """The id of the reply to the user's message `message_id`, known before it is sent."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"reply\x00{org_id}\x00{message_id}"))


# ---------------------------------------------------------------------- commands
class SendChatMessageV1(ContractModel):
    """The user says something to Flux in a conversation (idempotent by `message_id`)."""

    conversation_id: SubjectToken
    message_id: SubjectToken = Field(description="The inbox's id of the user's message.")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class RespondChatApprovalV1(ContractModel):
    """Approve or decline the tool call a reply is waiting on (`approval_needed`)."""

    conversation_id: SubjectToken
    reply_id: SubjectToken
    approval_id: SubjectToken = Field(description="From the approval_needed event.")
    approved: bool
    feedback: str | None = Field(default=None, max_length=4000)


class CancelChatReplyV1(ContractModel):
    """Stop a reply. Without `reply_id`: the conversation's reply in progress, if any."""

    conversation_id: SubjectToken
    reply_id: SubjectToken | None = None


class GetChatHistoryV1(ContractModel):
    conversation_id: SubjectToken
    limit: int = Field(default=200, ge=1, le=1000, description="The latest turns.")
    include_tasks: bool = True


# ---------------------------------------------------------------------- state
class ChatRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class TurnStatus(StrEnum):
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    """An answer cut short by the user: kept as far as it was streamed."""
    FAILED = "failed"


class ReplyStatus(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ToolCallV1(ContractModel):
    call_id: str
    name: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    raw_arguments: str | None = Field(
        default=None, description="Set when what the model wrote was not a JSON object."
    )


class ChatTurnV1(ContractModel):
    seq: int = Field(ge=1, description="Order in the conversation, 1..n.")
    reply_id: str
    message_id: str | None = Field(default=None, description="The user's message id (user turns).")
    role: ChatRole
    text: str = ""
    tool_calls: list[ToolCallV1] = Field(default_factory=list)
    tool_call_id: str | None = Field(default=None, description="Tool turns: the call answered.")
    tool_name: str | None = None
    result: JsonValue = Field(default=None, description="Tool turns: the tool's answer.")
    status: TurnStatus = TurnStatus.COMPLETE
    actor: Actor | None = None
    created_at: datetime


class PendingApprovalV1(ContractModel):
    approval_id: str
    tool: str
    arguments: dict[str, JsonValue]
    summary: str = Field(description="What will happen, in one line for the approval card.")


class ChatReplyV1(ContractModel):
    reply_id: SubjectToken
    conversation_id: SubjectToken
    message_id: str
    status: ReplyStatus
    pending: PendingApprovalV1 | None = None
    error: ErrorV1 | None = None
    event_seq: int = Field(description="Sequence number of the reply's latest event.")
    created_at: datetime
    updated_at: datetime


class ChatHistoryV1(ContractModel):
    conversation_id: str
    turns: list[ChatTurnV1]
    replies: list[ChatReplyV1] = Field(default_factory=list)
    tasks: list[TaskV1] = Field(
        default_factory=list, description="Tasks created from this conversation, newest first."
    )


# ---------------------------------------------------------------------- streamed events
class ChatEventKind(StrEnum):
    STARTED = "started"
    DELTA = "delta"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    APPROVAL_NEEDED = "approval_needed"
    DONE = "done"
    CANCELLED = "cancelled"
    ERROR = "error"


class StartedDetailV1(ContractModel):
    kind: Literal["started"] = "started"
    model: str
    offline: bool = Field(description="The built-in offline model answers (no API key set).")
    resumed: bool = Field(default=False, description="Carrying on (after an approval, a retry).")
    discard_after_seq: int | None = Field(
        default=None,
        description="The reply's last round was cut off (its worker stopped) and runs again: "
        "drop the text of this reply's deltas numbered above this seq.",
    )


class DeltaDetailV1(ContractModel):
    kind: Literal["delta"] = "delta"
    text: str


class ToolCallDetailV1(ContractModel):
    kind: Literal["tool_call"] = "tool_call"
    call: ToolCallV1
    raw_arguments: str = Field(default="", description="As the model wrote them.")


class ToolResultDetailV1(ContractModel):
    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    ok: bool
    result: JsonValue = None
    error: ErrorV1 | None = None


class ApprovalNeededDetailV1(ContractModel):
    kind: Literal["approval_needed"] = "approval_needed"
    approval: PendingApprovalV1


class DoneDetailV1(ContractModel):
    kind: Literal["done"] = "done"
    text: str
    cost_usd: str = Field(default="0", description="What this reply's model calls cost.")


class CancelledDetailV1(ContractModel):
    kind: Literal["cancelled"] = "cancelled"
    partial_text: str = ""


class ErrorDetailV1(ContractModel):
    kind: Literal["error"] = "error"
    error: ErrorV1


ChatEventDetailV1 = Annotated[
    StartedDetailV1
    | DeltaDetailV1
    | ToolCallDetailV1
    | ToolResultDetailV1
    | ApprovalNeededDetailV1
    | DoneDetailV1
    | CancelledDetailV1
    | ErrorDetailV1,
    Field(discriminator="kind"),
]


class ChatEventV1(ContractModel):
    org_id: OrgId
    conversation_id: SubjectToken
    reply_id: SubjectToken
    message_id: str = Field(description="The user's message this replies to.")
    seq: int = Field(ge=1, description="1, 2, 3, ... per reply, without gaps.")
    kind: ChatEventKind
    occurred_at: datetime
    detail: ChatEventDetailV1

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.detail.kind != self.kind:
            raise ValueError(f"kind {self.kind} but detail of {self.detail.kind}")
        return self


# ---------------------------------------------------------------------- subjects
CHAT_SEND = command(
    SERVICE,
    "chat",
    "send",
    SendChatMessageV1,
    summary="The user's message to Flux; the reply streams on CHAT_STREAMED (idempotent).",
)
CHAT_RESPOND = command(
    SERVICE,
    "chat",
    "respond",
    RespondChatApprovalV1,
    summary="Approve or decline a tool call Flux waits on; the reply continues.",
)
CHAT_CANCEL = rpc(
    SERVICE,
    "chat",
    "cancel",
    CancelChatReplyV1,
    ChatReplyV1,
    summary="Stop a reply mid-stream; the partial answer is kept as cancelled.",
)
CHAT_HISTORY = rpc(
    SERVICE,
    "chat",
    "history",
    GetChatHistoryV1,
    ChatHistoryV1,
    summary="A conversation's turns, replies and tasks.",
)
CHAT_STREAMED = event(
    SERVICE,
    "chat",
    "streamed",
    ChatEventV1,
    tokens=("org_id", "conversation_id"),
    summary="Every event of Flux's replies in one conversation (deltas, tools, end).",
)

CHAT_SUBJECTS: tuple[Subject[Any, Any], ...] = (
    CHAT_SEND,
    CHAT_RESPOND,
    CHAT_CANCEL,
    CHAT_HISTORY,
    CHAT_STREAMED,
)

# ---------------------------------------------------------------------- streams and consumers
CHAT_COMMANDS = Stream(
    name="TENTACLE_CHAT",
    subjects=(f"{SERVICE}.v1.cmd.chat.>",),
    description="Users' messages to Flux and their answers to its approvals.",
    retention=Retention.WORK_QUEUE,
    max_age=timedelta(days=1),
)
CHAT_EVENTS = Stream(
    name="TENTACLE_CHAT_EVENTS",
    subjects=(f"{SERVICE}.v1.evt.chat.>",),
    description="Flux's replies as they stream (the history RPC holds them for good).",
    max_age=timedelta(days=1),
    max_bytes=2 * 1024 * 1024 * 1024,
)

# A reply streams for as long as the model talks (heartbeats keep the message); one that finds
# its conversation busy is retried after the running reply has had time to end.
_CHAT_BACKOFF: Final = (
    timedelta(seconds=1),
    timedelta(seconds=2),
    timedelta(seconds=5),
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
)

CHAT_SEND_CONSUMER: Final = Consumer(
    durable="tentacle-chat-send",
    service=SERVICE,
    stream=CHAT_COMMANDS,
    subject=CHAT_SEND,
    description="Answer users' messages to Flux.",
    ack_wait=timedelta(seconds=30),
    max_deliver=8,
    backoff=_CHAT_BACKOFF,
    jitter=0.2,
    concurrency=32,
)
CHAT_RESPOND_CONSUMER: Final = Consumer(
    durable="tentacle-chat-respond",
    service=SERVICE,
    stream=CHAT_COMMANDS,
    subject=CHAT_RESPOND,
    description="Resume Flux's replies once the user answered an approval.",
    ack_wait=timedelta(seconds=30),
    max_deliver=8,
    backoff=_CHAT_BACKOFF,
    jitter=0.2,
    concurrency=32,
)

CHAT_STREAMS: tuple[Stream, ...] = (CHAT_COMMANDS, CHAT_EVENTS)
CHAT_CONSUMERS: tuple[Consumer[Any], ...] = (CHAT_SEND_CONSUMER, CHAT_RESPOND_CONSUMER)
