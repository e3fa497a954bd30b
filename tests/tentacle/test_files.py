"""file_storage: files saved, read, listed and trashed in a real Den, through its contracts."""

from __future__ import annotations

from contracts.den.models import GetFileV1
from contracts.den.subjects import FILE_GET
from contracts.tentacle.models import TaskConstraintsV1, TaskStatus
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
