"""How memory search results are merged and how the prompt's memory block is packed.

Ranked lists (exact key, full text, semantic) are merged by reciprocal rank fusion: robust to
scores on different scales, and deterministic (ties go by key). The memory block takes every
core memory, then archival ones, highest relevance first, skipping any that would overflow the
token budget; tokens are estimated from characters (about four per token), which needs no
tokenizer and gives the same block for the same memories every time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

RRF_K: Final = 60
KEY_BONUS: Final = 1.0
"""An exact key match outranks anything found by text or meaning."""
CHARS_PER_TOKEN: Final = 4


@dataclass
class Fused:
    key: str
    score: float = 0.0
    matched: list[str] = field(default_factory=list)


def fuse(lists: Sequence[tuple[str, Sequence[str]]]) -> list[Fused]:
    """Merge ranked lists of keys, each named by how it matched; best first."""
    merged: dict[str, Fused] = {}
    for how, keys in lists:
        for rank, key in enumerate(keys, start=1):
            item = merged.setdefault(key, Fused(key))
            item.score += KEY_BONUS if how == "key" else 1.0 / (RRF_K + rank)
            if how not in item.matched:
                item.matched.append(how)
    return sorted(merged.values(), key=lambda f: (-f.score, f.key))


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    title: str
    body: str


HEADER: Final = "What the organisation knows (memory):"


def line(entry: Entry) -> str:
    return f"- {entry.title} [{entry.key}]: {' '.join(entry.body.split())}"


def pack(entries: Sequence[Entry], budget: int) -> tuple[str, list[str], int]:
    """The block's text, the keys in it, and its estimated tokens (at most `budget`)."""
    used = estimate_tokens(HEADER)
    if not entries or used > budget:
        return "", [], 0
    lines, keys = [HEADER], []
    for entry in entries:
        text = line(entry)
        cost = estimate_tokens(text) + 1  # the newline
        if used + cost > budget:
            continue
        lines.append(text)
        keys.append(entry.key)
        used += cost
    if not keys:
        return "", [], 0
    return "\n".join(lines), keys, used
