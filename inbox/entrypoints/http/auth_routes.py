"""Sign-up, sign-in, sessions, second factor, API keys and invitations, fronting inkpass.

Each route turns the HTTP body into inkpass's request and inkpass's reply (or its coded error)
into the answer; the inbox keeps no credential of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.ids import OrgId
from contracts.inkpass import subjects as ip
from contracts.inkpass.models import (
    AcceptInvitationV1,
    CompleteMfaV1,
    ConfirmTotpV1,
    CreateApiKeyV1,
    DisableTotpV1,
    EnrollTotpV1,
    FinishOAuthV1,
    GetProfileV1,
    ListApiKeysV1,
    LoginResultV1,
    LoginV1,
    LoginWithOtpV1,
    LogoutV1,
    OAuthProvider,
    RefreshSessionV1,
    RegisterUserV1,
    RequestOtpV1,
    RevokeApiKeyV1,
    StartOAuthV1,
    VerifyEmailV1,
)
from contracts.inkpass.types import (
    ActionGlob,
    ApiKeyId,
    BackupCode,
    BearerToken,
    DisplayName,
    Email,
    InvitationId,
    Label,
    NewPassword,
    OrgName,
    OtpCode,
    OtpPurpose,
    Password,
    TotpCode,
)
from contracts.model import ContractModel
from contracts.subject import Subject
from inbox.domain.errors import Forbidden
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, client_ip, user_agent
from inbox.service.auth import Principal
from inbox.service.context import Inbox
from inbox.service.remote import as_http_error
from shared.errors import FluxosError

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUp(Body):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None
    org_name: OrgName | None = None


class VerifyEmail(Body):
    email: Email
    code: OtpCode


class OtpRequest(Body):
    email: Email
    purpose: OtpPurpose


class Login(Body):
    email: Email
    password: Password
    org_id: OrgId | None = None


class OtpLogin(Body):
    email: Email
    code: OtpCode
    org_id: OrgId | None = None


class Mfa(Body):
    mfa_token: BearerToken
    totp_code: TotpCode | None = None
    backup_code: BackupCode | None = None


class Refresh(Body):
    refresh_token: BearerToken


class TotpCodeBody(Body):
    code: TotpCode


class TotpDisable(Body):
    password: Password | None = None
    totp_code: TotpCode | None = None
    backup_code: BackupCode | None = None
    otp_code: OtpCode | None = None


class NewApiKey(Body):
    name: Label
    scopes: list[ActionGlob] = Field(min_length=1, max_length=50)
    expires_at: datetime | None = None


class AcceptInvitation(Body):
    org_id: OrgId
    invitation_id: InvitationId
    token: Annotated[SecretStr, Field(min_length=1, max_length=4096)]


async def ask(inbox: Inbox, subject: Subject[Any, Any], payload: ContractModel) -> Any:
    try:
        return await inbox.bus.request(subject, payload, timeout=inbox.timeout)
    except FluxosError as exc:
        raise as_http_error(exc) from None


def revealed(model: ContractModel) -> dict[str, Any]:
    """The reply as JSON with its secrets in the clear (they are the caller's own)."""
    out: dict[str, Any] = model.model_dump(mode="json")
    return out


def user_token(principal: Principal) -> SecretStr:
    if principal.access_token is None:
        raise Forbidden("an API key cannot manage accounts or keys; sign in as a person")
    return SecretStr(principal.access_token)


@router.post("/auth/signup", status_code=202)
async def sign_up(body: SignUp, inbox: InboxDep) -> dict[str, Any]:
    reply = await ask(inbox, ip.REGISTER, RegisterUserV1(**body.model_dump()))
    return revealed(reply)


@router.post("/auth/verify-email")
async def verify_email(body: VerifyEmail, inbox: InboxDep) -> dict[str, Any]:
    return revealed(await ask(inbox, ip.VERIFY_EMAIL, VerifyEmailV1(**body.model_dump())))


@router.post("/auth/otp", status_code=202)
async def request_otp(body: OtpRequest, inbox: InboxDep) -> dict[str, Any]:
    return revealed(await ask(inbox, ip.REQUEST_OTP, RequestOtpV1(**body.model_dump())))


@router.post("/auth/login")
async def login(body: Login, request: Request, inbox: InboxDep) -> dict[str, Any]:
    payload = LoginV1(
        **body.model_dump(), source_ip=client_ip(request), user_agent=user_agent(request)
    )
    result: LoginResultV1 = await ask(inbox, ip.LOGIN, payload)
    return revealed(result)


@router.post("/auth/login/otp")
async def login_with_otp(body: OtpLogin, request: Request, inbox: InboxDep) -> dict[str, Any]:
    payload = LoginWithOtpV1(
        **body.model_dump(), source_ip=client_ip(request), user_agent=user_agent(request)
    )
    return revealed(await ask(inbox, ip.LOGIN_WITH_OTP, payload))


@router.post("/auth/mfa")
async def complete_mfa(body: Mfa, request: Request, inbox: InboxDep) -> dict[str, Any]:
    payload = CompleteMfaV1(**body.model_dump(), source_ip=client_ip(request))
    return revealed(await ask(inbox, ip.COMPLETE_MFA, payload))


@router.post("/auth/refresh")
async def refresh(body: Refresh, inbox: InboxDep) -> dict[str, Any]:
    return revealed(await ask(inbox, ip.REFRESH, RefreshSessionV1(**body.model_dump())))


@router.post("/auth/logout")
async def logout(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    return revealed(await ask(inbox, ip.LOGOUT, LogoutV1(token=user_token(principal))))


@router.get("/me")
async def me(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    profile = await ask(inbox, ip.GET_PROFILE, GetProfileV1(access_token=user_token(principal)))
    out = revealed(profile)
    out["org_id"] = principal.org_id
    return out


@router.post("/auth/2fa/enroll")
async def enroll_totp(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    return revealed(
        await ask(inbox, ip.ENROLL_TOTP, EnrollTotpV1(access_token=user_token(principal)))
    )


@router.post("/auth/2fa/confirm")
async def confirm_totp(
    body: TotpCodeBody, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    payload = ConfirmTotpV1(access_token=user_token(principal), code=body.code)
    return revealed(await ask(inbox, ip.CONFIRM_TOTP, payload))


@router.post("/auth/2fa/disable")
async def disable_totp(
    body: TotpDisable, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    payload = DisableTotpV1(access_token=user_token(principal), **body.model_dump())
    return revealed(await ask(inbox, ip.DISABLE_TOTP, payload))


@router.get("/api-keys")
async def list_api_keys(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    return revealed(
        await ask(inbox, ip.LIST_API_KEYS, ListApiKeysV1(access_token=user_token(principal)))
    )


@router.post("/api-keys", status_code=201)
async def create_api_key(
    body: NewApiKey, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    payload = CreateApiKeyV1(access_token=user_token(principal), **body.model_dump())
    return revealed(await ask(inbox, ip.CREATE_API_KEY, payload))


@router.delete("/api-keys/{key_id}")
async def revoke_api_key(
    key_id: ApiKeyId, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    payload = RevokeApiKeyV1(access_token=user_token(principal), key_id=key_id)
    return revealed(await ask(inbox, ip.REVOKE_API_KEY, payload))


@router.post("/invitations/accept")
async def accept_invitation(
    body: AcceptInvitation, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    payload = AcceptInvitationV1(access_token=user_token(principal), **body.model_dump())
    return revealed(await ask(inbox, ip.ACCEPT_INVITATION, payload))


def oauth_redirect_uri(inbox: Inbox, request: Request) -> str:
    base = inbox.settings.public_url or str(request.base_url).rstrip("/")
    return f"{base.rstrip('/')}/api/v1/auth/oauth/google/callback"


@router.get("/auth/oauth/google/start")
async def google_start(request: Request, inbox: InboxDep) -> RedirectResponse:
    payload = StartOAuthV1(
        provider=OAuthProvider.GOOGLE, redirect_uri=oauth_redirect_uri(inbox, request)
    )
    reply = await ask(inbox, ip.START_OAUTH, payload)
    return RedirectResponse(reply.authorization_url, status_code=303)


@router.get("/auth/oauth/google/callback")
async def google_callback(
    request: Request,
    inbox: InboxDep,
    state: Annotated[str, Query(min_length=1, max_length=200)],
    code: Annotated[str, Query(min_length=1, max_length=2000)],
) -> dict[str, Any]:
    payload = FinishOAuthV1(
        provider=OAuthProvider.GOOGLE,
        state=SecretStr(state),
        code=SecretStr(code),
        source_ip=client_ip(request),
        user_agent=user_agent(request),
    )
    return revealed(await ask(inbox, ip.FINISH_OAUTH, payload))
