"""The HTTP API end to end: accounts through inkpass, tasks through tentacle, one error format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.inbox.conftest import PASSWORD, Platform, noop_plan


async def test_openapi_health_and_ready(platform: Platform) -> None:
    http = platform.client()
    spec = (await http.get("/openapi.json")).json()
    for path in ("/api/v1/tasks", "/api/v1/conversations", "/api/v1/stream", "/api/v1/auth/login"):
        assert path in spec["paths"], path
    assert (await http.get("/health")).json() == {"status": "alive"}
    ready = await http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["service"] == "inbox"


async def test_sign_up_login_refresh_logout(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    me = await ada.ok("GET", "/api/v1/me")
    assert me["email"] == ada.email
    assert me["org_id"] == ada.org_id

    refreshed = await ada.ok(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": ada.tokens["refresh_token"]}
    )
    assert refreshed["access_token"] != ada.access

    wrong = await platform.client().post(
        "/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD + "x"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "inkpass.invalid_credentials"

    await ada.ok("POST", "/api/v1/auth/logout")
    # The revoked session's token is refused at once (the inbox follows revocations).
    deadline_ok = False
    for _ in range(100):
        answer = await ada.http.get("/api/v1/conversations")
        if answer.status_code == 401:
            assert answer.json()["error"]["code"] == "inkpass.token_revoked"
            deadline_ok = True
            break
        await platform_sleep()
    assert deadline_ok


async def platform_sleep() -> None:
    await asyncio.sleep(0.05)


async def test_tasks_create_list_get_pause_resume_cancel_retry(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    task = await ada.create_task("count", plan=noop_plan("a", "b"))
    detail = await ada.wait_task(task["task_id"], lambda d: d["task"]["status"] == "completed")
    assert [s["step_id"] for s in detail["steps"]] == ["a", "b"]
    assert detail["plan"]["document"]["steps"][0]["id"] == "a"
    assert detail["steps"][1]["output"] is not None

    # The same request id is the same task.
    again = await ada.create_task("count", plan=noop_plan("a", "b"), request_id="req-1")
    same = await ada.create_task("count", plan=noop_plan("a", "b"), request_id="req-1")
    assert again["task_id"] == same["task_id"]

    held = await ada.create_task("hold", plan=noop_plan("a", "b", checkpoint_on="b"))
    await ada.wait_task(held["task_id"], lambda d: d["task"]["status"] == "checkpoint")
    paused = await ada.ok("POST", f"/api/v1/tasks/{held['task_id']}/pause", json={"reason": "x"})
    assert paused["status"] == "paused"
    resumed = await ada.ok("POST", f"/api/v1/tasks/{held['task_id']}/resume")
    assert resumed["status"] != "paused"
    refused = await ada.http.post(f"/api/v1/tasks/{held['task_id']}/resume")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "tentacle.invalid_transition"
    cancelled = await ada.ok("POST", f"/api/v1/tasks/{held['task_id']}/cancel")
    assert cancelled["status"] == "cancelled"
    retry_refused = await ada.http.post(f"/api/v1/tasks/{held['task_id']}/retry")
    assert retry_refused.status_code == 409

    listed = await ada.ok("GET", "/api/v1/tasks", params={"limit": 2})
    assert len(listed["tasks"]) == 2
    assert listed["next_cursor"]
    page = {"limit": 2, "cursor": listed["next_cursor"]}
    rest = await ada.ok("GET", "/api/v1/tasks", params=page)
    seen = {t["task_id"] for t in listed["tasks"]} | {t["task_id"] for t in rest["tasks"]}
    assert {task["task_id"], again["task_id"], held["task_id"]} <= seen


async def test_checkpoint_answered_over_http(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    task = await ada.create_task("approve me", plan=noop_plan("a", "b", checkpoint_on="b"))
    detail = await ada.wait_task(task["task_id"], lambda d: d["task"]["status"] == "checkpoint")
    [checkpoint] = detail["checkpoints"]
    path = f"/api/v1/tasks/{task['task_id']}/checkpoints/{checkpoint['checkpoint_id']}"
    bad = await ada.http.post(path, json={"response": {"type": "approval", "approved": False}})
    assert bad.status_code == 422  # a rejection needs feedback
    assert bad.json()["error"]["code"] == "inbox.invalid_request"
    answered = await ada.ok("POST", path, json={"response": {"type": "approval", "approved": True}})
    assert answered["status"] == "approved"
    await ada.wait_task(task["task_id"], lambda d: d["task"]["status"] == "completed")
    twice = await ada.http.post(path, json={"response": {"type": "approval", "approved": True}})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "tentacle.checkpoint_not_pending"


async def test_api_keys_authenticate_and_are_authorised(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    created = await ada.ok(
        "POST",
        "/api/v1/api-keys",
        201,
        json={"name": "ci", "scopes": ["tentacle.task.create", "tentacle.task.read"]},
    )
    secret = created["secret"]
    assert secret.startswith("fxk_")
    keyed = platform.client(headers={"X-API-Key": secret})
    task = await keyed.post("/api/v1/tasks", json={"goal": "by key", "plan": noop_plan("a")})
    assert task.status_code == 201, task.text
    got = await keyed.get(f"/api/v1/tasks/{task.json()['task_id']}")
    assert got.status_code == 200
    assert got.json()["task"]["created_by"] == {"kind": "api_key", "id": created["key"]["key_id"]}
    # Out of the key's scopes: refused by inkpass's decision, through the inbox.
    listing = await keyed.get("/api/v1/conversations")
    assert listing.status_code == 403
    assert listing.json()["error"]["code"] == "inbox.forbidden"
    # A key cannot manage keys.
    assert (await keyed.get("/api/v1/api-keys")).status_code == 403
    bearer = platform.client(headers={"Authorization": f"Bearer {secret}"})
    assert (await bearer.get(f"/api/v1/tasks/{task.json()['task_id']}")).status_code == 200

    keys = await ada.ok("GET", "/api/v1/api-keys")
    assert [k["key_id"] for k in keys["keys"]] == [created["key"]["key_id"]]
    await ada.ok("DELETE", f"/api/v1/api-keys/{created['key']['key_id']}")
    for _ in range(100):
        answer = await keyed.get(f"/api/v1/tasks/{task.json()['task_id']}")
        if answer.status_code == 401:
            assert answer.json()["error"]["code"] == "inkpass.api_key_invalid"
            break
        await platform_sleep()
    else:
        raise AssertionError("a revoked key still works")


async def test_two_factor_sign_in(platform: Platform) -> None:
    import pyotp

    ada = await platform.sign_up("ada")
    enrolment = await ada.ok("POST", "/api/v1/auth/2fa/enroll")
    totp = pyotp.TOTP(enrolment["secret"])
    codes = await ada.ok("POST", "/api/v1/auth/2fa/confirm", json={"code": totp.now()})
    assert len(codes["codes"]) >= 5
    http = platform.client()
    first = (
        await http.post("/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD})
    ).json()
    assert first["status"] == "mfa_required"
    assert first["tokens"] is None
    done = await http.post(
        "/api/v1/auth/mfa",
        json={"mfa_token": first["mfa_token"], "backup_code": codes["codes"][0]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "authenticated"


async def test_invitation_accepted_through_the_inbox(platform: Platform) -> None:
    from urllib.parse import parse_qs, urlparse

    owner = await platform.sign_up("owner")
    guest = await platform.sign_up("guest")
    # Inviting is inkpass's own API (no inbox route yet); ask it over the bus as the owner.
    from pydantic import SecretStr

    from contracts.inkpass.models import InviteMemberV1
    from contracts.inkpass.subjects import INVITE_MEMBER
    from contracts.inkpass.types import Role

    await platform.bus.request(
        INVITE_MEMBER,
        InviteMemberV1(access_token=SecretStr(owner.access), email=guest.email, role=Role.VIEWER),
    )
    mail = await platform.mailbox.wait_for(guest.email, "invitation")
    url = urlparse(str(mail.variables["accept_url"]))
    assert url.path == "/invitations/accept"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    joined = await guest.ok("POST", "/api/v1/invitations/accept", json=query)
    assert joined["org_id"] == owner.org_id
    again = await guest.http.post("/api/v1/invitations/accept", json=query)
    assert again.status_code in (404, 409, 422)
    assert again.json()["error"]["code"].startswith("inkpass.")


async def test_unauthenticated_and_malformed(platform: Platform) -> None:
    http = platform.client()
    for method, path in (
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks"),
        ("GET", "/api/v1/conversations"),
        ("GET", "/api/v1/stream"),
        ("GET", "/api/v1/me"),
    ):
        answer = await http.request(method, path)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["code"] == "inbox.unauthenticated"
    garbage = await http.get("/api/v1/tasks", headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401
    assert garbage.json()["error"]["code"] == "inkpass.token_invalid"
    basic = await http.get("/api/v1/tasks", headers={"Authorization": "Basic abc"})
    assert basic.json()["error"]["code"] == "inbox.unauthenticated"

    ada = await platform.sign_up("ada")
    malformed = await ada.http.post(
        "/api/v1/tasks", content=b'{"goal": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "inbox.malformed_json"
    unknown = await ada.http.post("/api/v1/tasks", json={"goal": "x", "evil": True})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "inbox.invalid_request"
    bad_id = await ada.http.get("/api/v1/tasks/a.b*c")
    assert bad_id.status_code in (404, 422)
    assert "error" in bad_id.json()
    nowhere = await ada.http.get("/api/v1/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["error"]["code"] == "inbox.not_found"
    listing = await ada.ok("GET", "/api/v1/tasks")
    assert listing["tasks"] == []  # nothing was created by any of the above


async def test_oversized_bodies_are_refused(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    big = b'{"goal": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    declared = await ada.http.post(
        "/api/v1/tasks", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "inbox.body_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = await ada.http.post(
        "/api/v1/tasks", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (await ada.ok("GET", "/api/v1/tasks"))["tasks"] == []


async def test_another_orgs_ids_are_not_found(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    eve = await platform.sign_up("eve")
    task = await ada.create_task("secret", plan=noop_plan("a"))
    await ada.wait_task(task["task_id"], lambda d: d["task"]["status"] == "completed")
    messages = await ada.wait_messages(task["task_id"], lambda m: len(m) >= 2)
    assert messages
    stolen = await eve.http.get(f"/api/v1/tasks/{task['task_id']}")
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "tentacle.task_not_found"
    for method, path, body in (
        ("POST", f"/api/v1/tasks/{task['task_id']}/cancel", None),
        ("GET", f"/api/v1/conversations/{task['task_id']}", None),
        ("GET", f"/api/v1/conversations/{task['task_id']}/messages", None),
        ("PATCH", f"/api/v1/conversations/{task['task_id']}", {"read_status": "archived"}),
        ("POST", f"/api/v1/conversations/{task['task_id']}/messages", {"text": "hi"}),
    ):
        answer = await eve.http.request(method, path, json=body)
        assert answer.status_code == 404, (path, answer.text)
    assert (await eve.ok("GET", "/api/v1/conversations"))["conversations"] == []
    mine = await ada.ok("GET", f"/api/v1/conversations/{task['task_id']}")
    assert mine["read_status"] == "unread"


async def test_rate_limits(platform: Platform) -> None:
    inbox = await platform.start_inbox(rate_limit_per_minute=60, rate_limit_burst=5)
    http = platform.client(inbox)
    codes = [(await http.get("/api/v1/tasks")).status_code for _ in range(8)]
    assert codes[:5] == [401] * 5
    assert 429 in codes[5:]
    limited = await http.get("/api/v1/tasks")
    assert limited.json()["error"]["code"] == "inbox.rate_limited"
    assert limited.headers["retry-after"] == "1"
    assert (await http.get("/health")).status_code == 200


async def test_replicas_share_each_callers_allowance(platform: Platform) -> None:
    """Behind a load balancer, a caller gets the allowance once, not once per replica."""
    limits = {"rate_limit_per_minute": 60, "rate_limit_burst": 6}
    one = platform.client(await platform.start_inbox(**limits))
    two = platform.client(await platform.start_inbox(**limits))
    headers = {"Authorization": "Bearer shared-caller-" + "x" * 20}
    codes = []
    for i in range(12):
        replica = one if i % 2 == 0 else two
        codes.append((await replica.get("/api/v1/tasks", headers=headers)).status_code)
    assert codes[:6] == [401] * 6  # refused as unauthenticated, but counted
    assert codes[6:].count(429) >= 5  # one more may trickle in as the allowance refills


async def test_cookie_sessions_refuse_other_sites(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    browser = platform.client(cookies={"fluxos_access": ada.access})
    assert (await browser.get("/api/v1/conversations")).status_code == 200
    forged = await browser.post(
        "/api/v1/conversations", json={"text": "hi"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "inbox.forbidden"
    page = await browser.post(
        "/c", data={"text": "hi"}, headers={"Origin": "https://evil.example", "Accept": "text/html"}
    )
    assert page.status_code == 403
    assert (await ada.ok("GET", "/api/v1/conversations"))["conversations"] == []
    same_site = await browser.post(
        "/api/v1/conversations", json={"text": "hi"}, headers={"Origin": platform.url}
    )
    assert same_site.status_code == 201
