"""Files through Den (streamed upload, redirect to a signed download) and the delivery log and
integrations through Mimic, all behind the inbox's authentication and inkpass's decisions."""

from __future__ import annotations

import os

import httpx

from den.app import build_app as build_den
from den.settings import DenSettings
from mimic.app import build_app as build_mimic
from mimic.settings import MimicSettings
from shared.testing.plugin import StartService
from tests.inbox.conftest import Platform


async def test_files_round_trip_and_notifications(
    platform: Platform, running_service: StartService
) -> None:
    await running_service(build_den, DenSettings)
    await running_service(build_mimic, MimicSettings)
    ada = await platform.sign_up("ada")
    data = os.urandom(3 * 1024 * 1024 + 17)  # over the JSON body limit: streamed, not refused

    async def body() -> httpx.AsyncByteStream:  # type: ignore[misc]
        for i in range(0, len(data), 256 * 1024):
            yield data[i : i + 256 * 1024]

    uploaded = await ada.http.put(
        "/api/v1/files/upload/report.bin",
        content=body(),
        headers={"Content-Length": str(len(data))},
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["file_id"]
    listed = await ada.ok("GET", "/api/v1/files")
    assert [f["file_id"] for f in listed["files"]] == [file_id]

    redirect = await ada.http.get(f"/api/v1/files/{file_id}/download")
    assert redirect.status_code == 307
    async with httpx.AsyncClient(timeout=30) as anyone:  # the signed link needs no token
        fetched = await anyone.get(redirect.headers["location"])
    assert fetched.status_code == 200
    assert fetched.content == data
    link = await ada.ok("POST", f"/api/v1/files/{file_id}/links", 201, json={"lifetime_s": 60})
    assert link["url"].startswith("http")

    no_length = await ada.http.put("/api/v1/files/upload/x.bin", content=body())
    assert no_length.status_code == 422
    eve = await platform.sign_up("eve")
    assert (await eve.http.get(f"/api/v1/files/{file_id}/download")).status_code == 404
    assert (await eve.ok("GET", "/api/v1/files"))["files"] == []

    # The verification emails of both sign-ups were queued with mimic, in each one's org only.
    notifications = await ada.ok("GET", "/api/v1/notifications")
    assert isinstance(notifications["notifications"], list)
    assert (await ada.ok("GET", "/api/v1/integrations"))["integrations"] == []
