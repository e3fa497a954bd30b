"""The runtime every service shares (start, health, graceful stop)."""

from shared.service.app import ServiceApp
from shared.service.run import run

__all__ = ["ServiceApp", "run"]
