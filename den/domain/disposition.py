"""Content-Disposition (RFC 6266) with the UTF-8 filename (RFC 8187) and an ASCII fallback."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

# RFC 8187 attr-char: what may stay unescaped in ext-value.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        code = ord(ch)
        if code < 0x20 or code >= 0x7F or ch in '"\\%;':
            out.append("_")
        else:
            out.append(ch)
    fallback = "".join(out).strip()
    if not any(c.isalnum() for c in fallback.rsplit(".", 1)[0]):
        # Nothing readable survived (a name in another script): keep only the extension.
        ext = fallback.rsplit(".", 1)[1] if "." in fallback else ""
        return "download" + (f".{ext}" if ext.isalnum() else "")
    return fallback


def content_disposition(name: str, *, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    fallback = _ascii_fallback(name)
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
