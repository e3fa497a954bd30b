"""Server-rendered pages: each one reads through the same use cases as the API."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr, ValidationError

from contracts.ids import is_token
from contracts.inkpass import subjects as ip
from contracts.inkpass.models import (
    AcceptInvitationV1,
    CompleteMfaV1,
    ConfirmTotpV1,
    CreateApiKeyV1,
    DisableTotpV1,
    EnrollTotpV1,
    GetOrgSettingsV1,
    GetProfileV1,
    ListApiKeysV1,
    LoginStatus,
    LoginV1,
    LogoutV1,
    RegisterUserV1,
    RevokeApiKeyV1,
    VerifyEmailV1,
)
from contracts.mimic.models import ListIntegrationsV1
from contracts.mimic.subjects import INTEGRATION_LIST
from contracts.model import ContractModel
from contracts.subject import Subject
from contracts.tentacle import subjects as ts
from contracts.tentacle.chat import MAX_MESSAGE_CHARS
from contracts.tentacle.checkpoints import ApprovalResponseV1, RespondCheckpointV1
from contracts.tentacle.models import (
    CancelTaskV1,
    GetTaskV1,
    ListTasksV1,
    PauseTaskV1,
    ResumeTaskV1,
    RetryTaskV1,
)
from inbox.domain.errors import InboxError, InvalidRequest, NotFound
from inbox.entrypoints.http.auth_routes import ask
from inbox.entrypoints.http.deps import client_ip, get_inbox, user_agent
from inbox.entrypoints.http.task_routes import as_caller
from inbox.entrypoints.web.provider_forms import PROVIDER_FORMS
from inbox.entrypoints.web.refusals import refusal
from inbox.entrypoints.web.session import (
    carry_session,
    check_origin,
    clear_session,
    set_session,
    web_principal,
)
from inbox.service import chat
from inbox.service import conversations as conv
from inbox.service.auth import Principal, authorize
from inbox.service.live import Hub
from shared.errors import FluxosError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

TIME_ZONES: Final = tuple(sorted(available_timezones()))
"""Offered as suggestions for the organisation's time zone (inkpass checks the value)."""

router = APIRouter(include_in_schema=False)

TASK_VERBS: dict[str, tuple[Subject[Any, Any], Callable[[str], ContractModel]]] = {
    "pause": (ts.TASK_PAUSE, lambda t: PauseTaskV1(task_id=t)),
    "resume": (ts.TASK_RESUME, lambda t: ResumeTaskV1(task_id=t)),
    "cancel": (ts.TASK_CANCEL, lambda t: CancelTaskV1(task_id=t)),
    "retry": (ts.TASK_RETRY, lambda t: RetryTaskV1(task_id=t)),
}


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    inbox = get_inbox(request)
    context.setdefault("signed_in", False)
    context.setdefault("google_login", inbox.settings.google_login)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    carry_session(request, response, secure=inbox.settings.secure_cookies)
    return response


def redirect(request: Request, to: str) -> Response:
    response = RedirectResponse(to, status_code=303)
    return carry_session(request, response, secure=get_inbox(request).settings.secure_cookies)


def login_redirect(request: Request) -> Response:
    return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)


def safe_next(value: Any) -> str:
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else "/inbox"


async def signed_in(request: Request) -> Principal | None:
    check_origin(request)
    return await web_principal(request, get_inbox(request))


async def form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {k: v for k, v in data.items() if isinstance(v, str)}


async def feed_position(request: Request, principal: Principal) -> str:
    """Where the page's live stream starts: the feed's head read before the page's own reads,
    so whatever changes while the page renders arrives over the stream (the script drops what
    the page already shows)."""
    hub: Hub = request.app.state.hub
    head = await hub.head(principal.org_id, fresh=True)
    return get_inbox(request).event_ids.make(principal.org_id, principal.user_id, head)


# ---------------------------------------------------------------------- signing in
@router.get("/")
async def root(request: Request) -> Response:
    return redirect(request, "/inbox" if await signed_in(request) else "/login")


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    notice = "Your address is confirmed. Sign in." if request.query_params.get("verified") else None
    return page(request, "login.html", next=safe_next(next), notice=notice)


@router.post("/login")
async def login(request: Request) -> Response:
    check_origin(request)
    inbox = get_inbox(request)
    data = await form(request)
    target = safe_next(data.get("next"))
    try:
        payload = LoginV1(
            email=data.get("email", ""),
            password=SecretStr(data.get("password", "")),
            source_ip=client_ip(request),
            user_agent=user_agent(request),
        )
        result = await ask(inbox, ip.LOGIN, payload)
    except (ValidationError, InboxError) as exc:
        refused = refusal(exc, "Enter an email and password.")
        return page(request, "login.html", next=target, **refused)
    if result.status is LoginStatus.MFA_REQUIRED:
        assert result.mfa_token is not None
        return page(request, "mfa.html", mfa_token=result.mfa_token.get_secret_value(), next=target)
    response = RedirectResponse(target, status_code=303)
    set_session(response, result.tokens, secure=inbox.settings.secure_cookies)
    return response


