"""Subjects of inkpass.

Almost everything is request-reply: signing in, refreshing, verifying and authorizing are
synchronous questions. Facts other services react to are events on JetStream: session
revocations (which every local token verifier follows), API key revocations and authorization
changes (which invalidate caches), and audit records.
Emails are not inkpass's to send: it publishes mimic's `SEND` command (see `contracts.mimic`).
"""

from __future__ import annotations

from typing import Any

from contracts.inkpass import models as m
from contracts.subject import Subject, event, rpc

SERVICE = "inkpass"


def _rpc(noun: str, verb: str, payload: type[Any], reply: type[Any], summary: str) -> Any:
    return rpc(SERVICE, noun, verb, payload, reply, summary=summary, tenant=False)


# ---------------------------------------------------------------------------- sign-up, sign-in
REGISTER: Subject[m.RegisterUserV1, m.RegistrationAcceptedV1] = _rpc(
    "user",
    "register",
    m.RegisterUserV1,
    m.RegistrationAcceptedV1,
    "Create an account and its first organisation; a verification code is emailed.",
)
REQUEST_OTP: Subject[m.RequestOtpV1, m.InkPassDoneV1] = _rpc(
    "otp",
    "request",
    m.RequestOtpV1,
    m.InkPassDoneV1,
    "Email a one-time password for one purpose (always answers done: no enumeration).",
)
VERIFY_EMAIL: Subject[m.VerifyEmailV1, m.EmailVerifiedV1] = _rpc(
    "email",
    "verify",
    m.VerifyEmailV1,
    m.EmailVerifiedV1,
    "Confirm an address with its verify_email code.",
)
LOGIN: Subject[m.LoginV1, m.LoginResultV1] = _rpc(
    "session",
    "login",
    m.LoginV1,
    m.LoginResultV1,
    "Sign in with email and password; tokens, or a second-factor challenge.",
)
LOGIN_WITH_OTP: Subject[m.LoginWithOtpV1, m.LoginResultV1] = _rpc(
    "session",
    "login_otp",
    m.LoginWithOtpV1,
    m.LoginResultV1,
    "Sign in with an emailed code of purpose login.",
)
COMPLETE_MFA: Subject[m.CompleteMfaV1, m.LoginResultV1] = _rpc(
    "session",
    "complete_mfa",
    m.CompleteMfaV1,
    m.LoginResultV1,
    "Finish a sign-in with a TOTP or backup code.",
)

# ---------------------------------------------------------------------------- sessions, tokens
REFRESH: Subject[m.RefreshSessionV1, m.TokenPairV1] = _rpc(
    "session",
    "refresh",
    m.RefreshSessionV1,
    m.TokenPairV1,
    "Rotate a refresh token; reusing an old one revokes its whole session.",
)
LOGOUT: Subject[m.LogoutV1, m.InkPassDoneV1] = _rpc(
    "session", "logout", m.LogoutV1, m.InkPassDoneV1, "End the session of a token."
)
REVOKE_ALL: Subject[m.RevokeAllSessionsV1, m.SessionsEndedV1] = _rpc(
    "session",
    "revoke_all",
    m.RevokeAllSessionsV1,
    m.SessionsEndedV1,
    "End every session of the signed-in user, in every organisation.",
)
SWITCH_ORG: Subject[m.SwitchOrgV1, m.TokenPairV1] = _rpc(
    "session",
    "switch_org",
    m.SwitchOrgV1,
    m.TokenPairV1,
    "Open a session in another organisation the user belongs to.",
)
VERIFY_TOKEN: Subject[m.VerifyTokenV1, m.PrincipalV1] = _rpc(
    "token",
    "verify",
    m.VerifyTokenV1,
    m.PrincipalV1,
    "Authoritative check of an access token (signature, claims, session state).",
)

