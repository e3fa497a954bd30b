"""Parsed plan documents, by task and version.

A plan version never changes once written, so a replica may keep the parsed document and skip
both the transfer and the validation on the next cycle of the same task. Only the newest
version of each task is kept, for a bounded number of tasks.
"""

from __future__ import annotations

from collections import OrderedDict

from contracts.tentacle.plans import PlanV1


class PlanCache:
    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._plans: OrderedDict[str, tuple[int, PlanV1]] = OrderedDict()

    def known_version(self, task_id: str) -> int | None:
        held = self._plans.get(task_id)
        return held[0] if held is not None else None

    def get(self, task_id: str, version: int) -> PlanV1 | None:
        held = self._plans.get(task_id)
        if held is None or held[0] != version:
            return None
        self._plans.move_to_end(task_id)
        return held[1]

    def put(self, task_id: str, version: int, plan: PlanV1) -> None:
        self._plans[task_id] = (version, plan)
        self._plans.move_to_end(task_id)
        while len(self._plans) > self._size:
            self._plans.popitem(last=False)

    def forget(self, task_id: str) -> None:
        self._plans.pop(task_id, None)
