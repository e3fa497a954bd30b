"""Stable error codes of Flux's chat: what a reply's `error` event or a tool result carries."""

from __future__ import annotations

from enum import StrEnum


class ChatErrorCode(StrEnum):
    # ------------------------------------------------------------------ requests
    MESSAGE_CONFLICT = "tentacle.chat_message_conflict"
    """The message id was used before in this organisation with other text or conversation."""
    CONVERSATION_BUSY = "tentacle.chat_conversation_busy"
    """Another reply of the conversation is streaming; the message is answered after it."""
    REPLY_NOT_FOUND = "tentacle.chat_reply_not_found"
    """No such reply in this conversation and organisation (another org's ids look the same)."""
    APPROVAL_NOT_PENDING = "tentacle.chat_approval_not_pending"
    """The reply waits on no approval with this id (answered, superseded, or never asked)."""
    REPLY_LOST = "tentacle.chat_reply_lost"
    """The reply's worker went silent mid-reply and a newer message closed it."""
    TOO_MANY_ROUNDS = "tentacle.chat_too_many_rounds"
    """The model kept calling tools without answering; the reply stops."""

    # ------------------------------------------------------------------ tool results
    TOOL_UNKNOWN = "tentacle.tool_unknown"
    """The model called a tool that does not exist."""
    TOOL_ARGUMENTS_INVALID = "tentacle.tool_arguments_invalid"
    """The arguments do not match the tool's JSON Schema (or are not JSON); nothing was done."""
    TOOL_NOT_CONFIGURED = "tentacle.tool_not_configured"
    """The tool needs a provider this platform has not configured (web search)."""
    TOOL_NOT_AVAILABLE = "tentacle.tool_not_available"
    """The service behind the tool does not offer it (yet)."""
    TOOL_DECLINED = "tentacle.tool_declined"
    """The user declined the approval; nothing was done."""
    TOOL_FAILED = "tentacle.tool_failed"
    """The service behind the tool refused or failed; `details.cause` has its code."""