@router.post("/login/mfa")
async def login_mfa(request: Request) -> Response:
    check_origin(request)
    inbox = get_inbox(request)
    data = await form(request)
    code = data.get("code", "").strip()
    target = safe_next(data.get("next"))
    factor = {"totp_code": SecretStr(code)} if code.isdigit() else {"backup_code": SecretStr(code)}
    try:
        payload = CompleteMfaV1(
            mfa_token=SecretStr(data.get("mfa_token", "")), source_ip=client_ip(request), **factor
        )
        result = await ask(inbox, ip.COMPLETE_MFA, payload)
    except (ValidationError, InboxError) as exc:
        error = refusal(exc, "That code is not valid.")["error"]
        return page(
            request, "mfa.html", 401, mfa_token=data.get("mfa_token", ""), next=target, error=error
        )
    response = RedirectResponse(target, status_code=303)
    set_session(response, result.tokens, secure=inbox.settings.secure_cookies)
    return response


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    return page(request, "signup.html")


@router.post("/signup")
async def signup(request: Request) -> Response:
    check_origin(request)
    data = await form(request)
    try:
        payload = RegisterUserV1(
            email=data.get("email", ""), password=SecretStr(data.get("password", ""))
        )
        reply = await ask(get_inbox(request), ip.REGISTER, payload)
    except (ValidationError, InboxError) as exc:
        refused = refusal(exc, "Enter a valid email and a password of 10 characters or more.")
        return page(request, "signup.html", **refused)
    return RedirectResponse("/verify?" + urlencode({"email": reply.email}), status_code=303)


@router.get("/verify")
async def verify_page(request: Request, email: str = "") -> Response:
    return page(request, "verify.html", email=email[:254])


