"""The URLs den hands out, and the claims each kind of URL is signed and checked with.

* `/v1/orgs/{org}/files/{file}` (GET, HEAD): a download; public files bare, private ones with
  a link's signature;
* `/v1/orgs/{org}/uploads?upload={id}` (POST): the tus creation endpoint of one upload;
* `/v1/orgs/{org}/uploads/{id}` (HEAD, PATCH, DELETE): the tus upload resource;
* `/v1/orgs/{org}/uploads/{id}/content` (PUT): the whole file in one request.
"""

from __future__ import annotations

from urllib.parse import urlencode

from den.domain.signing import UrlClaims, UrlSigner

FILE = "file"
UPLOAD_CREATE = "upload-create"
UPLOAD = "upload"
UPLOAD_PUT = "upload-put"

METHODS: dict[str, frozenset[str]] = {
    FILE: frozenset({"GET"}),
    UPLOAD_CREATE: frozenset({"POST"}),
    UPLOAD: frozenset({"HEAD", "PATCH", "DELETE"}),
    UPLOAD_PUT: frozenset({"PUT"}),
}


def claims(purpose: str, org_id: str, object_id: str, link_id: str, expires: int) -> UrlClaims:
    return UrlClaims(purpose, METHODS[purpose], org_id, object_id, link_id, expires)


def file_path(org_id: str, file_id: str) -> str:
    return f"/v1/orgs/{org_id}/files/{file_id}"


def upload_path(org_id: str, upload_id: str) -> str:
    return f"/v1/orgs/{org_id}/uploads/{upload_id}"


class Urls:
    def __init__(self, base: str, signer: UrlSigner) -> None:
        self.base = base.rstrip("/")
        self.signer = signer

    def _signed(self, path: str, c: UrlClaims, extra: dict[str, str] | None = None) -> str:
        query = dict(extra or {})
        query["expires"] = str(c.expires)
        query["signature"] = self.signer.sign(c)
        return f"{self.base}{path}?{urlencode(query)}"

    def public_file(self, org_id: str, file_id: str) -> str:
        return f"{self.base}{file_path(org_id, file_id)}"

    def link(self, org_id: str, file_id: str, link_id: str, expires: int) -> str:
        c = claims(FILE, org_id, file_id, link_id, expires)
        return self._signed(file_path(org_id, file_id), c, {"link": link_id})

    def upload_create(self, org_id: str, upload_id: str, expires: int) -> str:
        c = claims(UPLOAD_CREATE, org_id, upload_id, upload_id, expires)
        return self._signed(f"/v1/orgs/{org_id}/uploads", c, {"upload": upload_id})

    def upload_resource(self, org_id: str, upload_id: str, expires: int) -> str:
        c = claims(UPLOAD, org_id, upload_id, upload_id, expires)
        return self._signed(upload_path(org_id, upload_id), c)

    def upload_put(self, org_id: str, upload_id: str, expires: int) -> str:
        c = claims(UPLOAD_PUT, org_id, upload_id, upload_id, expires)
        return self._signed(f"{upload_path(org_id, upload_id)}/content", c)
