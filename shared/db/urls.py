"""Where a service's database is: its own URL, or one derived from the platform's server.

A service normally gets database `<prefix>_<service>` and a login role of the same name on the
platform's PostgreSQL server. The role's password is derived from the platform secret (HKDF with
SHA-256), so every replica computes the same password without anyone storing or distributing it,
and rotating the secret rotates every password at the next start.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shared.db.errors import DatabaseMisconfigured
from shared.db.identifiers import validate_identifier
from shared.kdf import derive_subkey
from shared.settings import PlatformSettings, ServiceSettings

ASYNC_DRIVER: Final = "postgresql+asyncpg"
_SCHEMES: Final = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
_SERVICE_RE: Final = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_HKDF_SALT: Final = b"fluxos/db/role-password/v1"


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseMisconfigured("the database URL cannot be parsed") from None
    if parsed.drivername not in _SCHEMES:
        raise DatabaseMisconfigured(
            f"unsupported database URL scheme {parsed.drivername!r}: use postgresql://"
        )
    return parsed


def to_sqlalchemy_url(url: str) -> str:
    """`url` with the asyncpg driver SQLAlchemy needs (a plain postgresql:// URL is accepted).

    libpq's `sslmode` becomes asyncpg's `ssl` (same values): SQLAlchemy hands query parameters
    to asyncpg.connect as keywords, and asyncpg has no `sslmode` keyword.
    """
    parsed = parse_url(url).set(drivername=ASYNC_DRIVER)
    sslmode = parsed.query.get("sslmode")
    if sslmode is not None and "ssl" not in parsed.query:
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": sslmode})
    return parsed.render_as_string(hide_password=False)


def to_asyncpg_dsn(url: str) -> str:
    """`url` as asyncpg.connect wants it (it does not know the `+asyncpg` driver suffix)."""
    return parse_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def derive_role_password(secret_key: str, role: str) -> str:
    """The password of `role`: the same on every replica, different for every role and secret."""
    if not secret_key:
        raise DatabaseMisconfigured("the platform secret key is empty")
    key = derive_subkey(secret_key.encode(), b"postgres-role:" + role.encode(), salt=_HKDF_SALT)
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class ServiceDatabase:
    """A service's database and login role on the platform's server."""

    name: str
    role: str
    password: str = field(repr=False)
    admin_url: str = field(repr=False)

    @property
    def url(self) -> str:
        """The service's own URL (SQLAlchemy, asyncpg driver), logging in as its role."""
        own = parse_url(self.admin_url).set(
            username=self.role, password=self.password, database=self.name
        )
        return to_sqlalchemy_url(own.render_as_string(hide_password=False))


def database_name(prefix: str, service: str) -> str:
    """`<prefix>_<service>`, the name of both the database and its role."""
    if not isinstance(service, str) or not _SERVICE_RE.fullmatch(service):
        raise DatabaseMisconfigured(f"service name {service!r} must match {_SERVICE_RE.pattern}")
    validate_identifier(prefix, what="database prefix")
    return validate_identifier(f"{prefix}_{service}", what="database name")


def derive_service_database(platform: PlatformSettings, service: str) -> ServiceDatabase:
    """The database and role `service` gets on the platform server (FLUXOS_DATABASE_URL)."""
    if platform.database_url is None:
        raise DatabaseMisconfigured(
            f"no database for {service}: set FLUXOS_DATABASE_URL (the platform's PostgreSQL "
            f"server) or {service.upper()}_DATABASE_URL"
        )
    if platform.secret_key is None or not platform.secret_key.get_secret_value():
        raise DatabaseMisconfigured(
            f"cannot derive the database password of {service}: set FLUXOS_SECRET_KEY, "
            f"or give the service its own {service.upper()}_DATABASE_URL"
        )
    parse_url(platform.database_url)
    name = database_name(platform.database_prefix, service)
    return ServiceDatabase(
        name=name,
        role=name,
        password=derive_role_password(platform.secret_key.get_secret_value(), name),
        admin_url=platform.database_url,
    )


def explicit_database_url(settings: ServiceSettings) -> str | None:
    """The service's own <SERVICE>_DATABASE_URL, with the asyncpg driver; None when unset."""
    if settings.database_url is None:
        return None
    return to_sqlalchemy_url(settings.database_url)


def service_database_url(settings: ServiceSettings) -> str:
    """The URL a service connects with: its own setting if set, else the derived one."""
    explicit = explicit_database_url(settings)
    if explicit is not None:
        return explicit
    return derive_service_database(settings.platform, type(settings).service_name).url
