"""Tasks, over tentacle's contracts: each request authorised through inkpass first."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.ids import SubjectToken, new_id
from contracts.model import ContractModel
from contracts.subject import Subject
from contracts.tentacle import subjects as ts
from contracts.tentacle.checkpoints import CheckpointResponseV1, RespondCheckpointV1
from contracts.tentacle.models import (
    CancelTaskV1,
    CreateTaskV1,
    GetTaskV1,
    ListTasksV1,
    PauseTaskV1,
    ResumeTaskV1,
    RetryTaskV1,
    TaskConstraintsV1,
    TaskStatus,
)
from contracts.tentacle.plans import PlanV1
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.service.auth import Principal
from inbox.service.context import Inbox
from inbox.service.remote import as_http_error
from shared.errors import FluxosError

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewTask(Body):
    goal: str = Field(min_length=1, max_length=4000)
    request_id: SubjectToken | None = Field(
        default=None, description="Idempotency key: the same one always means the same task."
    )
    conversation_id: SubjectToken | None = None
    constraints: TaskConstraintsV1 = Field(default_factory=TaskConstraintsV1)
    budget_usd: Decimal | None = Field(default=None, ge=0, le=1_000_000)
    plan: PlanV1 | None = None


class Reason(Body):
    reason: str = Field(default="", max_length=1000)


class Retry(Body):
    budget_usd: Decimal | None = Field(default=None, ge=0, le=1_000_000)


class CheckpointAnswer(Body):
    response: CheckpointResponseV1


async def as_caller(
    inbox: Inbox, principal: Principal, subject: Subject[Any, Any], payload: ContractModel
) -> Any:
    """Ask another service on the caller's behalf: their org and actor ride in the envelope."""
    try:
        return await inbox.bus.request(
            subject,
            payload,
            org_id=principal.org_id,
            actor=principal.actor,
            timeout=inbox.timeout,
        )
    except FluxosError as exc:
        raise as_http_error(exc) from None


def dump(model: ContractModel) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json")
    return out


@router.post("", status_code=201)
async def create_task(
    body: NewTask, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.create", "task")
    payload = CreateTaskV1(
        request_id=body.request_id or new_id(),
        goal=body.goal,
        constraints=body.constraints,
        budget_usd=body.budget_usd,
        conversation_id=body.conversation_id,
        plan=body.plan,
    )
    return dump(await as_caller(inbox, principal, ts.TASK_CREATE_RPC, payload))


@router.get("")
async def list_tasks(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    status: Annotated[list[TaskStatus] | None, Query(max_length=9)] = None,
    conversation_id: Annotated[SubjectToken | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.list", "task")
    scope = f"tasks:{principal.org_id}"
    before = None
    if cursor is not None:
        before = datetime.fromisoformat(str(inbox.cursors.decode(scope, cursor, 1)[0]))
    payload = ListTasksV1(
        statuses=status or [], conversation_id=conversation_id, before=before, limit=limit
    )
    reply = await as_caller(inbox, principal, ts.TASK_LIST, payload)
    tasks = dump(reply)["tasks"]
    next_cursor = None
    if len(tasks) == limit:
        next_cursor = inbox.cursors.encode(scope, [tasks[-1]["created_at"]])
    return {"tasks": tasks, "next_cursor": next_cursor}


@router.get("/{task_id}")
async def get_task(
    task_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.read", "task", task_id)
    return dump(await as_caller(inbox, principal, ts.TASK_GET, GetTaskV1(task_id=task_id)))


@router.post("/{task_id}/pause")
async def pause_task(
    task_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    body: Reason | None = None,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.update", "task", task_id)
    payload = PauseTaskV1(task_id=task_id, reason=body.reason if body else "")
    return dump(await as_caller(inbox, principal, ts.TASK_PAUSE, payload))


@router.post("/{task_id}/resume")
async def resume_task(
    task_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.update", "task", task_id)
    return dump(await as_caller(inbox, principal, ts.TASK_RESUME, ResumeTaskV1(task_id=task_id)))


@router.post("/{task_id}/cancel")
async def cancel_task(
    task_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    body: Reason | None = None,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.update", "task", task_id)
    payload = CancelTaskV1(task_id=task_id, reason=body.reason if body else "")
    return dump(await as_caller(inbox, principal, ts.TASK_CANCEL, payload))


@router.post("/{task_id}/retry")
async def retry_task(
    task_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    body: Retry | None = None,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.update", "task", task_id)
    payload = RetryTaskV1(task_id=task_id, budget_usd=body.budget_usd if body else None)
    return dump(await as_caller(inbox, principal, ts.TASK_RETRY, payload))


@router.post("/{task_id}/checkpoints/{checkpoint_id}")
async def respond_checkpoint(
    task_id: SubjectToken,
    checkpoint_id: SubjectToken,
    body: CheckpointAnswer,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.task.update", "task", task_id)
    payload = RespondCheckpointV1(
        task_id=task_id, checkpoint_id=checkpoint_id, response=body.response
    )
    return dump(await as_caller(inbox, principal, ts.TASK_RESPOND_CHECKPOINT, payload))
