"""Hostile or broken sends and requests: refused with a clear code; nothing recorded, published
or sent; another organisation's templates and logs stay invisible."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    ContentV1,
    GetNotificationV1,
    GetTemplateV1,
    ListNotificationsV1,
    ListTemplatesV1,
    NotificationStatus,
    PreviewTemplateV1,
    RecipientV1,
    SaveTemplateV1,
    SendNotificationV1,
    TemplateRefV1,
    VariableSpecV1,
)
from contracts.mimic.subjects import (
    NOTIFICATION_GET,
    NOTIFICATION_LIST,
    SEND,
    TEMPLATE_GET,
    TEMPLATE_LIST,
    TEMPLATE_PREVIEW,
    TEMPLATE_SAVE,
)
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.mimic.conftest import (
    ORG,
    OTHER_ORG,
    consumed,
    eventually,
    mail_in,
    mimic_dead_letters,
    notification_events,
    otp_email,
    send,
    wait_status,
)

UNSAFE_TEMPLATES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{{ 'a' * 100000000 }}",
    "{{ 2 ** 100000 }}",
    "{{ ((9 ** 64) ** 64) ** 64 }}",
    "{% for a in range(999999) %}x{% endfor %}",
    "{% for a in range(9) %}{% for b in range(9) %}{% for c in range(9) %}x"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{{ request }}",
]


@pytest.mark.parametrize("source", UNSAFE_TEMPLATES)
async def test_template_injection_is_refused_when_saved(
    mimic: ServiceApp, probe: Bus, source: str
) -> None:
    with pytest.raises(RemoteError) as caught:
        await probe.request(
            TEMPLATE_SAVE,
            SaveTemplateV1(key="evil", subject="hi", text=source),
            org_id=ORG,
        )
    assert caught.value.code in (MimicErrorCode.TEMPLATE_UNSAFE, MimicErrorCode.TEMPLATE_INVALID)
    templates = await probe.request(
        TEMPLATE_LIST, ListTemplatesV1(include_system=False), org_id=ORG
    )
    assert templates.templates == []


async def test_injection_through_variables_is_only_ever_text(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    await probe.request(
        TEMPLATE_SAVE,
        SaveTemplateV1(
            key="hello",
            subject="Hello {{ name }}",
            text="Dear {{ name }}",
            html="<p>Dear {{ name }}</p>",
            variables={"name": VariableSpecV1(max_length=200)},
        ),
        org_id=ORG,
    )
    hostile = "{{ ''.__class__ }}<script>alert(1)</script>"
    rendered = await probe.request(
        TEMPLATE_PREVIEW,
        PreviewTemplateV1(template=TemplateRefV1(key="hello"), variables={"name": hostile}),
        org_id=ORG,
    )
    assert rendered.text == f"Dear {hostile}"
    assert rendered.html == (
        "<p>Dear {{ &#39;&#39;.__class__ }}&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


BAD_SENDS: list[tuple[str, SendNotificationV1, MimicErrorCode]] = [
    (
        "a line break in a subject variable",
        SendNotificationV1(
            idempotency_key="hdr-1",
            to=RecipientV1(address="ada@example.com"),
            template=TemplateRefV1(key="system.task_finished"),
            variables={"task_title": "x\r\nBcc: everyone@example.com", "outcome": "completed"},
        ),
        MimicErrorCode.HEADER_INJECTION,
    ),
    (
        "a line break in an inline subject",
        SendNotificationV1(
            idempotency_key="hdr-2",
            to=RecipientV1(address="ada@example.com"),
            content=ContentV1(subject="Hi\nBcc: x@example.com", text="body"),
        ),
        MimicErrorCode.HEADER_INJECTION,
    ),
    (
        "a line break in the recipient's name",
        SendNotificationV1(
            idempotency_key="hdr-3",
            to=RecipientV1(address="ada@example.com", name="Ada\r\nBcc: x@example.com"),
            content=ContentV1(subject="Hi", text="body"),
        ),
        MimicErrorCode.HEADER_INJECTION,
    ),
    (
        "two addresses in one",
        SendNotificationV1(
            idempotency_key="rcpt-1",
            to=RecipientV1(address="ada@example.com, eve@example.com"),
            content=ContentV1(subject="Hi", text="body"),
        ),
        MimicErrorCode.INVALID_RECIPIENT,
    ),
    (
        "an undeclared variable",
        otp_email("vars-1").model_copy(update={"variables": {"code": "1", "extra": "x"}}),
        MimicErrorCode.VARIABLES_INVALID,
    ),
    (
        "a missing required variable",
        otp_email("vars-2").model_copy(update={"variables": {}}),
        MimicErrorCode.VARIABLES_INVALID,
    ),
    (
        "a variable of the wrong type",
        SendNotificationV1(
            idempotency_key="vars-3",
            to=RecipientV1(address="ada@example.com"),
            template=TemplateRefV1(key="system.invitation"),
            variables={
                "inviter_name": "Eve",
                "org_name": "Acme",
                "accept_url": "javascript:alert(1)",
            },
        ),
        MimicErrorCode.VARIABLES_INVALID,
    ),
    (
        "another organisation's template",
        SendNotificationV1(
            idempotency_key="tpl-1",
            to=RecipientV1(address="ada@example.com"),
            template=TemplateRefV1(key="secret-plan"),
            variables={},
        ),
        MimicErrorCode.TEMPLATE_NOT_FOUND,
    ),
]


async def test_bad_sends_are_refused_and_nothing_is_recorded_published_or_sent(
    mimic: ServiceApp, probe: Bus, maildir: Path
) -> None:
    await probe.request(
        TEMPLATE_SAVE,
        SaveTemplateV1(key="secret-plan", subject="Plan", text="for globex only"),
        org_id=OTHER_ORG,
    )
    for _, command, _ in BAD_SENDS:
        await send(probe, command)

    async def all_refused() -> bool:
        return len(await mimic_dead_letters(probe)) == len(BAD_SENDS)

    await eventually(all_refused)
    codes = {letter.letter.code for letter in await mimic_dead_letters(probe)}
    assert codes == {code.value for _, _, code in BAD_SENDS}
    assert await notification_events(probe) == []
    assert mail_in(maildir) == []
    log = await probe.request(NOTIFICATION_LIST, ListNotificationsV1(), org_id=ORG)
    assert log.notifications == []


async def test_another_orgs_log_and_templates_are_invisible(mimic: ServiceApp, probe: Bus) -> None:
    nid = await send(probe, otp_email("mine-1"))
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    await probe.request(
        TEMPLATE_SAVE, SaveTemplateV1(key="private", subject="s", text="t"), org_id=ORG
    )
    await consumed(probe)

    for query in (
        GetNotificationV1(notification_id=nid),
        GetNotificationV1(idempotency_key="mine-1"),
    ):
        with pytest.raises(RemoteError) as caught:
            await probe.request(NOTIFICATION_GET, query, org_id=OTHER_ORG)
        assert caught.value.code == MimicErrorCode.NOT_FOUND
    theirs = await probe.request(NOTIFICATION_LIST, ListNotificationsV1(), org_id=OTHER_ORG)
    assert theirs.notifications == []
    mine = await probe.request(NOTIFICATION_LIST, ListNotificationsV1(), org_id=ORG)
    assert [n.notification_id for n in mine.notifications] == [nid]

    with pytest.raises(RemoteError) as caught:
        await probe.request(TEMPLATE_GET, GetTemplateV1(key="private"), org_id=OTHER_ORG)
    assert caught.value.code == MimicErrorCode.TEMPLATE_NOT_FOUND
    listed = await probe.request(TEMPLATE_LIST, ListTemplatesV1(), org_id=OTHER_ORG)
    assert "private" not in {t.key for t in listed.templates}
    assert {t.key for t in listed.templates if t.system} == {
        "system.verify_email",
        "system.reset_password",
        "system.otp",
        "system.invitation",
        "system.checkpoint_awaiting_approval",
        "system.task_finished",
    }


async def test_requests_without_an_organisation_are_refused(mimic: ServiceApp, probe: Bus) -> None:
    with pytest.raises(RemoteError) as caught:
        await probe.request(NOTIFICATION_LIST, ListNotificationsV1())
    assert caught.value.code == MimicErrorCode.ORG_REQUIRED
    await probe.publish(SEND, otp_email("no-org"))

    async def refused() -> bool:
        return len(await mimic_dead_letters(probe)) == 1

    await eventually(refused)
    [letter] = await mimic_dead_letters(probe)
    assert letter.letter.code == MimicErrorCode.ORG_REQUIRED
