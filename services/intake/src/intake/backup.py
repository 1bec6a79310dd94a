"""Back up intake's database into a new folder: ``python -m intake.backup <dir>`` (see greenchannel.backup).

Settings from the environment, as the service's own (``MONGO_URL``, ``MONGO_DB``)."""

from __future__ import annotations

import sys

from greenchannel.backup import database_parts, run_command
from intake.config import Settings

if __name__ == "__main__":
    sys.exit(run_command(None, service="intake", action="backup", parts=database_parts(Settings(), "intake-backup")))
