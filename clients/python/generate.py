"""Generates the typed Python client of the company API (``company-client/``) from intake's OpenAPI document.

The document is the one intake serves at ``/openapi.json`` (``create_app().openapi()``), filtered to the
operations tagged ``company`` and the components they use; openapi-python-client (dependency group ``client``)
writes the client from it. ``make client`` runs this; tests/e2e/test_company_client.py runs it into a scratch
folder and compares, so the checked-in client cannot drift from the API.

    python clients/python/generate.py [OUTPUT]   # OUTPUT defaults to clients/python/company-client
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "company-client"
CONFIG = HERE / "config.yaml"
TAG = "company"


def intake_openapi() -> dict[str, Any]:
    # The schema does not depend on secrets or the stand-ins: development settings build the app without them.
    os.environ.setdefault("GREENCHANNEL_ENV", "development")
    from intake.main import create_app

    return create_app().openapi()


def references(node: Any) -> set[str]:
    """The component names ``node`` refers to (``#/components/schemas/<name>``), directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def company_api(document: dict[str, Any]) -> dict[str, Any]:
    """The operations tagged ``company``, with the schemas and security schemes they use and nothing else."""
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        operations = {method: op for method, op in item.items() if TAG in op.get("tags", ())}
        if operations:
            paths[path] = operations
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    wanted: set[str] = set()
    pending = references(paths)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending |= references(schemas[name]) - wanted
    schemes = {
        name for item in paths.values() for op in item.values() for entry in op.get("security", ()) for name in entry
    }
    return {
        "openapi": document["openapi"],
        "info": {**document["info"], "title": "Green Channel company API"},
        "paths": paths,
        "components": {
            "schemas": {name: schemas[name] for name in sorted(wanted)},
            "securitySchemes": {name: components["securitySchemes"][name] for name in sorted(schemes)},
        },
    }


def generate(output: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        spec = Path(scratch) / "company-api.json"
        spec.write_text(json.dumps(company_api(intake_openapi()), ensure_ascii=False, indent=2), encoding="utf-8")
        # The generator's post-hooks run ruff from PATH: the one of this environment (pinned in group `lint`), with the
        # settings of the generated project's own pyproject.toml.
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "openapi_python_client",
                "generate",
                "--path",
                str(spec),
                "--config",
                str(CONFIG),
                "--meta",
                "uv",
                "--output-path",
                str(output),
                "--overwrite",
                "--fail-on-warning",
            ],
            check=True,
            env=env,
        )
    # What the post-hooks' ruff left behind (its cache) is no part of the client.
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else CLIENT)
