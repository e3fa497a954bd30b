"""Contracts of mimic.

Notifications and integrations: templates, providers, delivery tracking, inbound webhooks, outbound
actions.
"""

from __future__ import annotations

from contracts.platform.health import health_subject

SERVICE = "mimic"
HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH,)
STREAMS = ()
CONSUMERS = ()
