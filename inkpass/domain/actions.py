"""Action patterns: `den.file.read` matched by `den.file.read`, `den.*`, `*.*.read` or `*`.

An inner `*` stands for exactly one segment; a trailing `*` for one or more, so `den.*` covers
everything of den and `*` everything at all.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def _segments(value: str) -> tuple[str, ...]:
    return tuple(value.split("."))


def action_matches(pattern: str, action: str) -> bool:
    want = _segments(pattern)
    got = _segments(action)
    last = len(want) - 1
    for i, segment in enumerate(want):
        if i >= len(got):
            return False
        if segment == "*" and i == last:
            return True
        if segment != "*" and segment != got[i]:
            return False
    return len(want) == len(got)


def any_matches(patterns: tuple[str, ...] | list[str], action: str) -> bool:
    return any(action_matches(p, action) for p in patterns)


def pattern_covered(pattern: str, grants: tuple[str, ...] | list[str]) -> bool:
    """Whether every action `pattern` can match is matched by one of `grants`.

    Used to keep an API key's scopes within its creator's role: a scope is accepted only if a
    grant is at least as wide, segment by segment.
    """
    want = _segments(pattern)
    for grant in grants:
        have = _segments(grant)
        if have == ("*",):
            return True
        last = len(have) - 1
        covered = True
        for i, segment in enumerate(have):
            if segment == "*" and i == last:
                covered = len(want) >= len(have)
                break
            if i >= len(want) or (segment != "*" and segment != want[i]):
                covered = False
                break
        else:
            covered = len(want) == len(have)
        if covered:
            return True
    return False
