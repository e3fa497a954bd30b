"""What a file is, from its bytes, and how it may be served.

The client's claimed type is never used. The first bytes are matched against known signatures
(puremagic); text is recognised as valid UTF-8 without NUL bytes and then told apart by what it
contains (markup) and, only among harmless text types, by the name's extension. An extension can
make text *more* dangerous (`x.js` is script) but never less: `<script>` in `notes.txt` is HTML.

Serving: only types a browser renders passively (images, audio, video, plain text, JSON) may be
shown inline; everything else is an attachment, and active content (HTML, SVG, XML, script) is
served as `application/octet-stream` so no browser ever executes it on den's origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import puremagic

from den.domain.names import split_extension

SNIFF_BYTES: Final = 64 * 1024
OCTET_STREAM: Final = "application/octet-stream"

# WHATWG MIME sniffing's HTML signatures, at the start of the text.
_HTML_START = re.compile(
    rb"^\s*<(!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p"
    rb"|!--)[\s>]",
    re.IGNORECASE,
)
# Tags that make text executable wherever they appear early on (older browsers sniffed there).
_ACTIVE_TAG = re.compile(rb"<\s*(script|html|iframe|object|embed|svg)[\s>/]", re.IGNORECASE)
_ACTIVE_WINDOW = 1024
_SVG = re.compile(rb"<\s*svg[\s>]", re.IGNORECASE)
_XML = re.compile(rb"^\s*<\?xml", re.IGNORECASE)

_TEXT_BY_EXTENSION: Final = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".log": "text/plain",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    # Script and markup by name: served as attachments whatever the bytes say.
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
}

_INLINE: Final = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/x-wav",
        "audio/webm",
        "audio/flac",
        "audio/mp4",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/tab-separated-values",
        "application/json",
    }
)

_ACTIVE_EXACT: Final = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "text/css",
        "application/x-shockwave-flash",
        "text/xsl",
        "application/xslt+xml",
    }
)


def is_active(content_type: str) -> bool:
    """Content a browser could execute or that could restyle den's origin."""
    base = content_type.split(";", 1)[0].strip().lower()
    return base in _ACTIVE_EXACT or base.endswith("+xml") or "script" in base


def sniff(head: bytes, name: str) -> str:
    """The content type of a file whose first bytes (up to SNIFF_BYTES) are `head`."""
    if not head:
        return "text/plain"
    binary = _magic(head, name)
    if binary is not None:
        return binary
    if not _looks_like_text(head):
        return OCTET_STREAM
    return _text_type(head, name)


def _magic(head: bytes, name: str) -> str | None:
    # Without the name first: puremagic answers from an extension alone when the bytes match
    # nothing, and the name is the client's claim.
    by_bytes = _typed(head, None)
    if not by_bytes:
        return None
    best = max(confidence for _, confidence in by_bytes)
    top = {mime for mime, confidence in by_bytes if confidence == best}
    if len(top) == 1:
        return top.pop()
    # Several formats share a signature (every OOXML file is a zip): the name may choose
    # among them, never add to them.
    hinted = [mime for mime, _ in _typed(head, name) if mime in top]
    if hinted:
        return hinted[0]
    return "application/zip" if "application/zip" in top else OCTET_STREAM


def _typed(head: bytes, name: str | None) -> list[tuple[str, float]]:
    try:
        matches = puremagic.magic_string(head, filename=name)
    except (puremagic.PureError, ValueError):
        return []
    return [(str(m.mime_type), float(m.confidence)) for m in matches if m.mime_type]


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character.
        if exc.start < len(head) - 3:
            return False
    return True


def _text_type(head: bytes, name: str) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _SVG.search(stripped):
        return "image/svg+xml"
    if _XML.match(stripped):
        return "application/xml"
    if _HTML_START.match(stripped) or _ACTIVE_TAG.search(stripped[:_ACTIVE_WINDOW]):
        return "text/html"
    by_name = _TEXT_BY_EXTENSION.get(split_extension(name)[1].lower(), "text/plain")
    return f"{by_name}; charset=utf-8" if by_name.startswith("text/") else by_name


@dataclass(frozen=True, slots=True)
class Presentation:
    """How a download is served: the Content-Type header and inline or attachment."""

    content_type: str
    inline: bool


def presentation(content_type: str, *, want_attachment: bool = False) -> Presentation:
    base = content_type.split(";", 1)[0].strip().lower()
    if is_active(content_type):
        return Presentation(OCTET_STREAM, inline=False)
    return Presentation(content_type, inline=base in _INLINE and not want_attachment)
