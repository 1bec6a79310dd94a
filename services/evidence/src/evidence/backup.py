"""Back up evidence's database and bucket into a new folder: ``python -m evidence.backup <dir>``.

Settings from the environment, as the service's own (see greenchannel.backup, evidence.adapters.bucket_backup)."""

from __future__ import annotations

import sys

from evidence.backups import evidence_parts
from evidence.config import Settings
from greenchannel.backup import run_command

if __name__ == "__main__":
    sys.exit(
        run_command(None, service="evidence", action="backup", parts=evidence_parts(Settings(), "evidence-backup"))
    )
