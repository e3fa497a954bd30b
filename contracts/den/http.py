"""Den's HTTP surface: where a file's bytes go (the bus carries everything else).

For the inbox, agents and browsers. Every URL below comes from a bus reply, signed by den for
one object, one purpose (its methods) and one expiry; nobody builds them. What is signed is the
path and the query, not the host: a gateway may serve den under another host (set
`DEN_PUBLIC_URL` to the base den should print) as long as path and query pass unchanged. No
cookie or header authenticates anything: a URL is a capability, so hand it only to whoever may
use it, and ask den for a fresh one rather than storing it.

Uploads: `den.v1.rpc.upload.authorize` (`AuthorizeUploadV1` -> `UploadAuthorizationV1`) gives
two URLs, valid until `expires_at` (the upload's lifetime, default 24 h):

* `put_url`: `PUT` the whole file in one request (`Content-Length`, or chunked when the size is
  unknown; optional `Upload-Checksum: sha256 <base64 digest>`; `&filename=<name>` appended if
  the authorisation named no file). `201` with the new file as `FileV1` JSON. All or nothing: a
  refused or interrupted PUT leaves no file and no stored bytes; the URL works once. If den
  itself dies after the last byte arrived, the file may still be completed: when no answer
  came, `den.v1.rpc.upload.get` tells the outcome (and `file_id`).
* `create_url`: tus 1.0 (https://tus.io/protocols/resumable-upload), for big files and browsers
  (any tus 1.0 client; not yet tried with a browser library). `POST` with `Tus-Resumable:
  1.0.0`, `Upload-Length` (required: deferred lengths are refused) and, if unnamed,
  `Upload-Metadata: filename <base64>`; it may carry the first bytes (`Content-Type:
  application/offset+octet-stream`). `201` with `Location`: the upload's resource URL (same
  expiry). Then `HEAD` it for `Upload-Offset`; `PATCH` it with `Upload-Offset` (must equal the
  stored offset, else `409` and the right `Upload-Offset`), `Content-Type:
  application/offset+octet-stream` and optionally `Upload-Checksum` (a mismatch answers `460`
  and keeps nothing of that request); `DELETE` it to abandon the upload. A request cut off keeps
  what arrived (unless it carried a checksum, which then cannot vouch for it), so `HEAD` and
  resume. One writer at a time: `423` while another request holds the upload. The answer that
  completes the file carries `Den-File-Id`; den also publishes
  `den.v1.evt.file.{org_id}.created` (`FileCreatedV1`, with the `upload_id`). Progress and
  outcome are also on the bus (`den.v1.rpc.upload.get`).

  Den never trusts a claimed type (`Content-Type`, tus `filetype`): the type is sniffed from the
  bytes (a name's extension only tells apart harmless text types, or makes text script). Names
  are checked (`den.invalid_name`): no separators or `..`, no controls or bidi overrides, at
  most 255 bytes of UTF-8. Sizes are checked while bytes stream (the authorisation's
  `max_bytes`, `DEN_MAX_UPLOAD_BYTES`, the org's quota; exactly at quota is allowed).

Downloads: `GET` or `HEAD` `FileV1.public_url` (public files, no signature) or the `url` of
`den.v1.rpc.link.create` (`CreateLinkV1` -> `LinkV1`: private files; default lifetime 1 h, at
most `DEN_MAX_LINK_LIFETIME_S`; revocable one by one or per file). Streamed, never buffered:

* `Range` (one range `206` with `Content-Range`; several, `multipart/byteranges`; beyond the end
  `416`), `If-Range`, `If-None-Match`/`If-Modified-Since` (`304`), `If-Match` (`412`);
* `ETag` is the SHA-256 of the content, `Repr-Digest` (RFC 9530) the same digest in base64;
* `Content-Disposition` per RFC 6266 with an RFC 8187 `filename*`; only passive types (images,
  audio, video, plain text, JSON) are `inline`, and only if the link did not ask for
  `attachment`; active content (HTML, SVG, XML, scripts) is `application/octet-stream` and an
  attachment; every answer has `X-Content-Type-Options: nosniff` and a sandboxing CSP;
* a store that cannot serve the file answers `503` before anything is sent; should it fail
  later, the connection is cut before `Content-Length` bytes arrive (never other bytes).

A proxy (the inbox streaming a browser's transfer through itself) passes the request body and
the response body through as streams, forwards `Range`, `If-*`, the tus headers and
`Content-Type`/`Content-Length` unchanged, and returns den's status and headers as they are
(`Content-Disposition`, `nosniff`, the CSP and `Cache-Control` are what make serving safe).
Browsers may also talk to den directly: CORS allows any origin by default (`DEN_CORS_ORIGINS`)
and exposes the tus and download headers.

Errors: the status of the code (`HTTP_STATUS`), the code also in the `Den-Error-Code` header
(HEAD answers have no body), and a JSON body `{"error": ErrorV1}` (`contracts.envelope`) with a
`DenErrorCode`, a message, `retryable` and sometimes `details` (`offset` on a wrong offset,
`max_bytes`, quota figures). A refused request stored nothing and changed nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from contracts.den.errors import DenErrorCode as Code

TUS_VERSION: Final = "1.0.0"
ERROR_CODE_HEADER: Final = "Den-Error-Code"
FILE_ID_HEADER: Final = "Den-File-Id"
"""On the tus answer that completed the upload: the new file's id."""

HTTP_STATUS: Final[Mapping[Code, int]] = {
    Code.ORG_REQUIRED: 400,
    Code.FORBIDDEN: 403,
    Code.INVALID_NAME: 400,
    Code.INVALID_TAG: 400,
    Code.NAME_TAKEN: 409,
    Code.FOLDER_NOT_FOUND: 404,
    Code.FOLDER_NOT_EMPTY: 409,
    Code.FOLDER_CYCLE: 409,
    Code.FILE_NOT_FOUND: 404,
    Code.FILE_DELETED: 404,
    Code.FILE_NOT_DELETED: 409,
    Code.INVALID_CURSOR: 400,
    Code.LINK_NOT_FOUND: 404,
    Code.INVALID_LIFETIME: 400,
    Code.INVALID_SIGNATURE: 403,
    Code.URL_EXPIRED: 403,
    Code.LINK_REVOKED: 403,
    Code.UPLOAD_NOT_FOUND: 404,
    Code.UPLOAD_CLOSED: 410,
    Code.UPLOAD_BUSY: 423,
    Code.OFFSET_MISMATCH: 409,
    Code.CHECKSUM_MISMATCH: 460,  # tus checksum extension
    Code.UNSUPPORTED_CHECKSUM: 400,
    Code.TOO_LARGE: 413,
    Code.LENGTH_MISMATCH: 400,
    Code.QUOTA_EXCEEDED: 413,
    Code.BAD_REQUEST: 400,
    Code.UNSUPPORTED_VERSION: 412,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.RANGE_NOT_SATISFIABLE: 416,
    Code.PRECONDITION_FAILED: 412,
    Code.STORAGE_UNAVAILABLE: 503,
    Code.INTEGRITY: 500,
    Code.INTERNAL: 500,
}


def http_status(code: str) -> int:
    """The status den answers a code with (500 for a code it does not know)."""
    try:
        return HTTP_STATUS[Code(code)]
    except ValueError:
        return 500


__all__ = ["ERROR_CODE_HEADER", "FILE_ID_HEADER", "HTTP_STATUS", "TUS_VERSION", "http_status"]
