"""The public web client: pages to file, follow, rate and appeal a complaint, served by the gateway itself.

Server-rendered Jinja2 shells with light JavaScript that calls the JSON API of the same origin;
Simplified Chinese first, English second. Mounted in ``intake.main`` with ``router`` and ``static_files``.
"""

from intake.web.pages import STATIC_PATH, router, static_files

__all__ = ["STATIC_PATH", "router", "static_files"]
