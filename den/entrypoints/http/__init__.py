"""Den's HTTP surface: downloads (public or signed) and uploads (tus 1.0, or one PUT)."""

from den.entrypoints.http.app import install_http, new_http_app

__all__ = ["install_http", "new_http_app"]