# ---------------------------------------------------------------------------- account
GET_PROFILE: Subject[m.GetProfileV1, m.ProfileV1] = _rpc(
    "profile", "get", m.GetProfileV1, m.ProfileV1, "The signed-in user's profile."
)
UPDATE_PROFILE: Subject[m.UpdateProfileV1, m.ProfileV1] = _rpc(
    "profile", "update", m.UpdateProfileV1, m.ProfileV1, "Change the display name."
)
CHANGE_PASSWORD: Subject[m.ChangePasswordV1, m.TokenPairV1] = _rpc(
    "password",
    "change",
    m.ChangePasswordV1,
    m.TokenPairV1,
    "Change the password; every session ends and a fresh one is returned.",
)
RESET_PASSWORD: Subject[m.ResetPasswordV1, m.InkPassDoneV1] = _rpc(
    "password",
    "reset",
    m.ResetPasswordV1,
    m.InkPassDoneV1,
    "Set a new password with a reset_password code; every session ends.",
)
DELETE_ACCOUNT: Subject[m.DeleteAccountV1, m.InkPassDoneV1] = _rpc(
    "user",
    "delete",
    m.DeleteAccountV1,
    m.InkPassDoneV1,
    "Delete one's own account after re-authentication.",
)
DISABLE_USER: Subject[m.DisableUserV1, m.InkPassDoneV1] = _rpc(
    "user",
    "disable",
    m.DisableUserV1,
    m.InkPassDoneV1,
    "Operator action: block an account and end its sessions.",
)
ENABLE_USER: Subject[m.EnableUserV1, m.InkPassDoneV1] = _rpc(
    "user", "enable", m.EnableUserV1, m.InkPassDoneV1, "Operator action: unblock an account."
)

# ---------------------------------------------------------------------------- organisations
CREATE_ORG: Subject[m.CreateOrgV1, m.OrgMembershipV1] = _rpc(
    "org",
    "create",
    m.CreateOrgV1,
    m.OrgMembershipV1,
    "Create another organisation owned by the signed-in user.",
)
LIST_ORGS: Subject[m.ListOrgsV1, m.OrgListV1] = _rpc(
    "org", "list", m.ListOrgsV1, m.OrgListV1, "The organisations the user belongs to."
)
GET_ORG_SETTINGS: Subject[m.GetOrgSettingsV1, m.OrgSettingsV1] = _rpc(
    "org",
    "settings_get",
    m.GetOrgSettingsV1,
    m.OrgSettingsV1,
    "The signed-in organisation's settings (name, time zone); any member.",
)
UPDATE_ORG_SETTINGS: Subject[m.UpdateOrgSettingsV1, m.OrgSettingsV1] = _rpc(
    "org",
    "settings_update",
    m.UpdateOrgSettingsV1,
    m.OrgSettingsV1,
    "Rename the signed-in organisation or change its time zone (inkpass.org.update).",
)
INVITE_MEMBER: Subject[m.InviteMemberV1, m.InvitationV1] = _rpc(
    "member",
    "invite",
    m.InviteMemberV1,
    m.InvitationV1,
    "Invite an address into the organisation by email.",
)
ACCEPT_INVITATION: Subject[m.AcceptInvitationV1, m.OrgMembershipV1] = _rpc(
    "member",
    "accept",
    m.AcceptInvitationV1,
    m.OrgMembershipV1,
    "Join an organisation with an invitation sent to one's verified address.",
)
LIST_MEMBERS: Subject[m.ListMembersV1, m.MemberListV1] = _rpc(
    "member", "list", m.ListMembersV1, m.MemberListV1, "Members of the organisation."
)
SET_MEMBER_ROLE: Subject[m.SetMemberRoleV1, m.MemberV1] = _rpc(
    "member",
    "set_role",
    m.SetMemberRoleV1,
    m.MemberV1,
    "Change a member's role; their sessions in the organisation end.",
)
SET_MEMBER_ATTRIBUTES: Subject[m.SetMemberAttributesV1, m.MemberV1] = _rpc(
    "member",
    "set_attributes",
    m.SetMemberAttributesV1,
    m.MemberV1,
    "Set a member's trusted attributes, which policies read as actor.*.",
)
REMOVE_MEMBER: Subject[m.RemoveMemberV1, m.InkPassDoneV1] = _rpc(
    "member",
    "remove",
    m.RemoveMemberV1,
    m.InkPassDoneV1,
    "Remove a member; their sessions in the organisation end.",
)

