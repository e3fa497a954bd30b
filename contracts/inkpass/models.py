"""Message models of inkpass, one per request, reply and event, versioned in the class name.

Requests carry only what the caller may choose. Nothing privileged (a role at sign-up, a verified
flag, an org id on a profile, a user id on a key) can be sent where inkpass decides it: such
fields do not exist in the request models, so strict readers reject them and tolerant readers
drop them.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field, field_validator, model_validator

from contracts.ids import OrgId, SubjectToken
from contracts.inkpass.types import (
    Action,
    ActionGlob,
    ApiKeyId,
    AttributeKey,
    AttributeMap,
    AttributeValue,
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
    PolicyId,
    ResourceType,
    ResourceTypeGlob,
    Role,
    Secret,
    SecretDocument,
    SessionId,
    ShortText,
    SourceIp,
    TimeZone,
    TokenKind,
    TotpCode,
    UserAgent,
    UserId,
)
from contracts.model import ContractModel


class InkPassDoneV1(ContractModel):
    """The request was carried out; nothing more to say."""

    done: bool = True


# ====================================================================== sign-up and sign-in
class RegisterUserV1(ContractModel):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None
    org_name: OrgName | None = Field(
        default=None, description="Name of the organisation created with the account."
    )


class RegistrationAcceptedV1(ContractModel):
    """The same reply whether or not the address already had an account (no enumeration)."""

    email: Email
    verification_sent: bool = True


class RequestOtpV1(ContractModel):
    """Send a one-time password to the account's address (silently nothing if there is none)."""

    email: Email
    purpose: OtpPurpose


class VerifyEmailV1(ContractModel):
    email: Email
    code: OtpCode


class EmailVerifiedV1(ContractModel):
    user_id: UserId


class LoginV1(ContractModel):
    email: Email
    password: Password
    org_id: OrgId | None = Field(
        default=None, description="Organisation to sign in to; the last one used if omitted."
    )
    source_ip: SourceIp | None = None
    user_agent: UserAgent | None = None


class LoginWithOtpV1(ContractModel):
    """Passwordless sign-in with an emailed code of purpose `login`."""

    email: Email
    code: OtpCode
    org_id: OrgId | None = None
    source_ip: SourceIp | None = None
    user_agent: UserAgent | None = None


class CompleteMfaV1(ContractModel):
    """Second step of a sign-in: the challenge from the first step and one second factor."""

    mfa_token: BearerToken
    totp_code: TotpCode | None = None
    backup_code: BackupCode | None = None
    source_ip: SourceIp | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> Self:
        if (self.totp_code is None) == (self.backup_code is None):
            raise ValueError("give exactly one of totp_code and backup_code")
        return self


class TokenPairV1(ContractModel):
    access_token: Secret
    refresh_token: Secret
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_expires_in: int
    session_id: SessionId
    user_id: UserId
    org_id: OrgId
    roles: list[Role]


class LoginStatus(StrEnum):
    AUTHENTICATED = "authenticated"
    MFA_REQUIRED = "mfa_required"


