"""Run the whole platform locally without Docker: ``python -m devstack.run`` (what ``make run`` calls).

Makes sure RabbitMQ answers (starting the machine's rabbitmq-server if it is installed but
stopped), starts SecantusDB and nanio with their data under ``.devdata/`` (kept between runs),
starts the four services and a development webhook receiver standing in for every company,
registers that receiver as each directory company's endpoint, and prints the URLs. Ctrl-C stops
everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn

from devstack import standins
from devstack.processes import server_command
from devstack.receiver import WebhookReceiver

DEV_WEBHOOK_SECRET = "whsec_Z3JlZW5jaGFubmVsLWRldi13ZWJob29rLXNlY3JldCE="
OPERATOR_TOKEN = "dev-operator-token"
ADMIN_TOKEN = "dev-admin-token"
INTERNAL_TOKEN = "dev-internal-token"
SERVICES = {"intake": 8000, "evidence": 8001, "routing": 8002, "notification": 8003}
# Each service's internal listener (/internal/*, /metrics), on loopback only.
INTERNAL_PORTS = {"intake": 8100, "evidence": 8101, "routing": 8102, "notification": 8103}
RECEIVER_PORT = 8009


def service_env(name: str, mongo: str, s3: str, amqp_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MONGO_URL": mongo,
        "MONGO_DB": name,
        "AMQP_URL": amqp_url,
        "OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "LOG_JSON": "false",
        "OTEL_SERVICE_NAME": name,
        "INTERNAL_HOST": "127.0.0.1",
        "INTERNAL_PORT": str(INTERNAL_PORTS[name]),
        # The published tokens and keys above and the services' defaults: development, never production.
        "GREENCHANNEL_ENV": "development",
    }
    urls = {svc: f"http://127.0.0.1:{port}" for svc, port in SERVICES.items()}
    if name == "intake":
        env.update(
            EVIDENCE_URL=urls["evidence"],
            ROUTING_URL=urls["routing"],
            NOTIFICATION_URL=urls["notification"],
            PUBLIC_BASE_URL=urls["intake"],
            # nanio answers CORS here (devstack.nanio_cors): large files go from the browser straight to it.
            STORAGE_PUBLIC_ORIGIN=f"http://{s3}",
        )
    if name == "evidence":
        env.update(S3_ENDPOINT=s3, S3_ACCESS_KEY=standins.S3_ACCESS_KEY, S3_SECRET_KEY=standins.S3_SECRET_KEY)
    if name == "notification":
        # The development receiver listens on loopback over plain http, which production refuses.
        env.update(WEBHOOK_ALLOW_PRIVATE_TARGETS="true", INTAKE_URL=f"http://127.0.0.1:{INTERNAL_PORTS['intake']}")
    return env


def start_service(name: str, port: int, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log_file = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        server_command(name, port=port),
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(name: str, port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see its log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{name} is not ready after {timeout:.0f} s")


def register_dev_endpoints() -> int:
    routing, notification = (f"http://127.0.0.1:{SERVICES[name]}" for name in ("routing", "notification"))
    companies = httpx.get(f"{routing}/v1/companies", params={"limit": 100}, timeout=10).json()
    items = companies["items"] if isinstance(companies, dict) else companies
    for company in items:
        httpx.put(
            f"{notification}/v1/companies/{company['id']}/webhook-endpoint",
            json={"url": f"http://127.0.0.1:{RECEIVER_PORT}/webhooks/{company['id']}", "secret": DEV_WEBHOOK_SECRET},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        ).raise_for_status()
    return len(items)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (a supervisor, ``timeout``, ``kill``) stops everything like Ctrl-C: the ``finally`` below runs."""
    raise KeyboardInterrupt


def main() -> int:
    # uvicorn gives a signal back to the previous handler once it has shut down; by default SIGTERM would then
    # end the process on the spot and leave the services and stand-ins running.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=".devdata", help="where SecantusDB and nanio keep their data")
    parser.add_argument("--mongo-port", type=int, default=27017)
    parser.add_argument("--s3-port", type=int, default=9000)
    args = parser.parse_args()

    data = Path(args.data_dir).resolve()
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    rabbit = standins.ensure_rabbitmq(amqp_url)
    if not rabbit.reachable:
        print(f"error: {rabbit.message}", file=sys.stderr)
        return 2
    if rabbit.started:
        print("started the local rabbitmq-server")

    started: list = []
    try:
        mongo = standins.start_secantus(data / "secantus", port=args.mongo_port, log_dir=logs)
        started.append(mongo)
        s3 = standins.start_nanio(data / "nanio", port=args.s3_port, log_dir=logs)
        started.append(s3)
        mongo_url, s3_endpoint = standins.mongo_url(mongo.port), f"127.0.0.1:{s3.port}"
        processes = {}
        for name, port in SERVICES.items():
            processes[name] = start_service(name, port, service_env(name, mongo_url, s3_endpoint, amqp_url), logs)
            started.append(processes[name])
        for name, port in SERVICES.items():
            wait_ready(name, port, processes[name])
        count = register_dev_endpoints()
        print_urls(mongo_url, s3_endpoint, amqp_url, logs, count)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        receiver = WebhookReceiver(DEV_WEBHOOK_SECRET)
        server = uvicorn.Server(
            uvicorn.Config(receiver.app(), host="127.0.0.1", port=RECEIVER_PORT, log_level="warning")
        )
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...")
        for item in reversed(started):
            if isinstance(item, subprocess.Popen):
                if item.poll() is None:
                    item.send_signal(signal.SIGTERM)
                    try:
                        item.wait(15)
                    except subprocess.TimeoutExpired:
                        os.killpg(item.pid, signal.SIGKILL)  # its own session: the server's worker goes too
            else:
                item.stop()
    return 0


def print_urls(mongo_url: str, s3_endpoint: str, amqp_url: str, logs: Path, companies: int) -> None:
    print("\nThe complaint platform is running (Ctrl-C stops everything):\n")
    for name, port in SERVICES.items():
        print(
            f"  {name:<13} http://127.0.0.1:{port}        API docs: http://127.0.0.1:{port}/docs"
            f"   internal: http://127.0.0.1:{INTERNAL_PORTS[name]}/metrics"
        )
    print(
        f"  webhooks      http://127.0.0.1:{RECEIVER_PORT}/webhooks/<company>   (development receiver for {companies} companies;"
        " deliveries are printed here)"
    )
    print(
        f"\n  MongoDB (SecantusDB) {mongo_url}\n  S3 (nanio)           http://{s3_endpoint}\n  RabbitMQ             {amqp_url}"
    )
    print(f"  service logs         {logs}\n")
    print(f"Web client (Simplified Chinese, English at ?lang=en): http://127.0.0.1:{SERVICES['intake']}/\n")
    print(
        f"Operator console (运营后台): http://127.0.0.1:{SERVICES['intake']}/ops/ "
        "(admin / development-only-admin-password; an admin enrols an authenticator at the first sign-in)\n"
    )
    print(
        "File a complaint:\n  curl -s -X POST http://127.0.0.1:8000/v1/complaints -H 'Content-Type: application/json' \\\n"
        "    -H 'Idempotency-Key: demo-1' -d @docs/examples/complaint.json\n",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
