"""Restore a backup of evidence (``python -m evidence.backup``) into an empty database and bucket: ``python -m evidence.restore <dir>``.

Settings from the environment, as the service's own (see greenchannel.backup, evidence.adapters.bucket_backup)."""

from __future__ import annotations

import sys

from evidence.backups import evidence_parts
from evidence.config import Settings
from greenchannel.backup import run_command

if __name__ == "__main__":
    sys.exit(
        run_command(None, service="evidence", action="restore", parts=evidence_parts(Settings(), "evidence-restore"))
    )
