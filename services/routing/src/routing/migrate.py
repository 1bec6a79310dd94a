"""Apply routing's pending data migrations and print what is recorded: ``python -m routing.migrate`` (``--status`` to
look only). The Kubernetes manifests run it as a Job before every rollout; see docs/operations.md."""

import sys

from greenchannel.migrations import command
from routing import migrations
from routing.config import Settings

if __name__ == "__main__":
    sys.exit(command(__doc__ or "", Settings, migrations.__name__))
