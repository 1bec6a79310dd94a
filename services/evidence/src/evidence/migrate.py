"""Apply evidence's pending data migrations and print what is recorded: ``python -m evidence.migrate`` (``--status`` to
look only). The Kubernetes manifests run it as a Job before every rollout; see docs/operations.md."""

import sys

from evidence import migrations
from evidence.config import Settings
from greenchannel.migrations import command

if __name__ == "__main__":
    sys.exit(command(__doc__ or "", Settings, migrations.__name__))