# ---------------------------------------------------------------------------- API keys
CREATE_API_KEY: Subject[m.CreateApiKeyV1, m.ApiKeyCreatedV1] = _rpc(
    "apikey",
    "create",
    m.CreateApiKeyV1,
    m.ApiKeyCreatedV1,
    "Create a scoped API key; the secret is in this reply only.",
)
REVOKE_API_KEY: Subject[m.RevokeApiKeyV1, m.ApiKeyV1] = _rpc(
    "apikey", "revoke", m.RevokeApiKeyV1, m.ApiKeyV1, "Revoke an API key at once."
)
LIST_API_KEYS: Subject[m.ListApiKeysV1, m.ApiKeyListV1] = _rpc(
    "apikey", "list", m.ListApiKeysV1, m.ApiKeyListV1, "The organisation's API keys."
)
VERIFY_API_KEY: Subject[m.VerifyApiKeyV1, m.ApiKeyPrincipalV1] = _rpc(
    "apikey",
    "verify",
    m.VerifyApiKeyV1,
    m.ApiKeyPrincipalV1,
    "Who an API key speaks for, with its scopes.",
)

# ---------------------------------------------------------------------------- second factor
ENROLL_TOTP: Subject[m.EnrollTotpV1, m.TotpEnrollmentV1] = _rpc(
    "totp",
    "enroll",
    m.EnrollTotpV1,
    m.TotpEnrollmentV1,
    "Start TOTP enrolment: a secret, its otpauth URI and a QR code.",
)
CONFIRM_TOTP: Subject[m.ConfirmTotpV1, m.BackupCodesV1] = _rpc(
    "totp",
    "confirm",
    m.ConfirmTotpV1,
    m.BackupCodesV1,
    "Turn TOTP on with a first code; returns single-use backup codes.",
)
DISABLE_TOTP: Subject[m.DisableTotpV1, m.InkPassDoneV1] = _rpc(
    "totp", "disable", m.DisableTotpV1, m.InkPassDoneV1, "Turn TOTP off after re-authentication."
)
REGENERATE_BACKUP_CODES: Subject[m.RegenerateBackupCodesV1, m.BackupCodesV1] = _rpc(
    "totp",
    "regenerate_backup_codes",
    m.RegenerateBackupCodesV1,
    m.BackupCodesV1,
    "Replace every backup code.",
)

# ---------------------------------------------------------------------------- federated
START_OAUTH: Subject[m.StartOAuthV1, m.OAuthRedirectV1] = _rpc(
    "oauth",
    "start",
    m.StartOAuthV1,
    m.OAuthRedirectV1,
    "Begin an authorization-code flow (state, nonce, PKCE).",
)
FINISH_OAUTH: Subject[m.FinishOAuthV1, m.LoginResultV1] = _rpc(
    "oauth",
    "finish",
    m.FinishOAuthV1,
    m.LoginResultV1,
    "Complete the flow with the provider's code; signs in or links a verified address.",
)

# ---------------------------------------------------------------------------- authorization
AUTHZ_CHECK: Subject[m.AuthzCheckV1, m.AuthzDecisionV1] = _rpc(
    "authz",
    "check",
    m.AuthzCheckV1,
    m.AuthzDecisionV1,
    "May this actor do this action on this resource now? Roles, scopes and ABAC policies.",
)
PUT_POLICY: Subject[m.PutPolicyV1, m.PolicyV1] = _rpc(
    "policy", "put", m.PutPolicyV1, m.PolicyV1, "Create or replace an ABAC policy."
)
DELETE_POLICY: Subject[m.DeletePolicyV1, m.InkPassDoneV1] = _rpc(
    "policy", "delete", m.DeletePolicyV1, m.InkPassDoneV1, "Delete an ABAC policy."
)
LIST_POLICIES: Subject[m.ListPoliciesV1, m.PolicyListV1] = _rpc(
    "policy", "list", m.ListPoliciesV1, m.PolicyListV1, "The organisation's policies."
)
LIST_AUDIT: Subject[m.ListAuditV1, m.AuditListV1] = _rpc(
    "audit", "list", m.ListAuditV1, m.AuditListV1, "The organisation's recent security events."
)

