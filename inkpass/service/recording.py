"""Audit records (stored and published) and emails (mimic's SEND), inside a unit of work."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import JsonValue

from contracts.ids import new_id
from contracts.inkpass.models import AuditEventV1, AuditKind
from contracts.inkpass.subjects import ACCOUNT_AUDIT_RECORDED, ORG_AUDIT_RECORDED
from inkpass.adapters import audit as audit_rows
from inkpass.adapters.email import EmailKind, email_message
from inkpass.service.deps import Deps
from inkpass.service.tx import Tx


def subject_hash(deps: Deps, email: str) -> str:
    """A keyed hash of an address: stable, so counters and records can name it, yet opaque."""
    return hmac.new(deps.secrets.subjects, email.encode(), hashlib.sha256).hexdigest()[:32]


async def audit(
    tx: Tx,
    deps: Deps,
    kind: AuditKind,
    *,
    org_id: str | None = None,
    user_id: str | None = None,
    actor_id: str | None = None,
    source_ip: str | None = None,
    **details: str,
) -> AuditEventV1:
    event = AuditEventV1(
        event_id=new_id(),
        kind=kind,
        org_id=org_id,
        user_id=user_id,
        actor_id=actor_id,
        source_ip=source_ip,
        details={k: v[:256] for k, v in details.items()},
        occurred_at=deps.now(),
    )
    await audit_rows.store(tx.session, event)
    subject = ORG_AUDIT_RECORDED if org_id is not None else ACCOUNT_AUDIT_RECORDED
    tx.publish(deps.bus.message(subject, event, org_id=org_id))
    return event


def email(
    tx: Tx,
    deps: Deps,
    kind: EmailKind,
    *,
    to: str,
    org_id: str | None,
    variables: dict[str, JsonValue],
    name: str | None = None,
) -> None:
    tx.publish(
        email_message(
            deps.bus,
            kind=kind,
            to=to,
            variables=variables,
            org_id=org_id,
            # One email per unit of work and kind: a republished command is sent once.
            idempotency_key=f"inkpass-{kind.value}-{tx.uow.batch}",
            name=name,
        )
    )
