"""The installed fluxos version, read once from the package metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("fluxos")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+source"
