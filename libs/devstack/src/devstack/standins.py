"""Start and stop the local stand-ins for development and tests.

* MongoDB -> SecantusDB (``secantusd-py``), a MongoDB wire-protocol server; its URI always carries
  ``retryWrites=false`` (with retryable writes its bookkeeping slows every write after ~10,000).
* MinIO -> nanio, an S3-compatible server keeping objects as files.
* RabbitMQ -> the machine's own server at ``AMQP_URL``; started with ``rabbitmq-server -detached``
  when it is installed but not running. Fault tests run a node of their own besides it
  (:class:`RabbitNode`): the same installed server on free ports, with its own node name, data,
  logs, configuration and Erlang cookie, which they stop and start again at will.

Each stand-in is a child process with its data in a folder the caller chooses; ports are free
ports unless given.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
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


def _spawn(
    name: str, args: list[str], port: int, log_dir: Path, env: dict[str, str] | None = None, start_timeout: float = 30.0
) -> StandIn:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=parent_death_signal(),
        )
    standin = StandIn(name, process, port, log_path)
    try:
        wait_for_port("127.0.0.1", port, timeout=start_timeout, process=process)
    except Exception:  # noqa: BLE001 - whatever stopped the start, the stand-in is stopped and named
        standin.stop()
        raise RuntimeError(f"{name} did not start; see {log_path}") from None
    return standin


def start_secantus(
    data_dir: Path, port: int | None = None, log_dir: Path | None = None, start_timeout: float = 30.0
) -> StandIn:
    """SecantusDB on ``data_dir``; a large data folder takes a while to open (``start_timeout``)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    return _spawn(
        "secantusdb",
        [
            _bin("secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(data_dir),
            "--log-level",
            "WARNING",
        ],
        port,
        log_dir or data_dir.parent,
        start_timeout=start_timeout,
    )


def mongo_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?retryWrites=false"


def start_nanio(
    data_dir: Path,
    port: int | None = None,
    log_dir: Path | None = None,
    *,
    access_key: str = S3_ACCESS_KEY,
    secret_key: str = S3_SECRET_KEY,
) -> StandIn:
    """nanio with the development credentials, or others (a test of production mode, where those are refused)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    return _spawn(
        "nanio",
        # nanio's own app behind CORS (devstack.nanio_cors), so a browser can PUT to a presigned URL.
        [sys.executable, "-m", "devstack.nanio_cors", "127.0.0.1", str(port)],
        port,
        log_dir or data_dir.parent,
        env={"NANIO_ACCESS_KEY": access_key, "NANIO_SECRET_KEY": secret_key, "NANIO_DATA_DIR": str(data_dir.resolve())},
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
    server = shutil.which("rabbitmq-server") or (
        "/usr/sbin/rabbitmq-server" if Path("/usr/sbin/rabbitmq-server").exists() else None
    )
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
        return RabbitCheck(
            False, message=f"started {server} but nothing answers on {host}:{port} after {timeout:.0f} s."
        )
    # The port opens before the broker accepts AMQP logins; give it a moment.
    time.sleep(3)
    return RabbitCheck(True, started=True)


# Debian's /usr/sbin/rabbitmq-* wrappers switch to the ``rabbitmq`` user when run as root, and with it
# to the machine broker's home and cookie; the scripts they wrap run as whoever calls them.
RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
AMQP_PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
AMQP_METHOD_FRAME = 1


def rabbitmq_script(name: str) -> str:
    """``rabbitmq-server`` or ``rabbitmqctl`` as the installation ships it, not a wrapper that changes user."""
    candidate = RABBITMQ_SCRIPTS / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (Debian: apt-get install rabbitmq-server)")
    return found


def wait_for_amqp(port: int, timeout: float = 90.0, process: subprocess.Popen | None = None) -> None:
    """Wait until a broker on ``port`` answers the AMQP 0-9-1 protocol header with ``Connection.Start``:
    it accepts logins then. An open port alone is not enough: the listener may belong to a node still booting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(AMQP_PROTOCOL_HEADER)
                if sock.recv(1)[:1] == bytes([AMQP_METHOD_FRAME]):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no AMQP broker answers on 127.0.0.1:{port} after {timeout:.0f} s")


@dataclass
class RabbitNode:
    """A RabbitMQ node of its own: the machine's ``rabbitmq-server`` on a free AMQP port and a free
    distribution port, with its own node name, Erlang cookie (``$HOME``), data (mnesia), logs,
    configuration and plugin list, all under ``base_dir``. The machine's broker is not touched.

    :meth:`stop` stops it cleanly (SIGTERM: the start script runs ``rabbitmq-server``'s own shutdown),
    :meth:`kill` crashes it (SIGKILL to the whole process group), and :meth:`start` boots it again on
    the same data, so durable queues and persistent messages are there after a restart. It runs as
    whoever calls it, root included. A node whose test run is killed stops too (the start script is
    asked for SIGTERM when its parent dies, and stops the VM)."""

    base_dir: Path
    port: int
    dist_port: int
    name: str
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        """The node's own log (``RABBITMQ_LOG_BASE/<node>.log``)."""
        return self.base_dir / "log" / f"{self.name}.log"

    def env(self) -> dict[str, str]:
        """The environment of the start script and of ``rabbitmqctl``: nothing of the machine's broker
        (its ``/etc/rabbitmq/rabbitmq-env.conf`` is replaced by an empty file of the node's own)."""
        base = self.base_dir
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")}
        return {
            **inherited,
            "HOME": str(base / "home"),  # where Erlang keeps the node's cookie, created at the first start
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def _prepare(self) -> None:
        for folder in ("home", "mnesia", "log"):
            (self.base_dir / folder).mkdir(parents=True, exist_ok=True)
        (self.base_dir / "rabbitmq-env.conf").write_text("")
        (self.base_dir / "enabled_plugins").write_text("[].\n")  # no plugins: a quicker boot
        (self.base_dir / "rabbitmq.conf").write_text("log.console = false\nlog.file.level = warning\n")

    def start(self, timeout: float = 120.0) -> None:
        """Boot the node (again, on the same data) and wait until it accepts AMQP connections."""
        if self.running:
            return
        self._prepare()
        self.starts += 1
        with (self.base_dir / "log" / "server.out").open("ab") as out:
            self.process = subprocess.Popen(
                [rabbitmq_script("rabbitmq-server")],
                cwd=self.base_dir,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=parent_death_signal(),
            )
        try:
            wait_for_amqp(self.port, timeout, self.process)
        except (RuntimeError, TimeoutError):
            self.kill()
            raise RuntimeError(f"RabbitMQ node {self.name} did not start; see {self.log_path}") from None

    def stop(self, timeout: float = 60.0) -> None:
        """A clean stop: the start script's SIGTERM handler stops the broker and waits for it."""
        process = self.process
        if self.running and process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_group()

    def kill(self) -> None:
        """A crash: SIGKILL to the script, the VM and its helpers at once."""
        if self.process is not None:
            self._reap_group(signal.SIGKILL)
            self.process.wait()

    def _reap_group(self, sig: int = signal.SIGKILL) -> None:
        # The node's processes share the script's process group (its own session); none may outlive it.
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """``rabbitmqctl -n <node> ...`` with the node's cookie."""
        return subprocess.run(
            [rabbitmq_script("rabbitmqctl"), "-n", self.name, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def start_rabbit_node(base_dir: Path, label: str = "test", port: int | None = None) -> RabbitNode:
    """Start a RabbitMQ node of the caller's own under ``base_dir`` (see :class:`RabbitNode`). The node
    name is unique, so parallel test runs on one machine never share one."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", label)
    node = RabbitNode(base_dir, port or free_port(), free_port(), f"{safe}-{uuid.uuid4().hex[:10]}@localhost")
    node.start()
    return node
