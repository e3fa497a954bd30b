"""The file_storage agent: files in Den, through Den's contracts.

Metadata goes over Den's request subjects (as the task's creator, so Den records who did it);
bytes go over the signed URLs Den returns for exactly that upload or download. Saving and
deleting are journalled by the attempt's idempotency key: a redelivered attempt returns what
was recorded, and one cut off mid-way is not repeated (`tentacle.outcome_unknown`).
"""

from __future__ import annotations

import json
from typing import Any, Final

import httpx

from contracts.den.models import (
    AuthorizeUploadV1,
    CreateLinkV1,
    DeleteFileV1,
    FileV1,
    ListFilesV1,
)
from contracts.den.subjects import FILE_DELETE, FILE_LIST, LINK_CREATE, UPLOAD_AUTHORIZE
from contracts.tentacle.errors import TentacleErrorCode
from shared.bus import Bus, BusTimeout, BusUnavailable, RemoteError
from tentacle.adapters.journal import Journal
from tentacle.domain.errors import TentacleError, TentacleUnavailable
from tentacle.service.ports import AgentResult, StepWork

TOOL: Final = "den"
_TEXT_TYPES: Final = ("text/", "application/json", "application/xml")


class FileStorageRuntime:
    def __init__(self, bus: Bus, journal: Journal, *, max_bytes: int, timeout_s: float = 30.0):
        self.bus = bus
        self.journal = journal
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def run(self, work: StepWork) -> AgentResult:
        action = work.inputs["action"]
        if action == "read":
            return AgentResult(output=await self._read(work))
        if action == "list":
            return AgentResult(output=await self._list(work))
        effect = work.effect(f"{TOOL}.{action}")
        earlier = await self.journal.begin(effect)
        if earlier is not None:
            if earlier.status == "done":
                return AgentResult(output=earlier.result)
            raise TentacleError(
                TentacleErrorCode.OUTCOME_UNKNOWN,
                f"an earlier attempt to {action} may have changed the files; not repeated",
            )
        try:
            output = await (self._save(work) if action == "save" else self._delete(work))
        except (TentacleUnavailable, BusUnavailable):
            await self.journal.forget(effect)  # Den never got the request: a retry may act
            raise
        except BaseException:
            await self.journal.finish(effect, "unknown", None)
            raise
        await self.journal.finish(effect, "done", output)
        return AgentResult(output=output)

    # ---------------------------------------------------------------- actions
    async def _save(self, work: StepWork) -> dict[str, Any]:
        inputs = work.inputs
        content = inputs.get("content")
        if isinstance(content, str):
            body, name = content.encode(), inputs.get("name") or "output.txt"
        else:
            body, name = json.dumps(content, indent=2).encode(), inputs.get("name") or "output.json"
        grant = await self._ask(
            work,
            UPLOAD_AUTHORIZE,
            AuthorizeUploadV1(
                folder_id=inputs.get("folder_id"),
                name=name,
                public=bool(inputs.get("public", False)),
                tags=list(inputs.get("tags") or []),
                max_bytes=len(body),
            ),
        )
        async with httpx.AsyncClient(timeout=self.timeout_s) as http:
            response = await http.put(grant.put_url, content=body)
        if response.status_code != 201:
            raise TentacleError(
                TentacleErrorCode.AGENT_FAILED,
                f"den refused the upload ({response.status_code})",
                details={"status": response.status_code},
            )
        file = FileV1.model_validate_json(response.content)
        return _file_output("save", file)

    async def _read(self, work: StepWork) -> dict[str, Any]:
        link = await self._ask(work, LINK_CREATE, CreateLinkV1(file_id=work.inputs["file_id"]))
        async with (
            httpx.AsyncClient(timeout=self.timeout_s) as http,
            http.stream("GET", link.url) as response,
        ):
            if response.status_code != 200:
                raise TentacleError(
                    TentacleErrorCode.FETCH_FAILED, f"den answered {response.status_code}"
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    break
            content_type = response.headers.get("content-type", "")
        body = b"".join(chunks)[: self.max_bytes]
        output: dict[str, Any] = {
            "action": "read",
            "file_id": link.file_id,
            "size": len(body),
            "content_type": content_type,
        }
        if content_type.startswith(_TEXT_TYPES):
            output["text"] = body.decode("utf-8", errors="replace")
        return output

    async def _list(self, work: StepWork) -> dict[str, Any]:
        listing = await self._ask(
            work,
            FILE_LIST,
            ListFilesV1(
                folder_id=work.inputs.get("folder_id"),
                name_prefix=work.inputs.get("name_prefix"),
            ),
        )
        files = [_file_output("list", f) for f in listing.files]
        return {"action": "list", "files": files, "text": ", ".join(f["name"] for f in files)}

    async def _delete(self, work: StepWork) -> dict[str, Any]:
        file = await self._ask(work, FILE_DELETE, DeleteFileV1(file_id=work.inputs["file_id"]))
        return _file_output("delete", file)

    async def _ask(self, work: StepWork, subject: Any, payload: Any) -> Any:
        try:
            return await self.bus.request(
                subject, payload, org_id=work.org_id, timeout=self.timeout_s
            )
        except RemoteError as exc:
            if exc.retryable:
                raise TentacleUnavailable(
                    TentacleErrorCode.AGENT_UNAVAILABLE, f"den: {exc.message}"
                ) from None
            raise TentacleError(
                TentacleErrorCode.AGENT_FAILED,
                f"den refused: {exc.message}",
                details={"cause": exc.code},
            ) from None
        except BusTimeout as exc:
            raise TentacleUnavailable(
                TentacleErrorCode.AGENT_UNAVAILABLE, f"den did not answer: {exc}"
            ) from None


def _file_output(action: str, file: FileV1) -> dict[str, Any]:
    return {
        "action": action,
        "file_id": file.file_id,
        "name": file.name,
        "size": file.size,
        "content_type": file.content_type,
        "url": file.public_url,
    }
