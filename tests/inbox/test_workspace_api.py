"""Workspace objects and their types through the inbox's API: tentacle behind it, inkpass
deciding, all real. Bad input gets a clear error with a stable code and changes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from contracts.inkpass.types import Role, TokenKind
from shared.auth import TokenCodec, token_signing_key
from shared.settings import PlatformSettings
from tests.inbox.conftest import Platform

CONTACT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "company": {"type": "string"}},
    "required": ["name"],
}


async def test_types_objects_filter_pages_and_search(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    put = await ada.ok(
        "PUT", "/api/v1/workspace/types/contact", json={"json_schema": CONTACT_SCHEMA}
    )
    assert put == {"type": "contact", "json_schema": CONTACT_SCHEMA}
    assert (await ada.ok("GET", "/api/v1/workspace/types/contact"))["json_schema"] == (
        CONTACT_SCHEMA
    )
    refused = await ada.http.post(
        "/api/v1/workspace/objects", json={"type": "contact", "data": {"company": "Acme"}}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "tentacle.object_invalid"

    created = []
    for i, company in enumerate(["Acme", "Acme", "Globex", "Acme"]):
        body = {"type": "contact", "data": {"name": f"person {i}", "company": company}}
        created.append(await ada.ok("POST", "/api/v1/workspace/objects", 201, json=body))
    await ada.ok(
        "POST", "/api/v1/workspace/objects", 201, json={"type": "note", "data": {"text": "hello"}}
    )
    types = await ada.ok("GET", "/api/v1/workspace/types")
    assert [(t["type"], t["count"], t["json_schema"] is not None) for t in types["types"]] == [
        ("contact", 4, True),
        ("note", 1, False),
    ]

    # The filter language, a page at a time.
    where = json.dumps({"company": "Acme"})
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, str | int] = {"type": "contact", "where": where, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await ada.ok("GET", "/api/v1/workspace/objects", params=params)
        seen += [obj["id"] for obj in page["objects"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    acme = {c["id"] for c in created if c["data"]["company"] == "Acme"}
    assert sorted(seen) == sorted(acme)
    posted = await ada.ok(
        "POST", "/api/v1/workspace/objects/query", json={"where": {"company": "Globex"}}
    )
    assert [obj["data"]["name"] for obj in posted["objects"]] == ["person 2"]

    hits = await ada.ok("GET", "/api/v1/workspace/search", params={"q": "Globex"})
    assert [h["object"]["id"] for h in hits["hits"]] == [created[2]["id"]]
    assert "<b>" in hits["hits"][0]["snippet"]

    # Read, merge, replace, version conflict, delete.
    first = created[0]["id"]
    got = await ada.ok("GET", f"/api/v1/workspace/objects/{first}")
    assert got["version"] == 1
    merged = await ada.ok(
        "PATCH", f"/api/v1/workspace/objects/{first}", json={"data": {"company": "Initech"}}
    )
    assert merged["data"] == {"name": "person 0", "company": "Initech"}
    assert merged["version"] == 2
    stale = await ada.http.patch(
        f"/api/v1/workspace/objects/{first}",
        json={"data": {"name": "x"}, "mode": "replace", "expected_version": 1},
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "tentacle.object_version_conflict"
    deleted = await ada.ok("DELETE", f"/api/v1/workspace/objects/{first}")
    assert deleted == {"id": first, "version": 2}
    gone = await ada.http.get(f"/api/v1/workspace/objects/{first}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "tentacle.object_not_found"

    spec = (await ada.http.get("/openapi.json")).json()
    for path in (
        "/api/v1/workspace/types",
        "/api/v1/workspace/types/{type_name}",
        "/api/v1/workspace/objects",
        "/api/v1/workspace/objects/{object_id}",
        "/api/v1/workspace/objects/query",
        "/api/v1/workspace/search",
    ):
        assert path in spec["paths"], path


async def test_bad_input_changes_nothing_and_leaks_nothing(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    eve = await platform.sign_up("eve")
    obj = await ada.ok(
        "POST", "/api/v1/workspace/objects", 201, json={"type": "note", "data": {"text": "secret"}}
    )
    object_id = obj["id"]

    # Another organisation's ids look exactly like missing ones, for every verb.
    body: dict[str, Any] = {"data": {"text": "mine now"}}
    for method, json_body in (("GET", None), ("PATCH", body), ("DELETE", None)):
        answer = await eve.http.request(
            method, f"/api/v1/workspace/objects/{object_id}", json=json_body
        )
        assert answer.status_code == 404, answer.text
        assert "secret" not in answer.text
    assert (await eve.ok("GET", "/api/v1/workspace/objects"))["objects"] == []
    assert (await eve.ok("GET", "/api/v1/workspace/search", params={"q": "secret"}))["hits"] == []
    assert (await eve.ok("GET", "/api/v1/workspace/types"))["types"] == []

    # Bad filters: not JSON, an unknown operator, a regex that could take exponential time.
    for where, code in (
        ("{not json", "inbox.malformed_filter"),
        ("[1, 2]", "inbox.malformed_filter"),
        (json.dumps({"text": {"$bogus": 1}}), "tentacle.filter_invalid"),
        (json.dumps({"text": {"$regex": "(a+)+$"}}), "tentacle.regex_rejected"),
    ):
        answer = await ada.http.get("/api/v1/workspace/objects", params={"where": where})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == code

    # A cursor that was never given out, or one made for another ordering.
    page = await ada.ok("POST", "/api/v1/workspace/objects/query", json={"limit": 1})
    assert page["next_cursor"] is None
    for cursor in ("garbage!", "eyJvIjoieCJ9"):
        answer = await ada.http.get("/api/v1/workspace/objects", params={"cursor": cursor})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "inbox.invalid_cursor"

    # Malformed JSON, unknown fields, a bad type name, an invalid schema.
    malformed = await ada.http.post(
        "/api/v1/workspace/objects",
        content=b'{"type": "note", "data": {',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "inbox.malformed_json"
    extra = await ada.http.post(
        "/api/v1/workspace/objects", json={"type": "note", "data": {}, "owner": "me"}
    )
    assert extra.status_code == 422
    assert extra.json()["error"]["code"] == "inbox.invalid_request"
    bad_type = await ada.http.get("/api/v1/workspace/types/Not-A-Type")
    assert bad_type.status_code == 422
    bad_schema = await ada.http.put(
        "/api/v1/workspace/types/note", json={"json_schema": {"type": "no-such-type"}}
    )
    assert bad_schema.status_code == 422
    assert bad_schema.json()["error"]["code"] == "tentacle.object_schema_invalid"
    assert (await ada.ok("GET", "/api/v1/workspace/types/note"))["json_schema"] is None

    # A body over the limit is refused before it is read.
    huge = {"type": "note", "data": {"text": "x" * (2 * 1024 * 1024)}}
    too_big = await ada.http.post("/api/v1/workspace/objects", json=huge)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "inbox.body_too_large"

    # Nothing changed through all that.
    still = await ada.ok("GET", f"/api/v1/workspace/objects/{object_id}")
    assert still["version"] == 1
    assert still["data"] == {"text": "secret"}

    # No credential, or one that is not a token at all.
    async with httpx.AsyncClient(base_url=platform.url, timeout=20) as anonymous:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = await anonymous.get("/api/v1/workspace/objects", headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"].endswith(("unauthenticated", "token_invalid"))
        answer = await anonymous.post(
            "/api/v1/workspace/objects", json={"type": "note", "data": {"text": "anon"}}
        )
        assert answer.status_code == 401
    listed = await ada.ok("GET", "/api/v1/workspace/objects")
    assert [o["id"] for o in listed["objects"]] == [object_id]


async def test_an_expired_token_is_refused(
    platform: Platform, platform_settings: PlatformSettings
) -> None:
    ada = await platform.sign_up("ada")
    # A genuine access token of ada's, signed with the platform's key an hour ago (one minute's
    # lifetime): the signature is good, the time is not.
    an_hour_ago = TokenCodec(token_signing_key(platform_settings), clock=lambda: time.time() - 3600)
    expired, _ = an_hour_ago.issue(
        TokenKind.ACCESS, user_id=ada.user_id, org_id=ada.org_id, roles=[Role.OWNER], ttl_s=60
    )
    headers = {"Authorization": f"Bearer {expired}"}
    async with httpx.AsyncClient(base_url=platform.url, timeout=20) as stale:
        for method, path in (
            ("GET", "/api/v1/workspace/objects"),
            ("GET", "/api/v1/workspace/types"),
            ("GET", "/api/v1/memories"),
        ):
            answer = await stale.request(method, path, headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "inkpass.token_expired"
        created = await stale.post(
            "/api/v1/workspace/objects",
            json={"type": "note", "data": {"text": "late"}},
            headers=headers,
        )
        assert created.status_code == 401
    assert (await ada.ok("GET", "/api/v1/workspace/objects"))["objects"] == []
