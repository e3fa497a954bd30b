"""Rows as the JSON the API and the feed show (one shape for both, so the UI renders either)."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue


def priority_of(pending_checkpoints: int) -> str:
    return "attention" if pending_checkpoints > 0 else "normal"


def conversation_json(row: Any) -> dict[str, JsonValue]:
    return {
        "conversation_id": row.conversation_id,
        "title": row.title,
        "read_status": row.read_status,
        "priority": priority_of(row.pending_checkpoints),
        "pending_checkpoints": row.pending_checkpoints,
        "last_preview": row.last_preview,
        "last_message_at": row.last_message_at.isoformat() if row.last_message_at else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def message_json(row: Any, checkpoint_status: str | None = None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "message_id": row.message_id,
        "conversation_id": row.conversation_id,
        "task_id": row.task_id,
        "role": row.role,
        "agent_id": row.agent_id,
        "kind": row.kind,
        "body": row.body,
        "data": row.data,
        "checkpoint_id": row.checkpoint_id,
        "checkpoint_status": checkpoint_status,
        "created_at": row.created_at.isoformat(),
    }
    return out
