"""Short human-readable renderings of outputs, for event lines and task summaries."""

from __future__ import annotations

import json
from typing import Any, Final

_TEXT_KEYS: Final = ("summary", "answer", "text", "body", "message", "result", "content")


def text_of(value: Any) -> str | None:
    """The most readable text in an output: itself if a string, else a well-known field."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in _TEXT_KEYS:
            found = value.get(key)
            if isinstance(found, str) and found.strip():
                return found
    return None


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def preview(value: Any, limit: int = 280) -> str:
    if value is None:
        return ""
    text = text_of(value)
    if text is None:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return shorten(text, limit)
