"""HTTP range requests (RFC 9110 section 14): parsing `Range: bytes=...` against a size.

A header den cannot read (another unit, bad syntax, a range whose end precedes its start, more
than MAX_RANGES parts) is ignored and the whole file is served, as the RFC asks. A readable
header none of whose ranges overlap the file is unsatisfiable (416). Overlapping or adjacent
ranges are merged, so a client cannot make den send the same bytes many times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from contracts.den.errors import DenErrorCode
from den.domain.errors import DenError

MAX_RANGES: Final = 16
_SPEC = re.compile(r"^(\d{1,19})?-(\d{1,19})?$")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def unsatisfiable(size: int) -> DenError:
    return DenError(
        DenErrorCode.RANGE_NOT_SATISFIABLE,
        f"no requested range overlaps the {size} bytes of the file",
        details={"size": size},
    )


def parse_range(header: str | None, size: int) -> list[ByteRange] | None:
    """The ranges to send, merged and in order; None to send the whole file."""
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = [p.strip() for p in specs.split(",")]
    parts = [p for p in parts if p]
    if not parts or len(parts) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    for part in parts:
        match = _SPEC.match(part)
        if match is None or (match.group(1) is None and match.group(2) is None):
            return None
        first, last = match.group(1), match.group(2)
        if first is None:
            suffix = int(last)
            if suffix > 0 and size > 0:
                ranges.append(ByteRange(max(0, size - suffix), size - 1))
            continue
        start = int(first)
        end = size - 1 if last is None else int(last)
        if last is not None and end < start:
            return None
        if start < size:
            ranges.append(ByteRange(start, min(end, size - 1)))
    if not ranges:
        raise unsatisfiable(size)
    return _merge(ranges)


def _merge(ranges: list[ByteRange]) -> list[ByteRange]:
    ordered = sorted(ranges, key=lambda r: r.start)
    merged = [ordered[0]]
    for r in ordered[1:]:
        last = merged[-1]
        if r.start <= last.end + 1:
            merged[-1] = ByteRange(last.start, max(last.end, r.end))
        else:
            merged.append(r)
    return merged