@router.post("/verify")
async def verify(request: Request) -> Response:
    check_origin(request)
    data = await form(request)
    email = data.get("email", "")[:254]
    try:
        payload = VerifyEmailV1(email=email, code=SecretStr(data.get("code", "")))
        await ask(get_inbox(request), ip.VERIFY_EMAIL, payload)
    except (ValidationError, InboxError) as exc:
        return page(request, "verify.html", email=email, **refusal(exc, "Enter the six digits."))
    return RedirectResponse("/login?verified=1", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    inbox = get_inbox(request)
    principal = await signed_in(request)
    if principal is not None and principal.access_token is not None:
        with contextlib.suppress(InboxError):  # the cookies go anyway
            await ask(inbox, ip.LOGOUT, LogoutV1(token=SecretStr(principal.access_token)))
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


# ---------------------------------------------------------------------- inbox and threads
@router.get("/inbox")
async def inbox_page(
    request: Request,
    read_status: conv.ReadStatus | None = None,
    priority: conv.Priority | None = None,
    cursor: str | None = None,
) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    await authorize(inbox, principal, "inbox.conversation.list", "conversation")
    feed_after = await feed_position(request, principal)
    items, next_cursor = await conv.list_conversations(
        inbox,
        principal.org_id,
        limit=50,
        cursor=cursor,
        read_status=read_status,
        priority=priority,
    )
    chosen = read_status.value if read_status else (priority.value if priority else None)
    query = urlencode(
        {k: v.value for k, v in (("read_status", read_status), ("priority", priority)) if v}
    )
    return page(
        request,
        "inbox.html",
        signed_in=True,
        nav="inbox",
        feed_after=feed_after,
        conversations=items,
        next_cursor=next_cursor,
        filter=chosen,
        filter_query=query,
    )


@router.post("/c")
async def new_conversation(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    text = (await form(request)).get("text", "").strip()
    conversation_id = await _compose(request, principal, None, text)
    return redirect(request, f"/c/{conversation_id}")


async def _compose(
    request: Request, principal: Principal, conversation_id: str | None, text: str
) -> str:
    """The composer talks to Flux, which answers in the thread (and starts tasks as needed)."""
    inbox = get_inbox(request)
    if not text or len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
    await authorize(inbox, principal, "inbox.message.create", "conversation", conversation_id)
    await authorize(inbox, principal, "tentacle.chat.create", "conversation", conversation_id)
    sent = await chat.send(inbox, principal, conversation_id, text)
    return str(sent["conversation_id"])


@router.get("/c/{conversation_id}")
async def thread_page(request: Request, conversation_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(conversation_id):
        raise NotFound("no such conversation")
    inbox = get_inbox(request)
    await authorize(inbox, principal, "inbox.conversation.read", "conversation", conversation_id)
    feed_after = await feed_position(request, principal)
    conversation = await conv.get_conversation(inbox, principal.org_id, conversation_id)
    messages, _ = await conv.list_messages(
        inbox, principal.org_id, conversation_id, limit=500, cursor=None
    )
    if conversation["read_status"] == "unread":
        conversation = await conv.set_read_status(
            inbox, principal.org_id, conversation_id, conv.ReadStatus.READ
        )
    tasks: list[Any] = []
    try:
        listed = await as_caller(
            inbox, principal, ts.TASK_LIST, ListTasksV1(conversation_id=conversation_id, limit=20)
        )
        tasks = [t.model_dump(mode="json") for t in listed.tasks]
        if not tasks:
            detail = await as_caller(
                inbox,
                principal,
                ts.TASK_GET,
                GetTaskV1(task_id=conversation_id, include_outputs=False),
            )
            tasks = [detail.task.model_dump(mode="json")]
    except InboxError:
        pass  # a conversation without tasks, or tentacle busy: the thread still shows
    return page(
        request,
        "thread.html",
        signed_in=True,
        nav="inbox",
        feed_after=feed_after,
        conversation=conversation,
        messages=messages,
        tasks=tasks,
        streaming=await chat.streaming_reply(inbox, principal, conversation_id),
    )


@router.post("/c/{conversation_id}/messages")
async def thread_message(request: Request, conversation_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(conversation_id):
        raise NotFound("no such conversation")
    await conv.get_conversation(get_inbox(request), principal.org_id, conversation_id)
    text = (await form(request)).get("text", "").strip()
    await _compose(request, principal, conversation_id, text)
    return redirect(request, f"/c/{conversation_id}")


@router.post("/c/{conversation_id}/status")
async def thread_status(request: Request, conversation_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    if not is_token(conversation_id):
        raise NotFound("no such conversation")
    try:
        status = conv.ReadStatus((await form(request)).get("read_status", ""))
    except ValueError:
        raise InvalidRequest("unknown read status") from None
    await authorize(inbox, principal, "inbox.conversation.update", "conversation", conversation_id)
    await conv.set_read_status(inbox, principal.org_id, conversation_id, status)
    return redirect(
        request, "/inbox" if status is not conv.ReadStatus.READ else f"/c/{conversation_id}"
    )


# ---------------------------------------------------------------------- tasks
@router.get("/tasks/{task_id}")
async def task_page(request: Request, task_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(task_id):
        raise NotFound("no such task")
    inbox = get_inbox(request)
    await authorize(inbox, principal, "tentacle.task.read", "task", task_id)
    detail = await as_caller(inbox, principal, ts.TASK_GET, GetTaskV1(task_id=task_id))
    data = detail.model_dump(mode="json")
    return page(
        request,
        "task.html",
        signed_in=True,
        nav="inbox",
        task=data["task"],
        plan=data["plan"],
        steps=data["steps"],
    )


@router.post("/tasks/{task_id}/checkpoints/{checkpoint_id}")
async def answer_checkpoint(request: Request, task_id: str, checkpoint_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    data = await form(request)
    feedback = data.get("feedback", "").strip() or None
    try:
        response = ApprovalResponseV1(approved=data.get("decision") != "reject", feedback=feedback)
        payload = RespondCheckpointV1(
            task_id=task_id, checkpoint_id=checkpoint_id, response=response
        )
    except ValidationError:
        raise InvalidRequest("a rejection needs feedback saying why") from None
    await authorize(inbox, principal, "tentacle.task.update", "task", task_id)
    await as_caller(inbox, principal, ts.TASK_RESPOND_CHECKPOINT, payload)
    return redirect(
        request,
        request.headers.get("referer", f"/tasks/{task_id}").split("#")[0]
        if (request.headers.get("referer") or "").startswith(str(request.base_url))
        else f"/tasks/{task_id}",
    )


@router.post("/tasks/{task_id}/{verb}")
async def task_command(request: Request, task_id: str, verb: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if verb not in TASK_VERBS or not is_token(task_id):
        raise NotFound("no such command")
    inbox = get_inbox(request)
    await authorize(inbox, principal, "tentacle.task.update", "task", task_id)
    subject, build = TASK_VERBS[verb]
    await as_caller(inbox, principal, subject, build(task_id))
    return redirect(request, f"/tasks/{task_id}")


# ---------------------------------------------------------------------- settings
async def settings_page(
    request: Request, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    inbox = get_inbox(request)
    token = SecretStr(principal.access_token or "")
    profile = await ask(inbox, ip.GET_PROFILE, GetProfileV1(access_token=token))
    keys = await ask(inbox, ip.LIST_API_KEYS, ListApiKeysV1(access_token=token))
    org = await ask(inbox, ip.GET_ORG_SETTINGS, GetOrgSettingsV1(access_token=token))
    integrations: list[Any] | None
    try:
        await authorize(inbox, principal, "mimic.integration.list", "integration")
        listed = await inbox.bus.request(
            INTEGRATION_LIST,
            ListIntegrationsV1(),
            org_id=principal.org_id,
            actor=principal.actor,
            timeout=2.0,
        )
        integrations = [i.model_dump(mode="json") for i in listed.integrations]
    except (InboxError, FluxosError):
        integrations = None
    return page(
        request,
        "settings.html",
        status,
        signed_in=True,
        nav="settings",
        profile=profile.model_dump(mode="json"),
        keys=[k.model_dump(mode="json") for k in keys.keys],
        org=org.model_dump(mode="json"),
        zones=TIME_ZONES,
        integrations=integrations,
        provider_forms=PROVIDER_FORMS,
        **extra,
    )


async def person(request: Request) -> Principal | None:
    principal = await signed_in(request)
    if principal is not None and principal.access_token is None:
        return None
    return principal


@router.get("/settings")
async def settings(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    return await settings_page(request, principal)


@router.post("/settings/keys")
async def create_key(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    scopes = [s.strip() for s in data.get("scopes", "").split(",") if s.strip()]
    try:
        payload = CreateApiKeyV1(
            access_token=SecretStr(principal.access_token or ""),
            name=data.get("name", ""),
            scopes=scopes,
        )
    except ValidationError as exc:
        refused = refusal(exc, "Give the key a name and valid scopes.")
        return await settings_page(request, principal, **refused)
    try:
        created = await ask(get_inbox(request), ip.CREATE_API_KEY, payload)
    except InboxError as exc:
        return await settings_page(request, principal, **refusal(exc))
    return await settings_page(request, principal, new_key=created.secret.get_secret_value())


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(key_id):
        raise NotFound("no such key")
    await ask(
        get_inbox(request),
        ip.REVOKE_API_KEY,
        RevokeApiKeyV1(access_token=SecretStr(principal.access_token or ""), key_id=key_id),
    )
    return redirect(request, "/settings")


@router.post("/settings/2fa/enroll")
async def enroll(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    enrolment = await ask(
        get_inbox(request),
        ip.ENROLL_TOTP,
        EnrollTotpV1(access_token=SecretStr(principal.access_token or "")),
    )
    return await settings_page(
        request,
        principal,
        enrolment={
            "secret": enrolment.secret.get_secret_value(),
            "qr_svg": enrolment.qr_svg.get_secret_value(),
        },
    )


@router.post("/settings/2fa/confirm")
async def confirm(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    code = (await form(request)).get("code", "")
    try:
        payload = ConfirmTotpV1(
            access_token=SecretStr(principal.access_token or ""), code=SecretStr(code)
        )
        codes = await ask(get_inbox(request), ip.CONFIRM_TOTP, payload)
    except (ValidationError, InboxError) as exc:
        refused = refusal(exc, "Enter the six digits from the app.")
        return await settings_page(request, principal, **refused)
    return await settings_page(
        request, principal, backup_codes=[c.get_secret_value() for c in codes.codes]
    )


@router.post("/settings/2fa/disable")
async def disable(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    try:
        payload = DisableTotpV1(
            access_token=SecretStr(principal.access_token or ""),
            password=SecretStr(data.get("password", "")),
            totp_code=SecretStr(data.get("totp_code", "")),
        )
        await ask(get_inbox(request), ip.DISABLE_TOTP, payload)
    except (ValidationError, InboxError) as exc:
        refused = refusal(exc, "Enter your password and a code.")
        return await settings_page(request, principal, **refused)
    return redirect(request, "/settings")


# ---------------------------------------------------------------------- invitations
@router.get("/invitations/accept")
async def invitation_page(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        target = "/invitations/accept?" + str(request.query_params)
        return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
    q = request.query_params
    return page(
        request,
        "invitation.html",
        signed_in=True,
        org_id=q.get("org_id", ""),
        invitation_id=q.get("invitation_id", ""),
        token=q.get("token", ""),
    )


@router.post("/invitations/accept")
async def accept(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    inbox = get_inbox(request)
    try:
        payload = AcceptInvitationV1(
            access_token=SecretStr(principal.access_token or ""),
            org_id=data.get("org_id", ""),
            invitation_id=data.get("invitation_id", ""),
            token=SecretStr(data.get("token", "")),
        )
    except ValidationError:
        raise InvalidRequest("the invitation link is damaged") from None
    await ask(inbox, ip.ACCEPT_INVITATION, payload)
    return redirect(request, "/inbox")
