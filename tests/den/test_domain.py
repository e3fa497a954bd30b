"""Den's pure rules: names, sniffing, ranges, dispositions, signatures, tus headers, cursors."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from contracts.den.errors import DenErrorCode
from den.domain import cursor as cursors
from den.domain.conditional import Outcome, evaluate, http_date, range_applies
from den.domain.disposition import content_disposition
from den.domain.errors import DenError
from den.domain.names import check_name, check_tags, first_free
from den.domain.ranges import ByteRange, parse_range
from den.domain.signing import UrlClaims, UrlSigner, derive_key, parse_expires
from den.domain.sniff import OCTET_STREAM, presentation, sniff
from den.domain.tus import parse_checksum, parse_metadata


def _code(exc: pytest.ExceptionInfo[DenError]) -> str:
    return exc.value.code


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        ".",
        "..",
        "../etc/passwd",
        "a/b",
        "..\\windows",
        "nul\x00byte",
        "tab\tname",
        "new\nline",
        "evil\u202egpj.exe",
        "zero\u200bwidth",
        "x" * 256,
        "é" * 128,
    ],
)
def test_unsafe_names_are_refused(raw: str) -> None:
    with pytest.raises(DenError) as exc:
        check_name(raw)
    assert _code(exc) == DenErrorCode.INVALID_NAME


def test_names_are_normalised_not_rewritten() -> None:
    assert check_name("  Report Q3.pdf ") == "Report Q3.pdf"
    assert check_name("cafe\u0301.txt") == "café.txt"  # NFC
    assert check_name("...") == "..."
    assert check_name("日本語のファイル.md") == "日本語のファイル.md"
    assert check_name("x" * 255) == "x" * 255


def test_tags() -> None:
    assert check_tags([" a ", "b", "a"]) == ["a", "b"]
    for bad in ([""], ["x" * 65], ["bad\x07"], [str(i) for i in range(33)]):
        with pytest.raises(DenError) as exc:
            check_tags(bad)
        assert _code(exc) == DenErrorCode.INVALID_TAG


def test_first_free_numbers_and_keeps_the_extension() -> None:
    taken = {"a.txt", "a (1).txt", "b.tar.gz"}
    assert first_free("a.txt", taken.__contains__) == "a (2).txt"
    assert first_free("b.tar.gz", taken.__contains__) == "b (1).tar.gz"
    assert first_free("c.txt", taken.__contains__) == "c.txt"
    assert first_free("a.txt", taken.__contains__, label="copy") == "a (copy).txt"
    long = "y" * 250 + ".txt"
    assert len(first_free(long, {long}.__contains__).encode()) <= 255


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (PNG, "photo.png", "image/png"),
        (PNG, "innocent.html", "image/png"),  # the bytes win over the name
        (HTML, "report.pdf", "text/html"),
        (b"  <script>alert(1)</script>", "notes.txt", "text/html"),
        (b"hello <b>world</b>", "notes.txt", "text/plain; charset=utf-8"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "a.png", "image/svg+xml"),
        (b'<?xml version="1.0"?><root/>', "data", "application/xml"),
        (b"# Title\n\nsome *markdown*", "README.md", "text/markdown; charset=utf-8"),
        (b"a,b\n1,2\n", "t.csv", "text/csv; charset=utf-8"),
        (b"console.log(1)", "app.js", "text/javascript; charset=utf-8"),
        (b"\x00\x01\x02\x03binary", "x.txt", OCTET_STREAM),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "doc.pdf", "application/pdf"),
        (b"", "empty.bin", "text/plain"),
    ],
)
def test_sniffing_uses_the_bytes(head: bytes, name: str, expected: str) -> None:
    assert sniff(head, name) == expected


def test_active_content_is_an_attachment_with_a_safe_type() -> None:
    for active in ("text/html", "image/svg+xml", "application/xml", "text/javascript"):
        shown = presentation(active)
        assert shown.content_type == OCTET_STREAM
        assert not shown.inline
    pdf = presentation("application/pdf")
    assert not pdf.inline
    assert pdf.content_type == "application/pdf"
    assert presentation("image/png").inline
    assert not presentation("image/png", want_attachment=True).inline
    assert presentation("text/plain; charset=utf-8").inline


def test_content_disposition_has_an_ascii_fallback_and_utf8_name() -> None:
    value = content_disposition('naïve "report"; 100%.pdf', inline=False)
    assert value.startswith('attachment; filename="naive _report__ 100_.pdf"; ')
    assert value.endswith("filename*=UTF-8''na%C3%AFve%20%22report%22%3B%20100%25.pdf")
    assert content_disposition("a.png", inline=True).startswith("inline;")
    assert 'filename="download"' in content_disposition("日本", inline=False)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, [ByteRange(0, 9)]),
        ("bytes=90-", 100, [ByteRange(90, 99)]),
        ("bytes=-10", 100, [ByteRange(90, 99)]),
        ("bytes=-1000", 100, [ByteRange(0, 99)]),
        ("bytes=95-200", 100, [ByteRange(95, 99)]),
        ("bytes=0-0,-1", 100, [ByteRange(0, 0), ByteRange(99, 99)]),
        ("bytes=0-10, 5-20, 21-30", 100, [ByteRange(0, 30)]),  # merged
        ("bytes= 50-59 ,10-19", 100, [ByteRange(10, 19), ByteRange(50, 59)]),
        ("bytes=200-300,0-1", 100, [ByteRange(0, 1)]),  # the unsatisfiable part is dropped
        ("items=0-9", 100, None),  # another unit: ignored
        ("bytes=9-0", 100, None),  # invalid: ignored
        ("bytes=abc", 100, None),
        ("bytes=", 100, None),
        ("bytes=-", 100, None),
        ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 40, 2)), 100, None),  # too many
    ],
)
def test_ranges(header: str | None, size: int, expected: list[ByteRange] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(DenError) as exc:
        parse_range(header, size)
    assert _code(exc) == DenErrorCode.RANGE_NOT_SATISFIABLE


def test_conditionals() -> None:
    etag = '"abc"'
    when = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    later = http_date(when + timedelta(seconds=1))
    earlier = http_date(when - timedelta(seconds=1))

    def run(**headers: str | None) -> Outcome:
        values: dict[str, str | None] = {
            "if_match": None,
            "if_none_match": None,
            "if_modified_since": None,
            "if_unmodified_since": None,
        }
        values.update(headers)
        return evaluate(etag=etag, last_modified=when, **values)

    assert run() is Outcome.PROCEED
    assert run(if_none_match='"abc"') is Outcome.NOT_MODIFIED
    assert run(if_none_match='W/"abc", "x"') is Outcome.NOT_MODIFIED
    assert run(if_none_match='"x"') is Outcome.PROCEED
    assert run(if_match='"x"') is Outcome.PRECONDITION_FAILED
    assert run(if_match='W/"abc"') is Outcome.PRECONDITION_FAILED  # strong comparison
    assert run(if_match="*") is Outcome.PROCEED
    assert run(if_modified_since=later) is Outcome.NOT_MODIFIED
    assert run(if_modified_since=earlier) is Outcome.PROCEED
    assert run(if_unmodified_since=earlier) is Outcome.PRECONDITION_FAILED
    assert run(if_modified_since="garbage") is Outcome.PROCEED
    assert range_applies(None, etag=etag, last_modified=when)
    assert range_applies('"abc"', etag=etag, last_modified=when)
    assert not range_applies('"old"', etag=etag, last_modified=when)
    assert not range_applies('W/"abc"', etag=etag, last_modified=when)
    assert range_applies(http_date(when), etag=etag, last_modified=when)
    assert not range_applies(earlier, etag=etag, last_modified=when)


def _claims(**changes: object) -> UrlClaims:
    values: dict[str, object] = {
        "purpose": "file",
        "methods": frozenset({"GET"}),
        "org_id": "acme",
        "object_id": "f1",
        "link_id": "l1",
        "expires": 2_000,
    }
    values.update(changes)
    return UrlClaims(**values)  # type: ignore[arg-type]


def test_a_signature_binds_everything_it_names() -> None:
    signer = UrlSigner(derive_key(b"k" * 40), max_lifetime_s=3600)
    good = signer.sign(_claims())
    signer.verify(_claims(), good, method="GET", now=1_000)
    signer.verify(_claims(), good, method="HEAD", now=1_000)
    for other in (
        _claims(org_id="rival"),
        _claims(object_id="f2"),
        _claims(link_id="l2"),
        _claims(expires=2_001),
        _claims(purpose="upload"),
        _claims(methods=frozenset({"GET", "PUT"})),
    ):
        with pytest.raises(DenError) as exc:
            signer.verify(other, good, method="GET", now=1_000)
        assert _code(exc) == DenErrorCode.INVALID_SIGNATURE
    tampered = ("A" if good[0] != "A" else "B") + good[1:]
    for bad in (tampered, "", None, "!!!", good[:-2]):
        with pytest.raises(DenError) as exc:
            signer.verify(_claims(), bad, method="GET", now=1_000)
        assert _code(exc) == DenErrorCode.INVALID_SIGNATURE
    with pytest.raises(DenError) as exc:
        signer.verify(_claims(), good, method="PUT", now=1_000)
    assert _code(exc) == DenErrorCode.INVALID_SIGNATURE
    with pytest.raises(DenError) as exc:
        signer.verify(_claims(), good, method="GET", now=2_001)
    assert _code(exc) == DenErrorCode.URL_EXPIRED
    far = _claims(expires=100_000)
    with pytest.raises(DenError) as exc:
        signer.verify(far, signer.sign(far), method="GET", now=1_000)
    assert _code(exc) == DenErrorCode.INVALID_SIGNATURE
    other_key = UrlSigner(derive_key(b"j" * 40), max_lifetime_s=3600)
    with pytest.raises(DenError):
        other_key.verify(_claims(), good, method="GET", now=1_000)
    for bad_expiry in (None, "", "-1", "1e9", "\uff11\uff12\uff13", "9" * 13):
        with pytest.raises(DenError):
            parse_expires(bad_expiry)


def test_tus_headers() -> None:
    encoded = base64.b64encode("rapport é.pdf".encode()).decode()
    assert parse_metadata(f"filename {encoded},is_confidential") == {
        "filename": "rapport é.pdf",
        "is_confidential": "",
    }
    for bad in ("filename !!!", "a YQ==,a YQ==", "bad,key YQ==,", "k " + "A" * 5000):
        with pytest.raises(DenError) as exc:
            parse_metadata(bad)
        assert _code(exc) == DenErrorCode.BAD_REQUEST
    digest = hashlib.sha256(b"x").digest()
    checksum = parse_checksum("sha256 " + base64.b64encode(digest).decode())
    assert checksum is not None
    assert checksum.digest == digest
    with pytest.raises(DenError) as exc:
        parse_checksum("md5 " + base64.b64encode(b"0" * 16).decode())
    assert _code(exc) == DenErrorCode.UNSUPPORTED_CHECKSUM
    with pytest.raises(DenError) as exc:
        parse_checksum("sha256 " + base64.b64encode(b"short").decode())
    assert _code(exc) == DenErrorCode.BAD_REQUEST


def test_cursors_round_trip_and_reject_forgeries() -> None:
    position = cursors.Position(section="folders", key="name", id="abc")
    assert cursors.decode(cursors.encode(position), sections=("folders", "files")) == position
    for forged in ("not-base64!", "e30", base64.urlsafe_b64encode(b'{"key":1}').decode()):
        with pytest.raises(DenError) as exc:
            cursors.decode(forged)
        assert _code(exc) == DenErrorCode.INVALID_CURSOR
    with pytest.raises(DenError):
        cursors.decode(cursors.encode(position))  # a folder cursor used on a file listing
