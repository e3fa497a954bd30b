"""The composition root of tentacle: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

from pathlib import Path

from shared.bus import Router
from shared.service import ServiceApp
from tentacle.settings import TentacleSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: TentacleSettings) -> ServiceApp:
    router = Router(settings.service_name)
    return ServiceApp(settings, router=router, migrations=MIGRATIONS)
