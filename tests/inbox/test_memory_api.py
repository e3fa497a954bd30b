"""Organisation memory through the inbox's API (tentacle behind it, inkpass deciding), and
inviting a person into the organisation (inkpass's invitation, accepted through the inbox)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from tests.inbox.conftest import PASSWORD, Platform


async def test_store_search_list_history_restore_forget(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    stored = await ada.ok(
        "POST",
        "/api/v1/memories",
        201,
        json={
            "key": "customer/acme:billing",
            "title": "Acme pays quarterly",
            "body": "Acme is invoiced every quarter, net 30.",
            "topic": "billing",
            "tags": ["acme"],
        },
    )
    assert stored["version"] == 1
    assert stored["source"] == "user"
    await ada.ok(
        "POST",
        "/api/v1/memories",
        201,
        json={"key": "style", "title": "Tone", "body": "Short sentences.", "tier": "core"},
    )
    second = await ada.ok(
        "POST",
        "/api/v1/memories",
        201,
        json={
            "key": "customer/acme:billing",
            "title": "Acme pays monthly",
            "body": "Since March Acme is invoiced monthly.",
            "expected_version": 1,
        },
    )
    assert second["version"] == 2

    listed = await ada.ok("GET", "/api/v1/memories")
    assert [mem["key"] for mem in listed["memories"]] == ["customer/acme:billing", "style"]
    assert listed["next_cursor"] is None
    found = await ada.ok("GET", "/api/v1/memory-search", params={"text": "invoiced monthly"})
    assert found["hits"][0]["memory"]["key"] == "customer/acme:billing"
    assert "text" in found["hits"][0]["matched"]
    core = await ada.ok("GET", "/api/v1/memories", params={"tier": "core"})
    assert [mem["key"] for mem in core["memories"]] == ["style"]
    by_key = await ada.ok("GET", "/api/v1/memory-search", params={"key": "style"})
    assert [h["matched"] for h in by_key["hits"]] == [["key"]]

    got = await ada.ok("GET", "/api/v1/memories/customer/acme:billing")
    assert got["title"] == "Acme pays monthly"
    history = await ada.ok("GET", "/api/v1/memories/customer/acme:billing/history")
    assert [v["version"] for v in history["versions"]] == [1, 2]
    restored = await ada.ok(
        "POST", "/api/v1/memories/customer/acme:billing/restore", json={"version": 1}
    )
    assert (restored["version"], restored["title"]) == (3, "Acme pays quarterly")

    conflict = await ada.http.post(
        "/api/v1/memories",
        json={"key": "style", "title": "x", "body": "y", "expected_version": 0},
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "tentacle.memory_version_conflict"

    # Pages, newest change first, each memory once.
    for i in range(5):
        await ada.ok(
            "POST", "/api/v1/memories", 201, json={"key": f"n{i}", "title": "t", "body": f"b{i}"}
        )
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await ada.ok("GET", "/api/v1/memories", params=params)
        assert len(page["memories"]) <= 2
        seen += [mem["key"] for mem in page["memories"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:5] == ["n4", "n3", "n2", "n1", "n0"]
    assert sorted(seen) == sorted(["n0", "n1", "n2", "n3", "n4", "customer/acme:billing", "style"])

    forgotten = await ada.ok("DELETE", "/api/v1/memories/style")
    assert forgotten["key"] == "style"
    missing = await ada.http.get("/api/v1/memories/style")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "tentacle.memory_not_found"
    assert "/api/v1/memories" in (await ada.http.get("/openapi.json")).json()["paths"]


async def test_memory_bad_input_and_other_orgs(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    eve = await platform.sign_up("eve")
    await ada.ok(
        "POST", "/api/v1/memories", 201, json={"key": "plan", "title": "Plan", "body": "secret"}
    )
    assert (await eve.ok("GET", "/api/v1/memories"))["memories"] == []
    assert (await eve.ok("GET", "/api/v1/memory-search", params={"text": "secret"}))["hits"] == []
    for method in ("GET", "DELETE"):
        answer = await eve.http.request(method, "/api/v1/memories/plan")
        assert answer.status_code == 404
        assert "secret" not in answer.text
    overwrite = await eve.http.post(
        "/api/v1/memories", json={"key": "plan", "title": "Mine", "body": "eve's"}
    )
    assert overwrite.status_code == 201  # a memory of eve's own organisation
    assert (await ada.ok("GET", "/api/v1/memories/plan"))["body"] == "secret"

    for body in (
        {"key": "bad key!", "title": "t", "body": "b"},
        {"key": "k", "title": "", "body": "b"},
        {"key": "k", "title": "t", "body": "b", "source": "system"},
        {"key": "k", "title": "t", "body": "x" * 9000},
    ):
        answer = await ada.http.post("/api/v1/memories", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "inbox.invalid_request"
    malformed = await ada.http.post(
        "/api/v1/memories", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.json()["error"]["code"] == "inbox.malformed_json"
    assert (await ada.http.get("/api/v1/memories", params={"limit": 0})).status_code == 422
    for cursor in ("garbage!", "WyJ4IiwgInkiXQ"):  # not base64 JSON; ["x", "y"]
        answer = await ada.http.get("/api/v1/memories", params={"cursor": cursor})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "inbox.invalid_cursor"
    assert (await ada.http.get("/api/v1/memories/k")).status_code == 404
    async with httpx.AsyncClient(base_url=platform.url, timeout=20) as anonymous:
        assert (await anonymous.get("/api/v1/memories")).status_code == 401
        assert (await anonymous.delete("/api/v1/memories/plan")).status_code == 401
    assert (await ada.ok("GET", "/api/v1/memories/plan"))["version"] == 1


async def test_an_invited_viewer_reads_the_workspace_but_cannot_change_it(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    bob = await platform.sign_up("bob")
    await ada.ok(
        "POST", "/api/v1/workspace/objects", 201, json={"type": "note", "data": {"text": "hi"}}
    )
    invitation = await ada.ok(
        "POST", "/api/v1/invitations", 201, json={"email": bob.email, "role": "viewer"}
    )
    assert invitation["org_id"] == ada.org_id
    mail = await platform.mailbox.wait_for(bob.email, "invitation")
    link = parse_qs(urlparse(str(mail.variables["accept_url"])).query)
    await bob.ok(
        "POST",
        "/api/v1/invitations/accept",
        json={
            "org_id": link["org_id"][0],
            "invitation_id": link["invitation_id"][0],
            "token": link["token"][0],
        },
    )
    members = await ada.ok("GET", "/api/v1/members")
    assert {(m["email"], m["role"]) for m in members["members"]} >= {(bob.email, "viewer")}

    signed = await bob.ok(
        "POST",
        "/api/v1/auth/login",
        json={"email": bob.email, "password": PASSWORD, "org_id": ada.org_id},
    )
    bob.http.headers["Authorization"] = f"Bearer {signed['tokens']['access_token']}"
    assert len((await bob.ok("GET", "/api/v1/workspace/objects"))["objects"]) == 1
    for method, path, body in (
        ("POST", "/api/v1/workspace/objects", {"type": "note", "data": {}}),
        ("PUT", "/api/v1/workspace/types/note", {"json_schema": None}),
        ("POST", "/api/v1/memories", {"key": "k", "title": "t", "body": "b"}),
        ("POST", "/api/v1/invitations", {"email": "x@example.com", "role": "viewer"}),
    ):
        answer = await bob.http.request(method, path, json=body)
        assert answer.status_code == 403, f"{path}: {answer.text}"
    assert len((await ada.ok("GET", "/api/v1/workspace/objects"))["objects"]) == 1

    bad = await ada.http.post("/api/v1/invitations", json={"email": "nope", "role": "viewer"})
    assert bad.status_code == 422
    twice = await ada.http.post("/api/v1/invitations", json={"email": bob.email, "role": "viewer"})
    assert twice.status_code == 409
