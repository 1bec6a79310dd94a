"""Start and stop the local stand-ins for development and tests.

* MongoDB -> SecantusDB (``secantusd-py``), a MongoDB wire-protocol server; its URI always carries
  ``retryWrites=false`` (with retryable writes its bookkeeping slows every write after ~10,000).
* MinIO -> nanio, an S3-compatible server keeping objects as files.
* RabbitMQ -> the machine's own server at ``AMQP_URL``; started with ``rabbitmq-server -detached``
  when it is installed but not running.

Each stand-in is a child process with its data in a folder the caller chooses; ports are free
ports unless given.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

PR_SET_PDEATHSIG = 1
S3_ACCESS_KEY = "greenchannel"
S3_SECRET_KEY = "greenchannel-dev-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def parent_death_signal():
    """On Linux, a function for the child (run between fork and exec) that asks for SIGTERM when the
    process that started it dies, so a test run that is killed leaves no service behind. libc is
    loaded here, in the parent: the child only makes one system call, taking no Python-level lock."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _bin(name: str) -> str:
    """The console script next to this interpreter (the project's virtual environment)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


@dataclass
class StandIn:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(name: str, args: list[str], port: int, log_dir: Path, env: dict[str, str] | None = None) -> StandIn:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True,
            preexec_fn=parent_death_signal(),  # noqa: PLW1509 - one system call, no lock taken in the child
        )
    standin = StandIn(name, process, port, log_path)
    try:
        wait_for_port("127.0.0.1", port, process=process)
    except Exception:
        standin.stop()
        raise RuntimeError(f"{name} did not start; see {log_path}") from None
    return standin


def start_secantus(data_dir: Path, port: int | None = None, log_dir: Path | None = None) -> StandIn:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    return _spawn(
        "secantusdb",
        [_bin("secantusd-py"), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data_dir),
         "--log-level", "WARNING"],
        port,
        log_dir or data_dir.parent,
    )


def mongo_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?retryWrites=false"


def start_nanio(data_dir: Path, port: int | None = None, log_dir: Path | None = None) -> StandIn:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    return _spawn(
        "nanio",
        [_bin("nanio"), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
         "--no-access-log", "--log-level", "warning"],
        port,
        log_dir or data_dir.parent,
        env={"NANIO_ACCESS_KEY": S3_ACCESS_KEY, "NANIO_SECRET_KEY": S3_SECRET_KEY},
    )


@dataclass
class RabbitCheck:
    reachable: bool
    started: bool = False
    message: str = ""
    notes: list[str] = field(default_factory=list)


def ensure_rabbitmq(amqp_url: str, timeout: float = 60.0) -> RabbitCheck:
    """Make sure the broker at ``amqp_url`` answers; start a local rabbitmq-server if installed but stopped."""
    parsed = urlparse(amqp_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5672
    try:
        wait_for_port(host, port, timeout=1.0)
        return RabbitCheck(reachable=True)
    except TimeoutError:
        pass
    if host not in ("127.0.0.1", "localhost", "::1"):
        return RabbitCheck(False, message=f"RabbitMQ at {host}:{port} does not answer.")
    server = shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server" if Path("/usr/sbin/rabbitmq-server").exists() else None)
    if server is None:
        return RabbitCheck(
            False,
            message="RabbitMQ is not running and not installed. Install it (Debian: apt-get install rabbitmq-server) "
            "or point AMQP_URL at a running broker.",
        )
    subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(host, port, timeout=timeout)
    except TimeoutError:
        return RabbitCheck(False, message=f"started {server} but nothing answers on {host}:{port} after {timeout:.0f} s.")
    # The port opens before the broker accepts AMQP logins; give it a moment.
    time.sleep(3)
    return RabbitCheck(True, started=True)
