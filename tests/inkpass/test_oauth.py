"""Google sign-in against a local OpenID provider over real HTTP: state, nonce, PKCE, verified
addresses only, linking, the pre-registration takeover, and provider tokens sealed at rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    FinishOAuthV1,
    GetProfileV1,
    LoginResultV1,
    LoginStatus,
    OAuthProvider,
    RegisterUserV1,
    StartOAuthV1,
)
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    PASSWORD,
    Db,
    Mailbox,
    StartInkPass,
    login,
    new_account,
    new_email,
    remote_error,
    snapshot,
)
from tests.inkpass.oidc_stub import CLIENT_ID, CLIENT_SECRET, OidcStub, Person, serve_stub

REDIRECT = "https://app.example/auth/callback"


@pytest.fixture
async def stub() -> AsyncIterator[OidcStub]:
    async with serve_stub() as provider:
        yield provider


@pytest.fixture
async def google_inkpass(start_inkpass: StartInkPass, stub: OidcStub) -> ServiceApp:
    return await start_inkpass(
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        google_discovery_url=f"{stub.base_url}/.well-known/openid-configuration",
        oauth_redirect_uris=[REDIRECT],
    )


async def _browser(bus: Bus) -> tuple[str, str]:
    """Start a flow and play the browser at the provider: (state, code) of the callback."""
    start = await bus.request(
        s.START_OAUTH, StartOAuthV1(provider=OAuthProvider.GOOGLE, redirect_uri=REDIRECT)
    )
    url = urlparse(start.authorization_url)
    query = parse_qs(url.query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["nonce"][0]
    assert query["state"] == [start.state.get_secret_value()]
    assert query["redirect_uri"] == [REDIRECT]
    async with httpx.AsyncClient() as http:
        response = await http.get(start.authorization_url)
    assert response.status_code == 302
    callback = parse_qs(urlparse(response.headers["location"]).query)
    assert callback["state"] == query["state"]
    return callback["state"][0], callback["code"][0]


async def _finish(bus: Bus, state: str, code: str) -> LoginResultV1:
    return await bus.request(
        s.FINISH_OAUTH,
        FinishOAuthV1(provider=OAuthProvider.GOOGLE, state=SecretStr(state), code=SecretStr(code)),
    )


async def test_a_new_person_signs_up_with_google(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, db: Db
) -> None:
    stub.person = Person("google-123", new_email("gina"))
    result = await _finish(bus, *await _browser(bus))
    assert result.status is LoginStatus.AUTHENTICATED
    assert result.tokens is not None
    profile = await bus.request(
        s.GET_PROFILE, GetProfileV1(access_token=result.tokens.access_token)
    )
    assert profile.email == stub.person.email
    assert profile.email_verified
    assert not profile.has_password
    row = await db.fetchrow("select * from oauth_identities where user_id = $1", profile.user_id)
    assert row is not None
    assert row["subject"] == "google-123"
    assert b"provider-access-" not in row["access_token_enc"]
    assert b"provider-refresh-" not in row["refresh_token_enc"]
    # The same Google account signs in to the same person again.
    again = await _finish(bus, *await _browser(bus))
    assert again.tokens is not None
    assert again.tokens.user_id == profile.user_id


async def test_a_verified_account_with_that_address_is_linked(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    stub.person = Person("google-alice", alice.email)
    result = await _finish(bus, *await _browser(bus))
    assert result.tokens is not None
    assert result.tokens.user_id == alice.user_id
    assert (await login(bus, alice.email)).status is LoginStatus.AUTHENTICATED


async def test_pre_registration_takeover_is_defeated(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, mailbox: Mailbox
) -> None:
    victim = new_email("victim")
    # Someone registers the victim's address (never verified) with a password they know.
    await bus.request(s.REGISTER, RegisterUserV1(email=victim, password=SecretStr(PASSWORD)))
    stub.person = Person("google-victim", victim)
    result = await _finish(bus, *await _browser(bus))
    assert result.tokens is not None
    # The address is proven by Google now, and the squatter's password is gone.
    err = await remote_error(login(bus, victim))
    assert err.code == "inkpass.invalid_credentials"


async def test_unverified_addresses_are_not_believed(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    stub.person = Person("google-evil", alice.email, email_verified=False)
    state, code = await _browser(bus)
    before = await snapshot(db)
    err = await remote_error(_finish(bus, state, code))
    assert err.code == "inkpass.oauth_email_unverified"
    assert await snapshot(db) == before


async def test_state_is_single_use_and_must_exist(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, db: Db
) -> None:
    stub.person = Person("google-state", new_email("state"))
    state, code = await _browser(bus)
    await _finish(bus, state, code)
    before = await snapshot(db)
    for attempt in ((state, code), ("made-up-state", code)):
        err = await remote_error(_finish(bus, *attempt))
        assert err.code == "inkpass.oauth_state_invalid"
    assert await snapshot(db) == before


async def test_a_stolen_code_is_useless_without_its_verifier(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, db: Db
) -> None:
    stub.person = Person("google-victim", new_email("victim"))
    _, victims_code = await _browser(bus)
    attackers_state, _ = await _browser(bus)
    before = await snapshot(db)
    # The attacker injects the victim's code into their own flow: PKCE makes it fail.
    err = await remote_error(_finish(bus, attackers_state, victims_code))
    assert err.code == "inkpass.oauth_provider_error"
    assert await snapshot(db) == before


async def test_id_tokens_must_verify(
    google_inkpass: ServiceApp, bus: Bus, stub: OidcStub, db: Db
) -> None:
    stub.person = Person("google-x", new_email("x"))
    before = await snapshot(db)
    stub.override_nonce = "a nonce from another flow"
    err = await remote_error(_finish(bus, *await _browser(bus)))
    assert err.code == "inkpass.oauth_provider_error"
    stub.override_nonce = None
    stub.sign_with_stranger = True
    err = await remote_error(_finish(bus, *await _browser(bus)))
    assert err.code == "inkpass.oauth_provider_error"
    assert await snapshot(db) == before


async def test_redirects_must_be_registered_and_the_provider_configured(
    google_inkpass: ServiceApp, bus: Bus
) -> None:
    err = await remote_error(
        bus.request(
            s.START_OAUTH,
            StartOAuthV1(provider=OAuthProvider.GOOGLE, redirect_uri="https://evil.example/cb"),
        )
    )
    assert err.code == "inkpass.oauth_redirect_not_allowed"


async def test_without_configuration_there_is_no_google_sign_in(
    inkpass: ServiceApp, bus: Bus
) -> None:
    err = await remote_error(
        bus.request(
            s.START_OAUTH, StartOAuthV1(provider=OAuthProvider.GOOGLE, redirect_uri=REDIRECT)
        )
    )
    assert err.code == "inkpass.oauth_not_configured"
