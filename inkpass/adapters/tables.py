"""inkpass's tables (SQLAlchemy Core), mirrored exactly by `migrations/versions/`.

Tenancy. A person exists before and across organisations: they sign up, verify their address,
sign in, reset a password or enrol a second factor before any organisation is chosen, and one
person may belong to several. So what describes a person and their credentials is platform
scoped; what belongs to an organisation is a tenant table with row-level security:

platform (no org, no RLS)    orgs (the tenant registry itself), users, otps, totp_factors,
                             backup_codes, oauth_flows, oauth_identities, throttle,
                             account_audit_log
tenant (org_id + RLS)        memberships, invitations, sessions, api_keys, policies, audit_log

Every platform query is keyed by something the caller proved (a user id from a verified token, an
email with its code, a hash of a presented secret), never by a list an attacker could widen.
Sessions and API keys are tenant rows although they are credentials: a session is opened *in* an
organisation, and an API key names its organisation inside the key, so both are looked up under
that organisation's RLS scope and a forged org finds nothing.

`memberships` has one more, deliberately narrow, policy: a transaction acting for an
authenticated person (`inkpass.user_id` set) may *read* that person's own memberships in every
organisation, which is what "my organisations" and signing in to the last-used one need.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


# =========================================================================== platform scope
orgs = Table(
    "orgs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    _created(),
    # Bumped whenever roles, attributes or policies change: cached decisions name their epoch.
    Column("authz_epoch", BigInteger, nullable=False, server_default=text("0")),
    Column("timezone", Text, nullable=False, server_default=text("'UTC'")),
    # Bumped with every settings change, so whoever keeps a copy applies only the latest.
    Column("settings_version", Integer, nullable=False, server_default=text("1")),
)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("email_verified_at", DateTime(timezone=True)),
    Column("password_hash", Text),
    Column("display_name", Text),
    Column("status", Text, nullable=False, server_default=text("'active'")),
    Column("status_reason", Text),
    # Changes with every credential event (password, disable, revoke-all): a sign-in that
    # verified the old password cannot open a session after it.
    Column("security_stamp", Text, nullable=False),
    Column("default_org_id", Text),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

otps = Table(
    "otps",
    metadata,
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", Text, nullable=False),
    # HMAC over (user, purpose, code): a code cannot match another purpose or person.
    Column("code_hash", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    _created(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("consumed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("user_id", "purpose"),
)

totp_factors = Table(
    "totp_factors",
    metadata,
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret_enc", LargeBinary, nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("last_used_step", BigInteger, nullable=False, server_default=text("0")),
    _created(),
)

backup_codes = Table(
    "backup_codes",
    metadata,
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", LargeBinary, nullable=False),
    Column("used_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("user_id", "code_hash"),
)

oauth_flows = Table(
    "oauth_flows",
    metadata,
    Column("state_hash", LargeBinary, primary_key=True),
    Column("provider", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("code_verifier_enc", LargeBinary, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("org_id", Text),
    _created(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("consumed_at", DateTime(timezone=True)),
)

oauth_identities = Table(
    "oauth_identities",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("provider", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("access_token_enc", LargeBinary),
    Column("refresh_token_enc", LargeBinary),
    Column("token_expires_at", DateTime(timezone=True)),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),
)
Index("ix_oauth_identities_user_id", oauth_identities.c.user_id)

throttle = Table(
    "throttle",
    metadata,
    Column("key", Text, primary_key=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

account_audit_log = Table(
    "account_audit_log",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("user_id", Text),
    Column("actor_id", Text),
    Column("source_ip", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_account_audit_log_user_id", account_audit_log.c.user_id, account_audit_log.c.occurred_at)

# =========================================================================== tenant scope
memberships = Table(
    "memberships",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "user_id"),
)
Index("ix_memberships_user_id", memberships.c.user_id)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("token_hash", LargeBinary, nullable=False),
    Column("invited_by", Text, nullable=False),
    _created(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("accepted_by", Text),
)
Index("ix_invitations_org_id", invitations.c.org_id)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    # The refresh token's rotation counter: only the token carrying the current value refreshes.
    Column("generation", Integer, nullable=False, server_default=text("0")),
    Column("mfa", Boolean, nullable=False, server_default=text("false")),
    Column("method", Text, nullable=False),
    Column("source_ip", Text),
    Column("user_agent", Text),
    _created(),
    Column("refreshed_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("access_expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
)
Index(
    "ix_sessions_active_user",
    sessions.c.user_id,
    postgresql_where=sessions.c.revoked_at.is_(None),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("key_hash", LargeBinary, nullable=False, unique=True),
    Column("scopes", JSONB, nullable=False),
    Column("created_by", Text, nullable=False),
    _created(),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)
Index("ix_api_keys_org_id", api_keys.c.org_id)

policies = Table(
    "policies",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_by", Text, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_policies_org_id", policies.c.org_id)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("user_id", Text),
    Column("actor_id", Text),
    Column("source_ip", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_audit_log_org_time", audit_log.c.org_id, audit_log.c.occurred_at)

TENANT_TABLES = ("memberships", "invitations", "sessions", "api_keys", "policies", "audit_log")
APPEND_ONLY_TABLES = ("audit_log", "account_audit_log")
