"""Stable error codes of mimic: what a caller, a dead letter or a webhook response carries."""

from __future__ import annotations

from enum import StrEnum


class MimicErrorCode(StrEnum):
    # ------------------------------------------------------------------ requests and commands
    ORG_REQUIRED = "mimic.org_required"
    """The message names no organisation; everything in mimic belongs to one."""
    NOT_FOUND = "mimic.not_found"
    """No such notification, template or integration in this organisation."""
    IDEMPOTENCY_CONFLICT = "mimic.idempotency_conflict"
    """The idempotency key was used before with a different request."""

    # ------------------------------------------------------------------ notifications
    INVALID_RECIPIENT = "mimic.invalid_recipient"
    """Not an address the channel can deliver to."""
    HEADER_INJECTION = "mimic.header_injection"
    """A header value (subject, name, address) holds a line break or control character."""
    CHANNEL_UNAVAILABLE = "mimic.channel_unavailable"
    """No provider is configured for the channel (SMS and push are not wired yet)."""
    TEMPLATE_NOT_FOUND = "mimic.template_not_found"
    TEMPLATE_INVALID = "mimic.template_invalid"
    """The template does not compile, or uses variables it does not declare."""
    TEMPLATE_UNSAFE = "mimic.template_unsafe"
    """The template tried something the sandbox forbids (internals, huge output)."""
    VARIABLES_INVALID = "mimic.variables_invalid"
    """The variables do not match the template's declared schema."""
    RATE_LIMITED = "mimic.rate_limited"
    """Over a recipient, organisation or channel limit; refused (or deferred too often)."""
    PROVIDER_REJECTED = "mimic.provider_rejected"
    """The provider refused this message for good (e.g. an inactive or invalid recipient)."""
    BOUNCED = "mimic.bounced"
    """The recipient's server refused the message after the provider accepted it."""
    PROVIDERS_UNAVAILABLE = "mimic.providers_unavailable"
    """Every configured provider failed; retried later, failed when attempts run out."""
    OUTCOME_UNKNOWN = "mimic.outcome_unknown"
    """A provider call was cut off mid-way; not repeated, since it may have gone out."""
    SEND_IN_PROGRESS = "mimic.send_in_progress"
    """Another delivery of the same notification is talking to a provider right now."""

    # ------------------------------------------------------------------ integrations
    INTEGRATION_INVALID = "mimic.integration_invalid"
    INTEGRATION_DISABLED = "mimic.integration_disabled"
    INTEGRATION_AMBIGUOUS = "mimic.integration_ambiguous"
    """Several integrations of the provider exist: name one by id."""
    ACTION_INVALID = "mimic.action_invalid"
    """The action breaks the provider's limits or does not fit the integration."""
    ACTION_FAILED = "mimic.action_failed"
    """The provider refused the action."""
    DESTINATION_BLOCKED = "mimic.destination_blocked"
    """An outbound URL points at a private, loopback or link-local address."""

    # ------------------------------------------------------------------ inbound webhooks
    WEBHOOK_UNKNOWN = "mimic.webhook_unknown"
    """No active integration listens on this path."""
    WEBHOOK_UNSIGNED = "mimic.webhook_unsigned"
    WEBHOOK_BAD_SIGNATURE = "mimic.webhook_bad_signature"
    WEBHOOK_STALE = "mimic.webhook_stale"
    """The signed timestamp is outside the tolerance window."""
    WEBHOOK_REPLAYED = "mimic.webhook_replayed"
    """This delivery id was received before."""
    WEBHOOK_MALFORMED = "mimic.webhook_malformed"
    PAYLOAD_TOO_LARGE = "mimic.payload_too_large"
    REPORT_UNMATCHED = "mimic.report_unmatched"
    """A fresh delivery report names a message mimic has not recorded as sent yet (the report
    overtook the send's commit): answered 503 so the provider sends it again."""