# ---------------------------------------------------------------------------- events
SESSIONS_REVOKED: Subject[m.SessionsRevokedV1, None] = event(
    SERVICE,
    "session",
    "revoked",
    m.SessionsRevokedV1,
    summary="Sessions ended; every verifier stops accepting their tokens at once.",
)
API_KEY_REVOKED: Subject[m.ApiKeyRevokedV1, None] = event(
    SERVICE,
    "apikey",
    "revoked",
    m.ApiKeyRevokedV1,
    tokens=("org_id", "key_id"),
    summary="An API key was revoked; caches drop it.",
)
AUTHZ_CHANGED: Subject[m.AuthzChangedV1, None] = event(
    SERVICE,
    "authz",
    "changed",
    m.AuthzChangedV1,
    summary="Roles, attributes or policies of an org changed; cached decisions are stale.",
)
ORG_CREATED: Subject[m.OrgCreatedV1, None] = event(
    SERVICE, "org", "created", m.OrgCreatedV1, summary="An organisation was created."
)
ORG_SETTINGS_CHANGED: Subject[m.OrgSettingsV1, None] = event(
    SERVICE,
    "org",
    "settings_changed",
    m.OrgSettingsV1,
    summary="An organisation's name or time zone changed (the latest version wins).",
)
MEMBER_CHANGED: Subject[m.MemberChangedV1, None] = event(
    SERVICE,
    "member",
    "changed",
    m.MemberChangedV1,
    tokens=("org_id", "user_id"),
    summary="A member joined, changed role or left.",
)
ORG_AUDIT_RECORDED: Subject[m.AuditEventV1, None] = event(
    SERVICE,
    "audit",
    "recorded",
    m.AuditEventV1,
    summary="A security event inside an organisation (stored in inkpass's audit log).",
)
ACCOUNT_AUDIT_RECORDED: Subject[m.AuditEventV1, None] = event(
    SERVICE,
    "account",
    "audited",
    m.AuditEventV1,
    tokens=(),
    tenant=False,
    summary="A security event of a person, before or across organisations (e.g. a failed "
    "sign-in, a lockout, a password change).",
)
RPCS: tuple[Subject[Any, Any], ...] = (
    REGISTER,
    REQUEST_OTP,
    VERIFY_EMAIL,
    LOGIN,
    LOGIN_WITH_OTP,
    COMPLETE_MFA,
    REFRESH,
    LOGOUT,
    REVOKE_ALL,
    SWITCH_ORG,
    VERIFY_TOKEN,
    GET_PROFILE,
    UPDATE_PROFILE,
    CHANGE_PASSWORD,
    RESET_PASSWORD,
    DELETE_ACCOUNT,
    DISABLE_USER,
    ENABLE_USER,
    CREATE_ORG,
    GET_ORG_SETTINGS,
    UPDATE_ORG_SETTINGS,
    LIST_ORGS,
    INVITE_MEMBER,
    ACCEPT_INVITATION,
    LIST_MEMBERS,
    SET_MEMBER_ROLE,
    SET_MEMBER_ATTRIBUTES,
    REMOVE_MEMBER,
    CREATE_API_KEY,
    REVOKE_API_KEY,
    LIST_API_KEYS,
    VERIFY_API_KEY,
    ENROLL_TOTP,
    CONFIRM_TOTP,
    DISABLE_TOTP,
    REGENERATE_BACKUP_CODES,
    START_OAUTH,
    FINISH_OAUTH,
    AUTHZ_CHECK,
    PUT_POLICY,
    DELETE_POLICY,
    LIST_POLICIES,
    LIST_AUDIT,
)
EVENTS: tuple[Subject[Any, Any], ...] = (
    SESSIONS_REVOKED,
    API_KEY_REVOKED,
    AUTHZ_CHANGED,
    ORG_CREATED,
    ORG_SETTINGS_CHANGED,
    MEMBER_CHANGED,
    ORG_AUDIT_RECORDED,
    ACCOUNT_AUDIT_RECORDED,
)
