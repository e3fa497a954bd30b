"""The composition root of mimic: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mimic.components import Components
from mimic.entrypoints import bus, http
from mimic.settings import MimicSettings
from shared.bus import Router
from shared.service import ServiceApp

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: MimicSettings) -> ServiceApp:
    router = Router(settings.service_name)
    web = FastAPI(title="mimic", docs_url=None, redoc_url=None, openapi_url=None)
    app = ServiceApp(settings, router=router, migrations=MIGRATIONS, http=web)
    mimic = Components(settings, app)
    bus.register(router, mimic)
    http.register(web, mimic)
    app.on_start(mimic.start)
    app.background(mimic.run)
    return app
