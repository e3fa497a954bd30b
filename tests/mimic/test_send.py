"""Sending on the real platform: a command in, an email in the dev mailbox, events out."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    Channel,
    ContentV1,
    NotificationStatus,
    RecipientV1,
    SendNotificationV1,
    TemplateRefV1,
)
from shared.bus import Bus
from shared.service import ServiceApp
from tests.mimic.conftest import (
    ORG,
    consumed,
    eventually,
    mail_in,
    mimic_dead_letters,
    notification_events,
    notification_verbs,
    otp_email,
    send,
    wait_status,
)


async def test_a_templated_email_reaches_the_dev_mailbox_with_every_status_published(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    nid = await send(probe, otp_email("otp-1", code="424242"))
    done = await wait_status(probe, nid, NotificationStatus.DELIVERED)

    assert done.provider == "dev"
    assert done.provider_message_id
    assert done.subject == "Your verification code: 424242"
    assert done.template is not None
    assert (done.template.key, done.template.version) == ("system.otp", 1)
    assert done.queued_at <= done.sending_at <= done.sent_at <= done.delivered_at  # type: ignore[operator]

    [raw] = mail_in(maildir)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "Ada <ada@example.com>"
    assert message["Subject"] == "Your verification code: 424242"
    assert message["Message-ID"] == f"<{nid}@fluxos.localhost>"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "424242" in body.get_content()

    async def all_events() -> bool:
        return len(await notification_events(probe)) == 4

    await eventually(all_events)
    events = await notification_events(probe)
    assert [e.subject.rsplit(".", 1)[1] for e in events] == [
        "queued",
        "send_started",
        "sent",
        "delivered",
    ]
    assert {e.subject.split(".")[5] for e in events} == {nid}
    assert [e.data["status"] for e in events] == ["queued", "sending", "sent", "delivered"]


async def test_the_same_key_sends_once(mimic: ServiceApp, probe: Bus, maildir: Path) -> None:
    command = otp_email("otp-twice")
    nid = await send(probe, command)
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    await send(probe, command)  # a retry by the caller, with a new message id
    await send(probe, command)
    other = await send(probe, otp_email("otp-other"))
    await wait_status(probe, other, NotificationStatus.DELIVERED)
    await consumed(probe)
    assert len(mail_in(maildir)) == 2
    assert await mimic_dead_letters(probe) == []


async def test_the_same_key_twice_at_once_sends_once_and_announces_once(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    # Both deliveries race for the first write; the loser finds the row being sent, waits
    # (the consumer's backoff) and then finds it handed over.
    command = otp_email("otp-racing")
    nid = await send(probe, command)
    await send(probe, command)
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    await consumed(probe)
    assert len(mail_in(maildir)) == 1
    verbs = await notification_verbs(probe, 4)
    assert verbs == ["queued", "send_started", "sent", "delivered"]
    assert await mimic_dead_letters(probe) == []


async def test_the_same_key_with_another_payload_is_a_conflict(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    nid = await send(probe, otp_email("otp-conflict", code="111111"))
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    await send(probe, otp_email("otp-conflict", code="222222"))

    async def dead_lettered() -> bool:
        return len(await mimic_dead_letters(probe)) == 1

    await eventually(dead_lettered)
    [letter] = await mimic_dead_letters(probe)
    assert letter.letter.code == MimicErrorCode.IDEMPOTENCY_CONFLICT
    assert len(mail_in(maildir)) == 1
    assert len(await notification_events(probe)) == 4  # only the first one's


async def test_inline_content_is_sent_verbatim_never_rendered(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    command = SendNotificationV1(
        idempotency_key="inline-1",
        to=RecipientV1(address="bob@example.com"),
        content=ContentV1(subject="Report {{ 7*7 }}", text="Total: {{ config }}"),
    )
    nid = await send(probe, command)
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    [raw] = mail_in(maildir)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Report {{ 7*7 }}"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == "Total: {{ config }}"


async def test_sms_is_recorded_as_failed_for_want_of_a_provider(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    command = SendNotificationV1(
        idempotency_key="sms-1",
        channel=Channel.SMS,
        to=RecipientV1(address="+15555550100"),
        content=ContentV1(subject="hi", text="hello"),
    )
    nid = await send(probe, command)
    failed = await wait_status(probe, nid, NotificationStatus.FAILED)
    assert failed.error is not None
    assert failed.error.code == MimicErrorCode.CHANNEL_UNAVAILABLE
    assert mail_in(maildir) == []


async def test_an_org_template_is_versioned_and_pinned(mimic: ServiceApp, probe: Bus) -> None:
    from contracts.mimic.models import SaveTemplateV1, VariableSpecV1
    from contracts.mimic.subjects import TEMPLATE_SAVE

    first = await probe.request(
        TEMPLATE_SAVE,
        SaveTemplateV1(
            key="welcome",
            subject="Welcome, {{ name }}",
            html="<p>Hi {{ name }}</p>",
            variables={"name": VariableSpecV1(max_length=50)},
        ),
        org_id=ORG,
    )
    second = await probe.request(
        TEMPLATE_SAVE,
        SaveTemplateV1(
            key="welcome",
            subject="Hello again, {{ name }}",
            html="<p>{{ name }}!</p>",
            variables={"name": VariableSpecV1()},
        ),
        org_id=ORG,
    )
    assert (first.version, second.version) == (1, 2)
    nid = await send(
        probe,
        SendNotificationV1(
            idempotency_key="welcome-1",
            to=RecipientV1(address="eve@example.com"),
            template=TemplateRefV1(key="welcome", version=1),
            variables={"name": "<Eve & co>"},
        ),
    )
    done = await wait_status(probe, nid, NotificationStatus.DELIVERED)
    assert done.subject == "Welcome, <Eve & co>"
    assert done.template == TemplateRefV1(key="welcome", version=1)
