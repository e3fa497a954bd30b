"""mimic's pure rules: addresses, templates, signatures, event tokens, provider limits."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from contracts.ids import is_token
from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    EmbedFieldV1,
    IntegrationProvider,
    ReplyHandleV1,
    ReplyInteractionV1,
    SendEmbedV1,
    SendMessageV1,
    VariableSpecV1,
    VariableType,
)
from mimic.domain import signatures
from mimic.domain.actions import check_action
from mimic.domain.addresses import check_email, check_header_value
from mimic.domain.errors import MimicError, WebhookRejected
from mimic.domain.inbound import READERS, event_token
from mimic.domain.status import can_move
from mimic.domain.system_templates import COMPILED
from mimic.domain.templates import TemplateSpec, compile_template
from tests.mimic import signing


@pytest.mark.parametrize(
    "address",
    ["ada@example.com", "a.b+tag@sub.example.co.uk", "x@xn--bcher-kva.example", "o'neil@ex.io"],
)
def test_plain_addresses_are_accepted(address: str) -> None:
    assert check_email(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a..b@example.com",
        ".a@example.com",
        "ada@-example.com",
        "ada@example.com\r\nBcc: x@example.com",
        "Ada <ada@example.com>",
        "ada@example.com,eve@example.com",
        "ada@exa mple.com",
        "x" * 65 + "@example.com",
    ],
)
def test_anything_else_is_not_an_address(address: str) -> None:
    with pytest.raises(MimicError):
        check_email(address)


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "a\u2028b", "a\x85b", "a\x1bb"])
def test_header_values_hold_one_line(value: str) -> None:
    with pytest.raises(MimicError) as caught:
        check_header_value(value, field="subject")
    assert caught.value.code == MimicErrorCode.HEADER_INJECTION


def test_every_system_template_renders_with_its_required_variables() -> None:
    for key, compiled in COMPILED.items():
        samples: dict[str, object] = {}
        for name, spec in compiled.spec.variables.items():
            if spec.required:
                samples[name] = (
                    "https://example.com/x" if spec.type is VariableType.URL else "value"
                )
        rendered = compiled.render(samples)
        assert rendered.subject, key
        assert rendered.text, key
        assert rendered.html, key


def test_html_parts_escape_and_text_parts_do_not() -> None:
    compiled = compile_template(
        TemplateSpec("t", 1, "Hi {{ n }}", "Hi {{ n }}", "<b>{{ n }}</b>", {"n": VariableSpecV1()})
    )
    rendered = compiled.render({"n": "<i>&"})
    assert rendered.text == "Hi <i>&"
    assert rendered.html == "<b>&lt;i&gt;&amp;</b>"


def test_url_variables_must_be_http() -> None:
    compiled = COMPILED["system.invitation"]
    ok = {"inviter_name": "Eve", "org_name": "Acme", "accept_url": "https://a.example/x"}
    assert "https://a.example/x" in (compiled.render(ok).text or "")
    for bad in ("javascript:alert(1)", "data:text/html,x", "ftp://a.example/"):
        with pytest.raises(MimicError) as caught:
            compiled.render({**ok, "accept_url": bad})
        assert caught.value.code == MimicErrorCode.VARIABLES_INVALID


BIG = "a" * 90_000

# Each would take gigabytes or hours in jinja's stock sandbox; here each is refused at once.
RESOURCE_ATTACKS: list[tuple[str, str]] = [
    ("a method of a value", "{{ s.ljust(10**9) }}"),
    ("a huge center", "{{ s|center(999999999) }}"),
    ("a huge % width", "{{ '%999999999s' % s }}"),
    ("a % width from the arguments", "{{ '%*s'|format(999999999, s) }}"),
    ("replace growing quadratically", "{{ s|replace('a', s) }}"),
    ("join growing quadratically", "{{ s|join(s) }}"),
    ("indent of many lines", "{{ (s|replace('a', '\n'))|indent(999) }}"),
    ("wordwrap with a long wrap string", "{{ s|wordwrap(1, wrapstring=s) }}"),
    ("a huge batch", "{{ s|batch(999999999, 'x')|list }}"),
    ("a huge tojson indent", "{{ s|tojson(indent=999999999) }}"),
    ("two loops over a long string", "{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"),
    ("doubling through assignments", "{% set a = s ~ s %}{% set a = a ~ a %}{{ a }}"),
    ("one expression naming a value many times", "{{ " + "~".join(["s"] * 30) + " }}"),
    ("a sum of many values", "{{ " + " + ".join(["s"] * 20) + " }}"),
    ("a filter applied through map", "{{ ['x']|map('center', 999999999)|list }}"),
    ("a filter block", "{% filter center(999999999) %}x{% endfilter %}"),
    ("a recursive macro", "{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}"),
    ("a recursive loop", "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}"),
    ("a block calling itself", "{% block b %}{{ self.b() }}{% endblock %}"),
    ("a list kept in a variable", "{% set l = [s, s] %}{{ l }}"),
]


@pytest.mark.parametrize(("what", "source"), RESOURCE_ATTACKS, ids=[w for w, _ in RESOURCE_ATTACKS])
def test_templates_cannot_exhaust_memory_or_cpu(what: str, source: str) -> None:
    spec = TemplateSpec("t", 1, "x", source, None, {"s": VariableSpecV1()})
    started = time.monotonic()
    with pytest.raises(MimicError) as caught:
        compile_template(spec).render({"s": BIG})
    assert caught.value.code == MimicErrorCode.TEMPLATE_UNSAFE, caught.value.message
    assert time.monotonic() - started < 30, "refused before doing the work"


def test_what_email_templates_use_still_works() -> None:
    source = (
        "{% set greeting = name or 'there' %}Hi {{ greeting|title }},\n"
        "{% for item in range(3) %}{{ loop.index }}{{ loop.cycle('a', 'b') }} {% endfor %}\n"
        "{% with total = count * 2 %}{{ '%.2f'|format(total) }} {{ '%5d' % count }}{% endwith %}\n"
        "{{ ['x', name|upper]|join(', ') }} {{ name|replace('a', 'o')|truncate(9) }} "
        "{{ name ~ '!' }} {{ name|center(9) }}|{{ name|indent(2, first=True) }}"
    )
    variables = {
        "name": VariableSpecV1(required=False),
        "count": VariableSpecV1(type=VariableType.INTEGER),
    }
    compiled = compile_template(TemplateSpec("t", 1, "s", source, None, variables))
    assert compiled.render({"name": "ada", "count": 21}).text == (
        "Hi Ada,\n1a 2b 3a \n42.00    21\nx, ADA odo ada!    ada   |  ada"
    )


# ----------------------------------------------------------------------------- signatures
def test_stripe_accepts_any_of_several_v1_signatures_while_secrets_roll() -> None:
    body = b'{"id": "evt_1", "type": "x"}'
    header = signing.stripe("whsec_new", body)["Stripe-Signature"]
    old = signing.stripe("whsec_old", body)["Stripe-Signature"].split(",")[1]
    headers = {"stripe-signature": f"{header},{old}"}
    signatures.verify_stripe(headers, body, "whsec_old", now=time.time(), tolerance=300)
    signatures.verify_stripe(headers, body, "whsec_new", now=time.time(), tolerance=300)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, MimicErrorCode.WEBHOOK_UNSIGNED),
        ({"stripe-signature": "garbage"}, MimicErrorCode.WEBHOOK_BAD_SIGNATURE),
        ({"stripe-signature": "t=abc,v1=00"}, MimicErrorCode.WEBHOOK_BAD_SIGNATURE),
    ],
)
def test_stripe_refusals(headers: dict[str, str], code: MimicErrorCode) -> None:
    with pytest.raises(WebhookRejected) as caught:
        signatures.verify_stripe(headers, b"{}", "whsec_x", now=time.time(), tolerance=300)
    assert caught.value.code == code


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_slack_discord_github_and_custom_schemes() -> None:
    body = b'{"a": 1}'
    slack = _lower(signing.slack("s3", body))
    signatures.verify_slack(slack, body, "s3", now=time.time(), tolerance=300)
    tampered = _lower(signing.slack("s3", body))
    with pytest.raises(WebhookRejected):
        signatures.verify_slack(tampered, body + b" ", "s3", now=time.time(), tolerance=300)
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw().hex()
    signatures.verify_discord(
        _lower(signing.discord(key, body)), body, public, now=time.time(), tolerance=300
    )
    stale = _lower(signing.discord(key, body, at=int(time.time()) - 1000))
    with pytest.raises(WebhookRejected) as caught:
        signatures.verify_discord(stale, body, public, now=time.time(), tolerance=300)
    assert caught.value.code == MimicErrorCode.WEBHOOK_STALE
    bad = {**_lower(signing.discord(key, body)), "x-signature-ed25519": "zz"}
    with pytest.raises(WebhookRejected):
        signatures.verify_discord(bad, body, public, now=time.time(), tolerance=300)
    github = _lower(signing.github("g", body, event="e", delivery="d"))
    signatures.verify_github(github, body, "g")
    wrong = {"x-hub-signature-256": "sha1=" + "0" * 40}
    with pytest.raises(WebhookRejected):
        signatures.verify_github(wrong, body, "g")
    custom = _lower(signing.custom("c" * 20, body, event="e", delivery="d"))
    signatures.verify_custom(custom, body, "c" * 20, now=time.time(), tolerance=300)


# ----------------------------------------------------------------------------- inbound
@given(st.text(max_size=300))
def test_any_provider_event_name_becomes_a_safe_token(name: str) -> None:
    assert is_token(event_token(name))


@pytest.mark.parametrize(
    ("provider", "headers", "body"),
    [
        (IntegrationProvider.STRIPE, {}, b"[]"),
        (IntegrationProvider.STRIPE, {}, b'{"id": "evt_1"}'),
        (IntegrationProvider.GITHUB, {"x-github-event": "push"}, b"{}"),
        (IntegrationProvider.SLACK, {"content-type": "application/json"}, b'{"type": "other"}'),
        (
            IntegrationProvider.SLACK,
            {"content-type": "application/x-www-form-urlencoded"},
            b"a=1&&&==",
        ),
        (IntegrationProvider.DISCORD, {}, b'{"type": 99, "id": "1"}'),
        (IntegrationProvider.DISCORD, {}, json.dumps({"type": 2}).encode()),
        (IntegrationProvider.WEBHOOK, {}, b"\xff\xfe"),
    ],
)
def test_bodies_that_are_not_what_the_provider_sends_are_malformed(
    provider: IntegrationProvider, headers: dict[str, str], body: bytes
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        READERS[provider](headers, body)
    assert caught.value.code == MimicErrorCode.WEBHOOK_MALFORMED


# ----------------------------------------------------------------------------- the rest
def test_status_never_moves_backwards() -> None:
    from contracts.mimic.models import NotificationStatus as S

    assert can_move(S.SENT, S.DELIVERED)
    assert can_move(S.DELIVERED, S.BOUNCED)
    assert not can_move(S.BOUNCED, S.DELIVERED)
    assert not can_move(S.FAILED, S.SENT)
    assert not can_move(S.DELIVERED, S.SENT)


def test_provider_limits_are_checked_before_sending() -> None:
    discord = {"application_id": "1", "public_key": "a" * 64}
    hook = {"webhook_url": "https://discord.com/api/webhooks/1/x"}
    check_action(
        IntegrationProvider.DISCORD, SendMessageV1(text="x" * 2000), public=discord, secrets=hook
    )
    fields = [EmbedFieldV1(name="n" * 256, value="v" * 1024) for _ in range(5)]
    big = SendEmbedV1(title="t", description="d" * 1000, fields=fields)
    for action in (
        SendMessageV1(text="x" * 2001),
        big,
        SendMessageV1(text="hi", channel_id="1"),  # no bot token to post to a channel with
        ReplyInteractionV1(
            reply=ReplyHandleV1(kind="slack_response_url", url="https://x"), text="hi"
        ),
    ):
        with pytest.raises(MimicError) as caught:
            check_action(IntegrationProvider.DISCORD, action, public=discord, secrets=hook)
        assert caught.value.code == MimicErrorCode.ACTION_INVALID
    with pytest.raises(MimicError):
        check_action(IntegrationProvider.STRIPE, SendMessageV1(text="hi"), public={}, secrets={})
