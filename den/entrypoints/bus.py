"""Den's request handlers: contract in, use case, contract out.

The organisation is the envelope's (`meta.org_id`), the actor the envelope's; the bus layer has
already validated the payload against its model, so a handler never sees malformed input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from contracts.den import subjects as s
from contracts.model import ContractModel
from contracts.subject import Subject
from den.adapters.integrity import translate_integrity
from den.service.authorize_upload import authorize_upload
from den.service.cancel_upload import cancel_upload
from den.service.context import Caller, Den, require_org
from den.service.create_folder import create_folder
from den.service.create_link import create_link
from den.service.delete_file import delete_file
from den.service.delete_folder import delete_folder
from den.service.duplicate_file import duplicate_file
from den.service.get_file import get_file
from den.service.get_folder import get_folder
from den.service.get_quota import get_quota
from den.service.get_upload import get_upload
from den.service.list_files import list_files
from den.service.list_folder import list_folder
from den.service.list_trash import list_trash
from den.service.move_file import move_file
from den.service.move_folder import move_folder
from den.service.purge_file import purge_file
from den.service.rename_folder import rename_folder
from den.service.restore_file import restore_file
from den.service.revoke_file_links import revoke_file_links
from den.service.revoke_link import revoke_link
from den.service.set_quota import set_quota
from den.service.update_file import update_file
from shared.bus import Request, Router

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

UseCase = Callable[[Den, Caller, P], Awaitable[R]]

USE_CASES: list[tuple[Subject[Any, Any], UseCase[Any, Any]]] = [
    (s.FOLDER_CREATE, create_folder),
    (s.FOLDER_GET, get_folder),
    (s.FOLDER_RENAME, rename_folder),
    (s.FOLDER_MOVE, move_folder),
    (s.FOLDER_DELETE, delete_folder),
    (s.FOLDER_LIST, list_folder),
    (s.FILE_GET, get_file),
    (s.FILE_LIST, list_files),
    (s.FILE_UPDATE, update_file),
    (s.FILE_MOVE, move_file),
    (s.FILE_DUPLICATE, duplicate_file),
    (s.FILE_DELETE, delete_file),
    (s.FILE_RESTORE, restore_file),
    (s.FILE_PURGE, purge_file),
    (s.TRASH_LIST, list_trash),
    (s.LINK_CREATE, create_link),
    (s.LINK_REVOKE, revoke_link),
    (s.LINK_REVOKE_ALL, revoke_file_links),
    (s.UPLOAD_AUTHORIZE, authorize_upload),
    (s.UPLOAD_GET, get_upload),
    (s.UPLOAD_CANCEL, cancel_upload),
    (s.QUOTA_GET, get_quota),
    (s.QUOTA_SET, set_quota),
]


def _handler(den: Den, use_case: UseCase[P, R]) -> Callable[[P, Request], Awaitable[R]]:
    async def handle(payload: P, request: Request) -> R:
        caller = require_org(request.meta.org_id, request.meta.actor)
        try:
            return await use_case(den, caller, payload)
        except Exception as exc:
            known = translate_integrity(exc)
            if known is not None:
                raise known from exc
            raise

    handle.__name__ = use_case.__name__
    return handle


def register(router: Router, den: Den) -> None:
    for subject, use_case in USE_CASES:
        router.rpc(subject)(_handler(den, use_case))
