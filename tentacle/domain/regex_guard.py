"""Which `$regex` patterns a workspace query may run.

What PostgreSQL does with them (checked on PostgreSQL 18, Spencer's engine): `~` needs no
capture positions, so without back-references a pattern runs as a lazily built DFA over the
text, in time linear in the text for a given pattern; the backtracking "dissect" pass runs only
for back-references. `(a|aa)+$` against 200,000 `a`s and a `!` answers in milliseconds, where a
backtracking engine would never finish. A pattern whose automaton grows too large is refused by
the database itself ("regular expression is too complex", reported as `tentacle.regex_rejected`),
and every query runs under a statement timeout (`workspace_query_timeout_ms`) whatever it does.

So what is rejected here is what can be slow for that engine or costly to build: back-references
and look-arounds, patterns over 256 characters, counted repetitions over 100, and (conservative:
nothing sensible needs it, it multiplies the automaton's states, and it is the textbook
catastrophic shape for the backtracking engines people test their patterns with) a quantified
group that itself holds a quantifier, `(a+)+`, `(x*)*`. Alternation under a quantifier,
`(a|aa)+`, is allowed.
"""

from __future__ import annotations

import re
from typing import Final

MAX_PATTERN: Final = 256
MAX_COUNT: Final = 100

_BACKREF = re.compile(r"\\[1-9]|\\k<|\(\?P=")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_COUNT = re.compile(r"\{(\d*)(?:,(\d*))?\}")


class RegexRejected(ValueError):
    """The pattern is not allowed; the message says why (never echoing the pattern)."""


def check_pattern(pattern: str) -> str:
    if not pattern:
        raise RegexRejected("an empty $regex")
    if len(pattern) > MAX_PATTERN:
        raise RegexRejected(f"a $regex is limited to {MAX_PATTERN} characters")
    if "\x00" in pattern:
        raise RegexRejected("a $regex may not contain NUL")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RegexRejected(f"not a valid regular expression: {exc.msg}") from None
    if _BACKREF.search(pattern):
        raise RegexRejected("back-references are not allowed in $regex")
    if _LOOKAROUND.search(pattern):
        raise RegexRejected("look-ahead and look-behind are not allowed in $regex")
    for match in _COUNT.finditer(pattern):
        for bound in match.groups():
            if bound and int(bound) > MAX_COUNT:
                raise RegexRejected(f"counted repetition is limited to {MAX_COUNT}")
    if _nested_quantifier(pattern):
        raise RegexRejected("a quantified group containing a quantifier can take exponential time")
    return pattern


def _nested_quantifier(pattern: str) -> bool:
    """True if a group that holds a repetition is itself repeated more than once."""
    stack: list[bool] = [False]  # per open group: does it contain a repetition?
    i, n = 0, len(pattern)
    closed_with_repeat = False  # the atom just before i is a group that held a repetition
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            closed_with_repeat = False
            continue
        if c == "[":
            i = _skip_class(pattern, i)
            closed_with_repeat = False
            continue
        if c == "(":
            stack.append(False)
            i += 1
            closed_with_repeat = False
            continue
        if c == ")":
            inner = stack.pop() if len(stack) > 1 else False
            closed_with_repeat = inner
            if inner:
                stack[-1] = True
            i += 1
            continue
        repeat, width = _quantifier(pattern, i)
        if repeat is not None:
            if repeat and closed_with_repeat:
                return True
            if repeat:
                stack[-1] = True
            i += width
            if i < n and pattern[i] in "?+":  # lazy or possessive suffix
                i += 1
            closed_with_repeat = False
            continue
        closed_with_repeat = False
        i += 1
    return False


def _quantifier(pattern: str, i: int) -> tuple[bool | None, int]:
    """(repeats more than once?, width) if a quantifier starts at i, else (None, 0)."""
    c = pattern[i]
    if c in "*+":
        return True, 1
    if c == "?":
        return False, 1
    if c == "{":
        match = _COUNT.match(pattern, i)
        if match is None:
            return None, 0
        low, high = match.group(1), match.group(2)
        # {n} repeats n times; {n,} without end; {n,m} up to m
        many = int(low or "0") > 1 if high is None else high == "" or int(high) > 1
        return many, len(match.group(0))
    return None, 0


def _skip_class(pattern: str, i: int) -> int:
    i += 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1
