"""Stable error codes of inkpass: what a caller branches on, never the message text.

Several failures deliberately share one code so the reply is no oracle: an unknown email and a
wrong password are both `invalid_credentials`; a wrong, expired, used or other-purpose one-time
password is `invalid_code`; another tenant's id is `not_found`, exactly like a missing one.
"""

from __future__ import annotations

from enum import StrEnum


class InkPassErrorCode(StrEnum):
    # ------------------------------------------------------------------ sign-in
    INVALID_CREDENTIALS = "inkpass.invalid_credentials"
    """Unknown account or wrong password: indistinguishable on purpose."""
    TOO_MANY_ATTEMPTS = "inkpass.too_many_attempts"
    """Temporarily locked (per account, per source, or per second factor); retry later."""
    EMAIL_UNVERIFIED = "inkpass.email_unverified"
    """Right password, but the email address is not verified yet."""
    ACCOUNT_DISABLED = "inkpass.account_disabled"
    INVALID_MFA_CODE = "inkpass.invalid_mfa_code"
    """Wrong TOTP or backup code."""
    MFA_CODE_REPLAYED = "inkpass.mfa_code_replayed"
    """A TOTP code whose time step was already used."""
    INVALID_CODE = "inkpass.invalid_code"
    """A one-time password that is wrong, expired, used up or for another purpose."""
    WEAK_PASSWORD = "inkpass.weak_password"
    # ------------------------------------------------------------------ tokens
    TOKEN_INVALID = "inkpass.token_invalid"
    """Malformed, forged, tampered, wrong algorithm, issuer or audience, or not yet valid."""
    TOKEN_EXPIRED = "inkpass.token_expired"
    TOKEN_WRONG_TYPE = "inkpass.token_wrong_type"
    """A valid token of another type (e.g. a refresh token where an access token belongs)."""
    TOKEN_REVOKED = "inkpass.token_revoked"
    REFRESH_REUSED = "inkpass.refresh_reused"
    """A refresh token was used twice: its whole session has been revoked."""
    REVOCATIONS_UNAVAILABLE = "inkpass.revocations_unavailable"
    """A local verifier cannot currently hear revocations, so it refuses (fail closed)."""
    # ------------------------------------------------------------------ API keys
    API_KEY_INVALID = "inkpass.api_key_invalid"
    """Malformed, bad checksum, unknown, revoked or expired: one code, no oracle."""
    SCOPE_EXCEEDS_ROLE = "inkpass.scope_exceeds_role"
    # ------------------------------------------------------------------ access
    FORBIDDEN = "inkpass.forbidden"
    NOT_FOUND = "inkpass.not_found"
    """Missing, or belonging to another organisation (the two are not told apart)."""
    NOT_A_MEMBER = "inkpass.not_a_member"
    LAST_OWNER = "inkpass.last_owner"
    """The change would leave an organisation without an owner."""
    CONFLICT = "inkpass.conflict"
    INVITATION_INVALID = "inkpass.invitation_invalid"
    POLICY_INVALID = "inkpass.policy_invalid"
    # ------------------------------------------------------------------ second factor
    TOTP_ALREADY_ENABLED = "inkpass.totp_already_enabled"
    TOTP_NOT_ENABLED = "inkpass.totp_not_enabled"
    REAUTHENTICATION_REQUIRED = "inkpass.reauthentication_required"
    # ------------------------------------------------------------------ federated login
    OAUTH_NOT_CONFIGURED = "inkpass.oauth_not_configured"
    OAUTH_REDIRECT_NOT_ALLOWED = "inkpass.oauth_redirect_not_allowed"
    OAUTH_STATE_INVALID = "inkpass.oauth_state_invalid"
    OAUTH_EMAIL_UNVERIFIED = "inkpass.oauth_email_unverified"
    OAUTH_PROVIDER_ERROR = "inkpass.oauth_provider_error"
    """The provider refused, or answered something that does not verify (retryable)."""