class LoginResultV1(ContractModel):
    status: LoginStatus
    tokens: TokenPairV1 | None = None
    mfa_token: Secret | None = Field(
        default=None, description="Challenge to present with a second factor (5 minutes)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        authenticated = self.status is LoginStatus.AUTHENTICATED
        if authenticated != (self.tokens is not None) or authenticated == (
            self.mfa_token is not None
        ):
            raise ValueError("tokens when authenticated, an mfa_token when a factor is due")
        return self


# ====================================================================== sessions and tokens
class RefreshSessionV1(ContractModel):
    refresh_token: BearerToken


class LogoutV1(ContractModel):
    """End the session of this token (access or refresh)."""

    token: BearerToken


class RevokeAllSessionsV1(ContractModel):
    access_token: BearerToken


class SessionsEndedV1(ContractModel):
    sessions: int


class SwitchOrgV1(ContractModel):
    access_token: BearerToken
    org_id: OrgId


class VerifyTokenV1(ContractModel):
    token: BearerToken


class PrincipalV1(ContractModel):
    """Who an access token speaks for, as inkpass knows it now."""

    user_id: UserId
    org_id: OrgId
    session_id: SessionId
    roles: list[Role]
    mfa: bool
    token_type: TokenKind
    expires_at: datetime


# ====================================================================== account
class GetProfileV1(ContractModel):
    access_token: BearerToken


class UpdateProfileV1(ContractModel):
    """Only the display name is the user's to change here."""

    access_token: BearerToken
    display_name: DisplayName


class OrgMembershipV1(ContractModel):
    org_id: OrgId
    name: str
    role: Role


class ProfileV1(ContractModel):
    user_id: UserId
    email: Email
    email_verified: bool
    display_name: str | None
    totp_enabled: bool
    has_password: bool
    created_at: datetime
    orgs: list[OrgMembershipV1]


class ChangePasswordV1(ContractModel):
    access_token: BearerToken
    current_password: Password
    new_password: NewPassword


class ResetPasswordV1(ContractModel):
    email: Email
    code: OtpCode
    new_password: NewPassword


class DeleteAccountV1(ContractModel):
    """Re-authenticate with the password, or (for an account without one) an emailed code."""

    access_token: BearerToken
    password: Password | None = None
    code: OtpCode | None = None


class DisableUserV1(ContractModel):
    """Operator action (a system actor): the account can no longer sign in; sessions end."""

    user_id: UserId
    reason: ShortText = ""


class EnableUserV1(ContractModel):
    user_id: UserId


# ====================================================================== organisations
class CreateOrgV1(ContractModel):
    access_token: BearerToken
    name: OrgName


class ListOrgsV1(ContractModel):
    access_token: BearerToken


class OrgListV1(ContractModel):
    orgs: list[OrgMembershipV1]


class OrgSettingsV1(ContractModel):
    """An organisation's settings, as every member sees them."""

    org_id: OrgId
    name: str
    timezone: str = Field(
        description="IANA zone: what 'tomorrow' and 'at 9' mean for the org; its schedules run "
        "in it unless they name their own."
    )
    version: int = Field(ge=1, description="Grows with every change; the latest one wins.")


class GetOrgSettingsV1(ContractModel):
    access_token: BearerToken


class UpdateOrgSettingsV1(ContractModel):
    """Change the signed-in org's settings; fields left null keep their value."""

    access_token: BearerToken
    name: OrgName | None = None
    timezone: TimeZone | None = None


class InviteMemberV1(ContractModel):
    access_token: BearerToken
    email: Email
    role: Role


class InvitationV1(ContractModel):
    invitation_id: InvitationId
    org_id: OrgId
    email: Email
    role: Role
    expires_at: datetime


class AcceptInvitationV1(ContractModel):
    """Accepted by a signed-in user whose verified address is the one invited."""

    access_token: BearerToken
    org_id: OrgId
    invitation_id: InvitationId
    token: Secret


class MemberV1(ContractModel):
    user_id: UserId
    org_id: OrgId
    email: Email
    display_name: str | None
    role: Role
    attributes: dict[str, AttributeValue]


class ListMembersV1(ContractModel):
    access_token: BearerToken


class MemberListV1(ContractModel):
    members: list[MemberV1]


class SetMemberRoleV1(ContractModel):
    access_token: BearerToken
    user_id: UserId
    role: Role


class SetMemberAttributesV1(ContractModel):
    """Trusted attributes (department, clearance, ...) that policies may read as actor.*."""

    access_token: BearerToken
    user_id: UserId
    attributes: AttributeMap


class RemoveMemberV1(ContractModel):
    access_token: BearerToken
    user_id: UserId


# ====================================================================== API keys
class CreateApiKeyV1(ContractModel):
    access_token: BearerToken
    name: Label
    scopes: list[ActionGlob] = Field(min_length=1, max_length=50)
    expires_at: AwareDatetime | None = None


class ApiKeyV1(ContractModel):
    key_id: ApiKeyId
    org_id: OrgId
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it in a list.")
    scopes: list[str]
    created_by: UserId
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreatedV1(ContractModel):
    key: ApiKeyV1
    secret: Secret = Field(description="The whole key, shown this once; only its hash is kept.")


class RevokeApiKeyV1(ContractModel):
    access_token: BearerToken
    key_id: ApiKeyId


class ListApiKeysV1(ContractModel):
    access_token: BearerToken


class ApiKeyListV1(ContractModel):
    keys: list[ApiKeyV1]


class VerifyApiKeyV1(ContractModel):
    key: Annotated[Secret, Field(max_length=200)]


class ApiKeyPrincipalV1(ContractModel):
    key_id: ApiKeyId
    org_id: OrgId
    scopes: list[str]
    created_by: UserId
    expires_at: datetime | None


# ====================================================================== second factor
class EnrollTotpV1(ContractModel):
    access_token: BearerToken


class TotpEnrollmentV1(ContractModel):
    secret: Secret
    otpauth_uri: Secret
    qr_svg: SecretDocument = Field(description="The otpauth URI as an SVG QR code.")


class ConfirmTotpV1(ContractModel):
    access_token: BearerToken
    code: TotpCode


class BackupCodesV1(ContractModel):
    codes: list[Secret] = Field(description="Single-use codes, shown this once.")


class DisableTotpV1(ContractModel):
    """Needs re-authentication: the password (if the account has one) and one more proof."""

    access_token: BearerToken
    password: Password | None = None
    totp_code: TotpCode | None = None
    backup_code: BackupCode | None = None
    otp_code: OtpCode | None = Field(
        default=None, description="An emailed code of purpose disable_totp."
    )


class RegenerateBackupCodesV1(ContractModel):
    access_token: BearerToken
    totp_code: TotpCode


# ====================================================================== federated sign-in
class OAuthProvider(StrEnum):
    GOOGLE = "google"


class StartOAuthV1(ContractModel):
    provider: OAuthProvider
    redirect_uri: Annotated[str, Field(max_length=2000)]
    org_id: OrgId | None = None


class OAuthRedirectV1(ContractModel):
    authorization_url: str
    state: Secret
    expires_at: datetime


class FinishOAuthV1(ContractModel):
    provider: OAuthProvider
    state: Annotated[Secret, Field(max_length=200)]
    code: Annotated[Secret, Field(max_length=2000)]
    source_ip: SourceIp | None = None
    user_agent: UserAgent | None = None


# ====================================================================== authorization
class ActorType(StrEnum):
    USER = "user"
    API_KEY = "api_key"


class ActorRefV1(ContractModel):
    """Who acts. Only the reference: every attribute of the actor is inkpass's own record."""

    type: ActorType
    id: SubjectToken


class ResourceRefV1(ContractModel):
    """What is acted on, described by the service that owns it (trusted for its resources)."""

    type: ResourceType
    id: Annotated[str, Field(max_length=256)] | None = None
    attributes: AttributeMap = Field(default_factory=dict)


class AuthzContextV1(ContractModel):
    """Request context. The time is never the caller's: inkpass uses its own clock."""

    source_ip: SourceIp | None = None


class AuthzCheckV1(ContractModel):
    org_id: OrgId
    actor: ActorRefV1
    action: Action
    resource: ResourceRefV1
    context: AuthzContextV1 = Field(default_factory=AuthzContextV1)


class AuthzDecisionV1(ContractModel):
    allowed: bool
    reason: str = Field(description="role:<role>, scope, policy:<id>, or default_deny.")
    policy_id: PolicyId | None = None
    epoch: int = Field(description="The org's authorization epoch the decision was made at.")
    cache_ttl_s: int = Field(
        description="How long the decision may be cached (0: it depended on time or context)."
    )


class PolicyEffect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class ConditionOp(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    PREFIX = "prefix"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    EXISTS = "exists"
    IN_CIDR = "in_cidr"


ATTRIBUTE_PATH = r"^(actor|resource|context)\.[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?$"
AttributePath = Annotated[str, Field(pattern=ATTRIBUTE_PATH)]


class ConditionV1(ContractModel):
    """`attribute op value`, or `attribute op <another attribute>` with value_from."""

    attribute: AttributePath
    op: ConditionOp
    value: AttributeValue | None = None
    value_from: AttributePath | None = None

    @model_validator(mode="after")
    def _operand(self) -> Self:
        given = (self.value is not None) + (self.value_from is not None)
        if self.op is ConditionOp.EXISTS:
            if given:
                raise ValueError("exists takes no operand")
        elif given != 1:
            raise ValueError("give exactly one of value and value_from")
        return self


class TimeWindowV1(ContractModel):
    """Days and hours in a time zone; an end before the start spans midnight."""

    timezone: str = "UTC"
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=7
    )
    start: time = time(0, 0)
    end: time = time(23, 59, 59)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("unknown IANA time zone") from None
        return value


class PolicySpecV1(ContractModel):
    """Applies to matching actions on matching resource types when every condition holds and
    the time is inside one of the windows (no windows: any time)."""

    name: Label
    description: Annotated[str, Field(max_length=500)] = ""
    effect: PolicyEffect
    actions: list[ActionGlob] = Field(min_length=1, max_length=50)
    resource_types: list[ResourceTypeGlob] = Field(
        default_factory=lambda: ["*"], min_length=1, max_length=20
    )
    conditions: list[ConditionV1] = Field(default_factory=list, max_length=20)
    time_windows: list[TimeWindowV1] = Field(default_factory=list, max_length=10)


class PutPolicyV1(ContractModel):
    access_token: BearerToken
    policy_id: PolicyId | None = Field(default=None, description="Replace this policy.")
    spec: PolicySpecV1


class PolicyV1(ContractModel):
    policy_id: PolicyId
    org_id: OrgId
    version: int
    spec: PolicySpecV1
    updated_at: datetime


class DeletePolicyV1(ContractModel):
    access_token: BearerToken
    policy_id: PolicyId


class ListPoliciesV1(ContractModel):
    access_token: BearerToken


class PolicyListV1(ContractModel):
    policies: list[PolicyV1]


# ====================================================================== audit
class AuditKind(StrEnum):
    SIGNED_UP = "signed_up"
    EMAIL_VERIFIED = "email_verified"
    SIGN_IN_SUCCEEDED = "sign_in_succeeded"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    MFA_FAILED = "mfa_failed"
    SIGNED_OUT = "signed_out"
    SESSIONS_REVOKED = "sessions_revoked"
    REFRESH_REUSED = "refresh_reused"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    TOTP_ENABLED = "totp_enabled"
    TOTP_DISABLED = "totp_disabled"
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated"
    BACKUP_CODE_USED = "backup_code_used"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    ACCOUNT_DELETED = "account_deleted"
    OAUTH_LINKED = "oauth_linked"
    ORG_CREATED = "org_created"
    ORG_SETTINGS_CHANGED = "org_settings_changed"
    MEMBER_INVITED = "member_invited"
    MEMBER_JOINED = "member_joined"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_ATTRIBUTES_CHANGED = "member_attributes_changed"
    MEMBER_REMOVED = "member_removed"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    POLICY_CHANGED = "policy_changed"
    POLICY_DELETED = "policy_deleted"


class AuditEventV1(ContractModel):
    """A security event. Person-level events have no org; org events carry it."""

    event_id: SubjectToken
    kind: AuditKind
    org_id: OrgId | None = None
    user_id: UserId | None = None
    actor_id: SubjectToken | None = Field(default=None, description="Who did it, if not user_id.")
    source_ip: SourceIp | None = None
    details: dict[AttributeKey, ShortText] = Field(default_factory=dict)
    occurred_at: datetime


class ListAuditV1(ContractModel):
    access_token: BearerToken
    limit: int = Field(default=100, ge=1, le=500)


class AuditListV1(ContractModel):
    events: list[AuditEventV1]


# ====================================================================== events
class RevocationReason(StrEnum):
    LOGOUT = "logout"
    REVOKE_ALL = "revoke_all"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REFRESH_REUSED = "refresh_reused"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_DELETED = "account_deleted"
    MEMBER_REMOVED = "member_removed"
    ROLE_CHANGED = "role_changed"
    SECOND_FACTOR_CHANGED = "second_factor_changed"


class SessionsRevokedV1(ContractModel):
    """Every token of these sessions is dead; verifiers may forget this after tokens_expire_by."""

    org_id: OrgId
    user_id: UserId
    session_ids: list[SessionId] = Field(min_length=1, max_length=1000)
    reason: RevocationReason
    tokens_expire_by: datetime = Field(
        description="No access token of these sessions is valid after this time anyway."
    )


class ApiKeyRevokedV1(ContractModel):
    org_id: OrgId
    key_id: ApiKeyId


class AuthzChangedV1(ContractModel):
    """Decisions cached for this org (or only for this user in it) are stale."""

    org_id: OrgId
    epoch: int
    user_id: UserId | None = None
    reason: ShortText = ""


class OrgCreatedV1(ContractModel):
    org_id: OrgId
    name: str
    owner_id: UserId


class MemberChangedV1(ContractModel):
    org_id: OrgId
    user_id: UserId
    role: Role | None = Field(description="The role now held; None once removed.")
