"""Structured logging: one JSON object per line, each naming its place in the call tree.

`configure()` is called once by a service's entry point; library code only calls
`get_logger(__name__)`, which is cheap and safe before configuration.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from shared.context import current_call


def _add_call(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    call = current_call()
    if call is not None:
        event.setdefault("call_id", call.call_id)
        event.setdefault("root_call_id", call.root_call_id)
        if call.org_id is not None:
            event.setdefault("org_id", call.org_id)
    return event


def bind_process(*, service: str, instance: str) -> None:
    """Label every log line of the calling task and the tasks it starts from now on.

    A context variable rather than a global, so several services in one process (tests) each
    keep their own label.
    """
    structlog.contextvars.bind_contextvars(service=service, instance=instance)


def configure(*, level: str = "INFO", fmt: str = "json") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_call,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library end up in the same stream.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
