"""The one shape of intake's maintenance commands (``python -m intake.rotate_keys``,
``python -m intake.rebuild_statistics``): settings from the environment, one client to intake's own
database, the work, and its counts printed as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.mongo import make_client
from intake.adapters.pii import PiiCipher
from intake.config import Settings

Work = Callable[[AsyncDatabase, PiiCipher], Awaitable[dict[str, int]]]


async def _run(name: str, work: Work) -> dict[str, int]:
    settings = Settings()
    client = make_client(settings.mongo_url, f"{settings.service_name}-{name}")
    try:
        cipher = PiiCipher.from_settings(settings.pii_keys.get_secret_value(), settings.pii_active_key_id)
        return await work(client[settings.database_name], cipher)
    finally:
        await client.close()


def run_command(description: str, name: str, work: Work) -> int:
    """Parse the (empty) command line, run ``work`` and print what it counted."""
    argparse.ArgumentParser(description=description.splitlines()[0]).parse_args()
    json.dump(asyncio.run(_run(name, work)), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
