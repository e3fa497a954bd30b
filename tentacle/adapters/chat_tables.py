"""Tables of Flux's conversations, on tentacle's metadata (the chat branch of its migrations,
`c0001...`). Both are tenant tables with row-level security.

`chat_turns` is the conversation as the model reads it back: user messages, assistant answers
(with the tool calls they made) and tool results, in order. `chat_replies` is one reply to one
user message: its state (running, waiting on an approval, ended), the tool call it waits on,
and the sequence number of its streamed events.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from tentacle.adapters.tables import metadata

chat_replies = Table(
    "chat_replies",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("reply_id", Text, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("text_digest", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("pending", JSONB, nullable=True),
    Column("error", JSONB, nullable=True),
    Column("event_seq", Integer, nullable=False, server_default="0"),
    Column("rounds", Integer, nullable=False, server_default="0"),
    Column("round_seq", Integer, nullable=False, server_default="0"),
    Column("cancel_requested", DateTime(timezone=True), nullable=True),
    Column("actor", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "reply_id", name="pk_chat_replies"),
)
Index(
    "ix_chat_replies_conversation",
    chat_replies.c.org_id,
    chat_replies.c.conversation_id,
    chat_replies.c.created_at,
)

chat_turns = Table(
    "chat_turns",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("reply_id", Text, nullable=False),
    Column("message_id", Text, nullable=True),
    Column("role", Text, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("tool_calls", JSONB, nullable=True),
    Column("tool_call_id", Text, nullable=True),
    Column("tool_name", Text, nullable=True),
    Column("result", JSONB, nullable=True),
    Column("status", Text, nullable=False),
    Column("actor", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "conversation_id", "seq", name="pk_chat_turns"),
)
