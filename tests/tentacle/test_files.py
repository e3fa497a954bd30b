"""file_storage: files saved, read, listed and trashed in a real Den, through its contracts."""

from __future__ import annotations

import asyncio

from contracts.den.models import GetFileV1
from contracts.den.subjects import FILE_GET
from contracts.ids import new_id
from contracts.tentacle.models import (
    SupersedePolicy,
    SupersedeResultV1,
    SupersedeTaskV1,
    TaskConstraintsV1,
    TaskStatus,
)
from contracts.tentacle.subjects import TASK_SUPERSEDE
from den.app import build_app as build_den
from den.settings import DenSettings
from shared.testing.plugin import StartService
from tests.tentacle.conftest import Caller, Start

AUTO = TaskConstraintsV1(auto_approve=True)


async def test_a_report_is_saved_read_back_listed_and_trashed(
    start_tentacle: Start, running_service: StartService, caller: Caller
) -> None:
    await running_service(build_den, DenSettings)
    await start_tentacle()
    plan = {
        "steps": [
            {
                "id": "write",
                "agent": "compose",
                "inputs": {"instructions": "Weekly report", "context": "All systems green."},
            },
            {
                "id": "save",
                "agent": "file_storage",
                "inputs": {
                    "action": "save",
                    "name": "report.txt",
                    "content": {"$ref": "write.body"},
                    "tags": ["reports"],
                },
            },
            {
                "id": "read",
                "agent": "file_storage",
                "inputs": {"action": "read", "file_id": {"$ref": "save.file_id"}},
            },
            {
                "id": "list",
                "agent": "file_storage",
                "depends_on": ["read"],
                "inputs": {"action": "list", "name_prefix": "report"},
            },
        ]
    }
    task = await caller.create("file the report", plan=plan, constraints=AUTO)
    done = await caller.wait(task.task_id, timeout=30)
    assert done.task.status is TaskStatus.COMPLETED, done.steps
    saved, read, listed = (s.output for s in done.steps[1:])
    assert isinstance(saved, dict)
    assert isinstance(read, dict)
    assert isinstance(listed, dict)
    assert saved["name"] == "report.txt"
    written = done.steps[0].output
    assert isinstance(written, dict)
    assert read["text"] == written["body"]
    assert listed["text"] == "report.txt"
    file = await caller.ask(FILE_GET, GetFileV1(file_id=str(saved["file_id"])))
    assert file.tags == ["reports"]
    assert file.created_by == caller.actor  # Den knows who stored it: the task's creator

    trash = {
        "steps": [
            {
                "id": "bin",
                "agent": "file_storage",
                "inputs": {"action": "delete", "file_id": str(saved["file_id"])},
            }
        ]
    }
    asked = await caller.create("throw it away", plan=trash)
    waiting = await caller.wait_status(asked.task_id, TaskStatus.CHECKPOINT)
    assert waiting.checkpoints[0].reasons == ["changes the organisation's files"]
    emptied = await caller.create("throw it away now", plan=trash, constraints=AUTO)
    await caller.wait(emptied.task_id)
    gone = await caller.ask(FILE_GET, GetFileV1(file_id=str(saved["file_id"])))
    assert gone.deleted_at is not None


async def test_a_rollback_trashes_the_files_the_task_saved(
    start_tentacle: Start, running_service: StartService, caller: Caller
) -> None:
    await running_service(build_den, DenSettings)
    await start_tentacle()
    plan = {
        "steps": [
            {
                "id": "save",
                "agent": "file_storage",
                "inputs": {"action": "save", "name": "draft.txt", "content": "first draft"},
            },
            {
                "id": "pick",
                "agent": "noop",
                "depends_on": ["save"],
                "checkpoint": {"type": "select", "options": ["send", "keep"]},
            },
        ]
    }
    task = await caller.create("draft and send", plan=plan, constraints=AUTO)
    waiting = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT, timeout=30)
    saved = waiting.steps[0].output
    assert isinstance(saved, dict)
    file_id = str(saved["file_id"])
    assert (await caller.ask(FILE_GET, GetFileV1(file_id=file_id))).deleted_at is None

    rolled: SupersedeResultV1 = await caller.ask(
        TASK_SUPERSEDE,
        SupersedeTaskV1(
            task_id=task.task_id,
            request_id=new_id(),
            goal="never mind",
            policy=SupersedePolicy.ROLLBACK,
        ),
    )
    assert rolled.task.status is TaskStatus.SUPERSEDED
    assert rolled.undone_steps == ["save"]
    assert rolled.irreversible_steps == []
    loop = asyncio.get_running_loop()
    until = loop.time() + 30
    while (await caller.ask(FILE_GET, GetFileV1(file_id=file_id))).deleted_at is None:
        assert loop.time() < until, "the saved file was never trashed"
        await asyncio.sleep(0.2)
