"""Database helpers every service uses: provisioning, runtime, unit of work, outbox, dedupe.

Import from the submodules (`shared.db.database`, `shared.db.relay`, ...); this package
re-exports the names a service needs most so its wiring reads in one line.
"""

from shared.db.database import Database
from shared.db.errors import (
    DatabaseConflict,
    DatabaseMisconfigured,
    DatabaseTimeout,
    DatabaseUnavailable,
    InvalidOrgId,
)
from shared.db.migrations import migrate, run_env
from shared.db.outbox import Publisher
from shared.db.provisioning import prepare_service_database
from shared.db.relay import OutboxRelay
from shared.db.uow import UnitOfWork

__all__ = [
    "Database",
    "DatabaseConflict",
    "DatabaseMisconfigured",
    "DatabaseTimeout",
    "DatabaseUnavailable",
    "InvalidOrgId",
    "OutboxRelay",
    "Publisher",
    "UnitOfWork",
    "migrate",
    "prepare_service_database",
    "run_env",
]
