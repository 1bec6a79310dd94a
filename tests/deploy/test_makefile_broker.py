"""``make run`` and ``make test`` on a fresh machine: the ``broker`` target installs Debian's rabbitmq-server when
it is missing and the broker is local (as root), and otherwise says exactly what to install. Run for real with
make, a PATH without the server and, for the unprivileged case, as the user ``nobody``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
# A PATH where no rabbitmq-server is found, and a server path that does not exist: the machine without it.
WITHOUT_SERVER = {"PATH": "/usr/bin:/bin", "RABBITMQ_SERVER": "/nonexistent/rabbitmq-server"}

needs_make = pytest.mark.skipif(MAKE is None, reason="no make")


def make_broker(env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess:
    variables = [f"RABBITMQ_SERVER={env['RABBITMQ_SERVER']}"]
    environment = {"PATH": env["PATH"], **({"AMQP_URL": env["AMQP_URL"]} if "AMQP_URL" in env else {})}
    assert MAKE is not None
    return subprocess.run(
        [*prefix, MAKE, "-s", "-C", str(ROOT), "broker", *variables],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_and_test_make_sure_of_the_broker() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        rule = re.search(rf"^{target}:(.*)$", makefile, re.MULTILINE)
        assert rule is not None, f"the Makefile has no {target} target"
        prerequisites = rule.group(1).split()
        assert "broker" in prerequisites, f"make {target} does not make sure of RabbitMQ"


@needs_make
def test_a_broker_elsewhere_needs_nothing_installed() -> None:
    done = make_broker({**WITHOUT_SERVER, "AMQP_URL": "amqp://user:secret@broker.example.org:5672/"})
    assert done.returncode == 0 and not done.stdout and not done.stderr


@needs_make
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to become nobody")
def test_without_root_it_names_the_package_to_install() -> None:
    done = make_broker(WITHOUT_SERVER, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    assert done.returncode != 0
    assert "apt-get install rabbitmq-server" in done.stderr and "AMQP_URL" in done.stderr
