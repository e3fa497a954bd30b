"""Constraint violations as den's errors: the database is the last word on races that slipped
past a check (two requests creating the same name at once)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from contracts.den.errors import DenErrorCode
from den.domain.errors import DenError

_BY_CONSTRAINT = {
    "uq_den_files_live_name": (DenErrorCode.NAME_TAKEN, "a file with this name exists here"),
    "uq_den_folders_name": (DenErrorCode.NAME_TAKEN, "a folder with this name exists here"),
    "fk_den_files_folder": (DenErrorCode.FOLDER_NOT_FOUND, "no such folder"),
    "fk_den_folders_parent": (DenErrorCode.FOLDER_NOT_FOUND, "no such folder"),
}


def translate_integrity(exc: BaseException) -> DenError | None:
    if not isinstance(exc, IntegrityError):
        return None
    name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    name = name or getattr(exc.orig, "constraint_name", None)
    known = _BY_CONSTRAINT.get(str(name))
    return None if known is None else DenError(*known)
