"""Restore a backup of routing's database (``python -m routing.backup``) into an empty one: ``python -m routing.restore <dir>``.

Run it before the service first starts on the new database (which then holds nothing); every file of the
backup is checked against its manifest before anything is written (see greenchannel.backup)."""

from __future__ import annotations

import sys

from greenchannel.backup import database_parts, run_command
from routing.config import Settings

if __name__ == "__main__":
    sys.exit(
        run_command(None, service="routing", action="restore", parts=database_parts(Settings(), "routing-restore"))
    )
