"""The public web client: pages to file, follow, rate and appeal a complaint, served by the gateway itself.

Server-rendered Jinja2 shells with light JavaScript that calls the JSON API of the same origin;
Simplified Chinese first, English second. Mounted in ``intake.main`` with ``router``, ``static_files`` and ``on_http_error`` (the not-found page).
"""

from intake.web.pages import STATIC_PATH, on_http_error, router, static_files

__all__ = ["STATIC_PATH", "on_http_error", "router", "static_files"]
