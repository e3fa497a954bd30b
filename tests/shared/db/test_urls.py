"""Which URL a service connects with, and the password derived for its role."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import SecretStr

from shared.db.errors import DatabaseMisconfigured
from shared.db.urls import (
    database_name,
    derive_role_password,
    derive_service_database,
    service_database_url,
    to_asyncpg_dsn,
    to_sqlalchemy_url,
)
from shared.settings import PlatformSettings, ServiceSettings

ADMIN = "postgresql://postgres:s3cret@db.example:5433/postgres?sslmode=require"


class NotesSettings(ServiceSettings):
    service_name: ClassVar[str] = "notes"


def platform(**kw: object) -> PlatformSettings:
    values: dict[str, object] = {"database_url": ADMIN, "secret_key": SecretStr("k1")}
    values.update(kw)
    return PlatformSettings.model_validate(values)


def test_derived_url_names_database_and_role_after_prefix_and_service() -> None:
    url = service_database_url(NotesSettings(platform=platform(database_prefix="acme")))
    password = derive_role_password("k1", "acme_notes")
    assert (
        url == f"postgresql+asyncpg://acme_notes:{password}@db.example:5433/acme_notes?ssl=require"
    )


def test_explicit_service_url_wins_and_only_gets_the_driver() -> None:
    settings = NotesSettings(
        platform=platform(), database_url="postgresql://me:pw@elsewhere:5432/mine"
    )
    assert service_database_url(settings) == "postgresql+asyncpg://me:pw@elsewhere:5432/mine"


def test_explicit_service_url_needs_no_secret_key() -> None:
    settings = NotesSettings(
        platform=platform(secret_key=None), database_url="postgresql://me:pw@h/mine"
    )
    assert service_database_url(settings).endswith("@h/mine")


def test_password_is_deterministic_and_bound_to_secret_and_role() -> None:
    first = derive_role_password("k1", "fluxos_notes")
    assert first == derive_role_password("k1", "fluxos_notes")
    assert first != derive_role_password("k2", "fluxos_notes")
    assert first != derive_role_password("k1", "fluxos_other")
    assert len(first) == 43  # 256 bits, base64url without padding
    assert first.replace("-", "").replace("_", "").isalnum()


def test_derived_url_without_secret_key_is_a_clear_configuration_error() -> None:
    with pytest.raises(DatabaseMisconfigured, match="FLUXOS_SECRET_KEY") as info:
        service_database_url(NotesSettings(platform=platform(secret_key=None)))
    assert info.value.code == "db.misconfigured"


def test_derived_url_without_server_is_a_configuration_error() -> None:
    with pytest.raises(DatabaseMisconfigured, match="FLUXOS_DATABASE_URL"):
        service_database_url(NotesSettings(platform=platform(database_url=None)))


@pytest.mark.parametrize("service", ["Notes", "no-tes", "x", "a" * 40, 'n"; drop'])
def test_bad_service_names_are_refused(service: str) -> None:
    with pytest.raises(DatabaseMisconfigured):
        database_name("fluxos", service)


def test_database_name_must_fit_postgres_identifier_limit() -> None:
    with pytest.raises(DatabaseMisconfigured):
        database_name("p" * 31, "s" * 32)
    assert database_name("p" * 30, "s" * 32) == "p" * 30 + "_" + "s" * 32


def test_service_database_repr_hides_password() -> None:
    target = derive_service_database(platform(), "notes")
    assert target.password not in repr(target)
    assert "s3cret" not in repr(target)


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url", "http://h/d"])
def test_non_postgres_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseMisconfigured):
        to_sqlalchemy_url(url)


def test_libpq_sslmode_becomes_asyncpg_ssl() -> None:
    assert to_sqlalchemy_url("postgresql://u@h/d?sslmode=verify-full") == (
        "postgresql+asyncpg://u@h/d?ssl=verify-full"
    )
    assert to_asyncpg_dsn("postgresql://u@h/d?sslmode=require") == (
        "postgresql://u@h/d?sslmode=require"
    )


def test_driver_conversions() -> None:
    assert to_asyncpg_dsn("postgresql+asyncpg://u:p@h:1/d") == "postgresql://u:p@h:1/d"
    assert to_sqlalchemy_url("postgres://u:p@h:1/d") == "postgresql+asyncpg://u:p@h:1/d"
