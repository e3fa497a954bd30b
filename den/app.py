"""The composition root of den: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

from pathlib import Path

from den.settings import DenSettings
from shared.bus import Router
from shared.service import ServiceApp

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: DenSettings) -> ServiceApp:
    router = Router(settings.service_name)
    return ServiceApp(settings, router=router, migrations=MIGRATIONS)
