"""mimic service: notifications with delivery tracking, and integrations in and out of the bus.

Notifications. A `SendNotificationV1` command (`contracts.mimic.SEND`) names a channel, a
recipient, a template (sandboxed jinja2, variables checked against the template's declared
schema; per-organisation versions or the built-in `system.*` ones) or inline content, and an
idempotency key. `service/send_notification` records it, charges the rate limits (counters in
PostgreSQL, shared by replicas), renders it and hands it to the channel's providers in failover
order, journalling every provider call so that no crash or redelivery sends it twice. Each
status change (queued, deferred, send_started, sent, delivered, bounced, failed) is an event
keyed by `notification_id(org, key)`, which a caller can compute before sending.

Email providers (`MIMIC_EMAIL_PROVIDERS`, in failover order): `dev` (the default: an SMTP sink
inside mimic writing `<FLUXOS_HOME>/mail`, readable at `/dev/mail` and with `fluxos mail`),
`smtp`, `postmark`, `resend`. SMS and push are part of the contract; with no provider for them
a send fails as `mimic.channel_unavailable`.

Integrations. Discord, Slack, GitHub, Stripe and custom webhooks, per organisation, secrets
sealed with AES-256-GCM. Integrators post to `POST /hooks/{org_id}/{route_key}` (the path is
in `IntegrationV1.ingress_path`; set `MIMIC_PUBLIC_URL` to get the whole URL): verified per
provider, refused when replayed, stale or too large, and published as `IntegrationEventV1`
(see its docstring for the subject and the event types). `ExecuteActionV1` commands act
outwards (messages, embeds, issues, signed posts, interaction replies), checked against each
provider's limits, through an HTTP client that refuses private addresses (`shared.net`).

Provider delivery reports: point Resend's webhook at `POST /providers/resend/events` (with
`MIMIC_RESEND_WEBHOOK_SECRET`) and Postmark's at `POST /providers/postmark/events` (basic
auth `MIMIC_POSTMARK_WEBHOOK_USERNAME` / `_PASSWORD`).

    domain/       templates and their sandbox, addresses, signatures, inbound mapping,
                  action limits, rate-limit windows, status order: pure rules
    service/      one use case per module; send_notification is the heart
    adapters/     tables and queries, providers, the dev SMTP sink, outbound HTTP, receipts
    entrypoints/  bus handlers, the webhook ingress and the dev mailbox pages
"""
