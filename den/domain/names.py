"""File and folder names: what a person chose, checked, and never a storage path.

Bytes are stored under ids den generates; a name is only metadata and the `filename` of a
download. Still, a name must be safe wherever it is shown or saved: no path separators, no
`.`/`..`, no control or invisible formatting characters (a right-to-left override turns
`gpj.exe` into a fake `exe.jpg`), at most 255 bytes of UTF-8 (what common file systems take).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

from contracts.den.errors import DenErrorCode
from den.domain.errors import DenError

MAX_NAME_BYTES = 255
MAX_TAG_CHARS = 64
MAX_TAGS = 32
# Controls, formatting (bidi overrides, zero-width), surrogates, private use, line separators.
_REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_DOUBLE_EXTENSIONS = (".tar",)


def _invalid(message: str) -> DenError:
    return DenError(DenErrorCode.INVALID_NAME, message)


def check_name(raw: str) -> str:
    """The name as stored (NFC, outer whitespace trimmed), or `den.invalid_name`."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise _invalid("a name cannot be empty")
    if name in (".", ".."):
        raise _invalid("'.' and '..' are not names")
    if "/" in name or "\\" in name:
        raise _invalid("a name cannot contain '/' or '\\'")
    for ch in name:
        if unicodedata.category(ch) in _REJECTED_CATEGORIES:
            raise _invalid(f"a name cannot contain the character U+{ord(ch):04X}")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise _invalid(f"a name is at most {MAX_NAME_BYTES} bytes of UTF-8")
    return name


def check_tags(raw: Iterable[str]) -> list[str]:
    """Tags as stored: checked like names (but `/` is fine), trimmed, duplicates dropped."""
    tags: list[str] = []
    for value in raw:
        tag = unicodedata.normalize("NFC", value).strip()
        bad = not tag or len(tag) > MAX_TAG_CHARS
        bad = bad or any(unicodedata.category(c) in _REJECTED_CATEGORIES for c in tag)
        if bad:
            raise DenError(
                DenErrorCode.INVALID_TAG,
                f"a tag is 1-{MAX_TAG_CHARS} visible characters",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DenError(DenErrorCode.INVALID_TAG, f"at most {MAX_TAGS} tags")
    return tags


def split_extension(name: str) -> tuple[str, str]:
    """('report', '.pdf'); a leading dot is part of the stem ('.env' has no extension)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    stem, ext = name[:dot], name[dot:]
    for double in _DOUBLE_EXTENSIONS:
        if stem.lower().endswith(double) and len(stem) > len(double):
            return stem[: -len(double)], stem[-len(double) :] + ext
    return stem, ext


def numbered(name: str, n: int, label: str = "") -> str:
    """`name (n).ext` (or `name (copy n).ext`), shortened to stay within the byte limit."""
    stem, ext = split_extension(name)
    suffix = f" ({n})" if not label else (f" ({label})" if n == 1 else f" ({label} {n})")
    budget = MAX_NAME_BYTES - len((suffix + ext).encode())
    encoded = stem.encode()[: max(budget, 1)]
    return encoded.decode(errors="ignore") + suffix + ext


def first_free(name: str, is_taken: Callable[[str], bool], *, label: str = "") -> str:
    """`name` if free, else the first free numbered variant."""
    if not is_taken(name):
        return name
    n = 1
    while True:
        candidate = numbered(name, n, label)
        if not is_taken(candidate):
            return candidate
        n += 1
