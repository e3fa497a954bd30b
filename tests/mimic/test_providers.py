"""Providers over real HTTP and SMTP: formats, failover, Retry-After, and never a second copy."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import NotificationStatus
from shared.bus import Bus
from shared.runtime.process import free_port
from tests.mimic.conftest import (
    StartMimic,
    consumed,
    eventually,
    mimic_dead_letters,
    notification_events,
    notification_verbs,
    otp_email,
    send,
    wait_status,
)
from tests.mimic.stubs import PostmarkStub, ResendStub, hang
from tests.shared.net.server import LoopbackServer, serving


@pytest.fixture
async def postmark() -> AsyncIterator[tuple[PostmarkStub, LoopbackServer]]:
    stub = PostmarkStub()
    async with serving(stub.app) as server:
        yield stub, server
        stub.released.set()  # let hanging requests end, or the server cannot stop


@pytest.fixture
async def resend() -> AsyncIterator[tuple[ResendStub, LoopbackServer]]:
    stub = ResendStub()
    async with serving(stub.app) as server:
        yield stub, server
        stub.released.set()


def _postmark(server: LoopbackServer) -> dict[str, Any]:
    return {
        "postmark_server_token": SecretStr(PostmarkStub.token),
        "postmark_base_url": server.url,
    }


def _resend(server: LoopbackServer) -> dict[str, Any]:
    return {"resend_api_key": SecretStr(ResendStub.key), "resend_base_url": server.url}


async def test_postmark_gets_its_own_format_and_its_id_is_tracked(
    start_mimic: StartMimic, probe: Bus, postmark: tuple[PostmarkStub, LoopbackServer]
) -> None:
    stub, server = postmark
    await start_mimic(email_providers=["postmark"], **_postmark(server))
    nid = await send(probe, otp_email("pm-1", code="777777"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT)
    [body] = stub.sent
    assert sent.provider == "postmark"
    assert sent.provider_message_id == body["MessageID"]
    assert body["To"] == "Ada <ada@example.com>"
    assert body["From"] == "fluxos <noreply@fluxos.localhost>"
    assert body["Subject"] == "Your verification code: 777777"
    assert "777777" in body["TextBody"]
    assert "777777" in body["HtmlBody"]
    assert body["MessageStream"] == "outbound"
    assert {"Name": "Message-ID", "Value": f"<{nid}@fluxos.localhost>"} in body["Headers"]


async def test_a_failing_provider_fails_over_to_the_next_within_one_delivery(
    start_mimic: StartMimic,
    probe: Bus,
    postmark: tuple[PostmarkStub, LoopbackServer],
    resend: tuple[ResendStub, LoopbackServer],
) -> None:
    pm, pm_server = postmark
    rs, rs_server = resend
    pm.then(PostmarkStub.error(500, 0, "Internal Server Error"))
    await start_mimic(
        email_providers=["postmark", "resend"], **_postmark(pm_server), **_resend(rs_server)
    )
    nid = await send(probe, otp_email("failover-1"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT)
    assert sent.provider == "resend"
    assert sent.attempts == 1, "failover happens inside one delivery"
    assert await notification_verbs(probe, 3) == ["queued", "send_started", "sent"]
    assert pm.sent == []
    [body] = rs.sent
    assert body["to"] == ["Ada <ada@example.com>"]
    assert rs.requests[0]["headers"]["idempotency-key"] == nid


@pytest.mark.parametrize("provider", ["postmark", "resend"])
async def test_a_429_is_retried_no_sooner_than_retry_after(
    provider: str,
    start_mimic: StartMimic,
    probe: Bus,
    postmark: tuple[PostmarkStub, LoopbackServer],
    resend: tuple[ResendStub, LoopbackServer],
) -> None:
    stub: PostmarkStub | ResendStub
    if provider == "postmark":
        stub, options = postmark[0], _postmark(postmark[1])
        stub.then(
            PostmarkStub.error(
                429,
                429,
                "Rate limit exceeded. Please reduce the rate of your requests.",
                **{"Retry-After": "3"},
            )
        )
    else:
        stub, options = resend[0], _resend(resend[1])
        stub.then(ResendStub.rate_limited(retry_after=3))
    await start_mimic(email_providers=[provider], **options)
    started = asyncio.get_running_loop().time()
    nid = await send(probe, otp_email(f"throttled-{provider}"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT, timeout=15)
    # The consumer's first backoff is 2 s (+-20%); the provider asked for 3.
    assert asyncio.get_running_loop().time() - started >= 2.9
    assert sent.attempts == 2
    assert sent.provider == provider
    assert len(stub.sent) == 1
    assert len(stub.requests) == 2


async def test_a_message_level_refusal_fails_without_failover(
    start_mimic: StartMimic,
    probe: Bus,
    postmark: tuple[PostmarkStub, LoopbackServer],
    resend: tuple[ResendStub, LoopbackServer],
) -> None:
    pm, pm_server = postmark
    rs, rs_server = resend
    pm.then(
        PostmarkStub.error(
            422, 406, "You tried to send to a recipient that has been marked as inactive."
        )
    )
    await start_mimic(
        email_providers=["postmark", "resend"], **_postmark(pm_server), **_resend(rs_server)
    )
    nid = await send(probe, otp_email("inactive-1"))
    failed = await wait_status(probe, nid, NotificationStatus.FAILED)
    assert failed.error is not None
    assert failed.error.code == MimicErrorCode.PROVIDER_REJECTED
    assert "406" in failed.error.message
    assert rs.requests == []


async def test_an_unanswered_postmark_call_is_never_repeated(
    start_mimic: StartMimic,
    probe: Bus,
    postmark: tuple[PostmarkStub, LoopbackServer],
    resend: tuple[ResendStub, LoopbackServer],
) -> None:
    pm, pm_server = postmark
    rs, rs_server = resend
    pm.then(hang(record=True))
    await start_mimic(
        email_providers=["postmark", "resend"],
        provider_timeout_seconds=0.5,
        **_postmark(pm_server),
        **_resend(rs_server),
    )
    nid = await send(probe, otp_email("doubt-pm"))
    failed = await wait_status(probe, nid, NotificationStatus.FAILED)
    assert failed.error is not None
    assert failed.error.code == MimicErrorCode.OUTCOME_UNKNOWN
    assert len(pm.sent) == 1
    assert rs.requests == [], "no failover after a call that may have gone out"


async def test_an_unanswered_resend_call_is_asked_again_with_the_same_key(
    start_mimic: StartMimic, probe: Bus, resend: tuple[ResendStub, LoopbackServer]
) -> None:
    stub, server = resend
    stub.then(hang(record=True))
    await start_mimic(email_providers=["resend"], provider_timeout_seconds=0.5, **_resend(server))
    nid = await send(probe, otp_email("doubt-rs"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT, timeout=15)
    assert len(stub.sent) == 1, "Resend answered the repeat from its idempotency store"
    assert sent.provider_message_id == stub.sent[0]["id"]
    keys = {r["headers"]["idempotency-key"] for r in stub.requests}
    assert keys == {nid}
    assert len(stub.requests) == 2


@pytest.mark.parametrize("provider", ["postmark", "resend"])
async def test_a_crash_mid_call_then_redelivery_sends_at_most_once(
    provider: str,
    start_mimic: StartMimic,
    probe: Bus,
    postmark: tuple[PostmarkStub, LoopbackServer],
    resend: tuple[ResendStub, LoopbackServer],
) -> None:
    stub: PostmarkStub | ResendStub
    if provider == "postmark":
        stub, options = postmark[0], _postmark(postmark[1])
    else:
        stub, options = resend[0], _resend(resend[1])
    stub.then(hang(record=True))  # the provider sends, then mimic dies before the answer
    first = await start_mimic(email_providers=[provider], send_lease_seconds=1.0, **options)
    nid = await send(probe, otp_email(f"crash-{provider}"))

    async def called() -> bool:
        return len(stub.sent) == 1

    await eventually(called)
    await first.stop()  # the handler is cancelled mid-call: the journal says "calling"

    await start_mimic(email_providers=[provider], send_lease_seconds=1.0, **options)
    final = await wait_status(
        probe, nid, NotificationStatus.SENT, NotificationStatus.FAILED, timeout=15
    )
    assert len(stub.sent) == 1
    # What the first delivery left unannounced is announced once, by the redelivery.
    verbs = await notification_verbs(probe, 3)
    assert verbs == ["queued", "send_started", final.status.value]
    if provider == "postmark":
        assert final.status is NotificationStatus.FAILED
        assert final.error is not None
        assert final.error.code == MimicErrorCode.OUTCOME_UNKNOWN
    else:
        assert final.status is NotificationStatus.SENT
        assert final.provider_message_id == stub.sent[0]["id"]


async def test_a_second_command_while_the_first_is_calling_waits_and_sends_nothing(
    start_mimic: StartMimic, probe: Bus, postmark: tuple[PostmarkStub, LoopbackServer]
) -> None:
    stub, server = postmark
    stub.then("slow:1.5")
    await start_mimic(email_providers=["postmark"], **_postmark(server))
    command = otp_email("concurrent-1")
    nid = await send(probe, command)

    async def calling() -> bool:
        return len(stub.requests) == 1

    await eventually(calling)
    await send(probe, command)  # the caller retries while the first call is in flight
    await wait_status(probe, nid, NotificationStatus.SENT)
    await consumed(probe)
    assert len(stub.sent) == 1
    assert len(stub.requests) == 1
    assert await notification_verbs(probe, 3) == ["queued", "send_started", "sent"]
    assert len(await notification_events(probe)) == 3
    assert await mimic_dead_letters(probe) == []


# ------------------------------------------------------------------------------- SMTP
class _Recorder:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.refuse_rcpt: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt is not None:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued as ABC123"


@pytest.fixture
def smtp_server() -> AsyncIterator[tuple[_Recorder, int]]:  # type: ignore[misc]
    recorder = _Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _smtp(port: int) -> dict[str, Any]:
    return {
        "email_providers": ["smtp"],
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
    }


async def test_smtp_delivers_a_multipart_message_to_a_real_server(
    start_mimic: StartMimic, probe: Bus, smtp_server: tuple[_Recorder, int]
) -> None:
    recorder, port = smtp_server
    await start_mimic(**_smtp(port))
    nid = await send(probe, otp_email("smtp-1", code="909090"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT)
    assert sent.provider == "smtp"
    assert sent.provider_message_id == "ABC123"
    [envelope] = recorder.messages
    assert envelope.mail_from == "noreply@fluxos.localhost"
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Your verification code: 909090"


async def test_smtp_permanent_refusal_fails_and_temporary_is_retried(
    start_mimic: StartMimic, probe: Bus, smtp_server: tuple[_Recorder, int]
) -> None:
    recorder, port = smtp_server
    recorder.refuse_rcpt = "550 5.1.1 No such user"
    await start_mimic(**_smtp(port))
    nid = await send(probe, otp_email("smtp-550"))
    failed = await wait_status(probe, nid, NotificationStatus.FAILED)
    assert failed.error is not None
    assert failed.error.code == MimicErrorCode.PROVIDER_REJECTED
    assert "550" in failed.error.message

    recorder.refuse_rcpt = "451 4.3.0 Try again later"
    nid = await send(probe, otp_email("smtp-451", to="bea@example.com"))
    await asyncio.sleep(0.5)
    assert (await wait_status(probe, nid, NotificationStatus.SENDING)).attempts == 1
    recorder.refuse_rcpt = None
    sent = await wait_status(probe, nid, NotificationStatus.SENT, timeout=15)
    assert sent.attempts == 2
    await consumed(probe)
    assert len(recorder.messages) == 1
    assert await mimic_dead_letters(probe) == []
