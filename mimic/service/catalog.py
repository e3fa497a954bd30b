"""Finding and compiling the template a send or a preview names.

Compiled templates are cached by (org, key, version): a version never changes once saved, so
the cache can only ever hold what the database holds (it is not state, just work saved).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import TemplateRefV1
from mimic.adapters import templates
from mimic.domain import system_templates
from mimic.domain.errors import MimicError
from mimic.domain.templates import CompiledTemplate, TemplateSpec, compile_template

Finder: TypeAlias = Callable[[str, int | None], Awaitable[TemplateSpec | None]]
"""Reads an organisation's template by key and version (None: the latest)."""


class TemplateCatalog:
    def __init__(self, *, max_cached: int = 1024) -> None:
        self._cache: OrderedDict[tuple[str, str, int], CompiledTemplate] = OrderedDict()
        self._max = max_cached

    def known(self, org_id: str, ref: TemplateRefV1) -> CompiledTemplate | None:
        """The template `ref` names if that needs no database read (a system template, or a
        pinned version compiled before); None when it does, or when there is no such system
        template (`resolve` says so)."""
        if system_templates.is_system_key(ref.key):
            compiled = system_templates.COMPILED.get(ref.key)
            if compiled is None or ref.version not in (None, compiled.spec.version):
                return None
            return compiled
        if ref.version is None:  # the latest version: only the database knows it
            return None
        key = (org_id, ref.key, ref.version)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
        return cached

    async def resolve(
        self, session: AsyncSession, org_id: str, ref: TemplateRefV1
    ) -> CompiledTemplate:
        return await self.resolve_by(partial(templates.find, session), org_id, ref)

    async def resolve_by(self, find: Finder, org_id: str, ref: TemplateRefV1) -> CompiledTemplate:
        """`resolve`, reading the organisation's templates with `find` (key, version or None
        for the latest) on whatever connection the caller holds."""
        if system_templates.is_system_key(ref.key):
            compiled = system_templates.COMPILED.get(ref.key)
            if compiled is None or ref.version not in (None, compiled.spec.version):
                raise _missing(ref)
            return compiled
        if ref.version is not None:
            cached = self._cache.get((org_id, ref.key, ref.version))
            if cached is not None:
                self._cache.move_to_end((org_id, ref.key, ref.version))
                return cached
        spec = await find(ref.key, ref.version)
        if spec is None:
            raise _missing(ref)
        key = (org_id, spec.key, spec.version)
        compiled = self._cache.get(key) or compile_template(spec)
        self._cache[key] = compiled
        self._cache.move_to_end(key)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return compiled


def _missing(ref: TemplateRefV1) -> MimicError:
    which = f"{ref.key} v{ref.version}" if ref.version else ref.key
    return MimicError(MimicErrorCode.TEMPLATE_NOT_FOUND, f"no template {which}")
