"""The five services, as their composition roots build them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import contracts.den
import contracts.inbox
import contracts.inkpass
import contracts.mimic
import contracts.tentacle
from contracts.subject import Subject
from den.app import build_app as build_den
from den.settings import DenSettings
from inbox.app import build_app as build_inbox
from inbox.settings import InboxSettings
from inkpass.app import build_app as build_inkpass
from inkpass.settings import InkPassSettings
from mimic.app import build_app as build_mimic
from mimic.settings import MimicSettings
from shared.service import ServiceApp
from shared.settings import ServiceSettings
from tentacle.app import build_app as build_tentacle
from tentacle.settings import TentacleSettings


@dataclass(frozen=True)
class ServiceUnderTest:
    name: str
    build_app: Callable[[Any], ServiceApp]
    settings: type[ServiceSettings]
    health: Subject[Any, Any]
    http: bool


SERVICES = [
    ServiceUnderTest(
        "tentacle", build_tentacle, TentacleSettings, contracts.tentacle.HEALTH, False
    ),
    ServiceUnderTest("inkpass", build_inkpass, InkPassSettings, contracts.inkpass.HEALTH, False),
    ServiceUnderTest("mimic", build_mimic, MimicSettings, contracts.mimic.HEALTH, True),
    ServiceUnderTest("den", build_den, DenSettings, contracts.den.HEALTH, True),
    ServiceUnderTest("inbox", build_inbox, InboxSettings, contracts.inbox.HEALTH, True),
]
IDS = [s.name for s in SERVICES]
