"""What every benchmark shares: a scratch folder for its stand-ins, and one JSON document on stdout."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def run_and_print(
    measure: Callable[[Path], Coroutine[Any, Any, dict[str, Any]]], prefix: str, scratch_root: str | None = None
) -> int:
    """Run ``measure(workdir)`` in a fresh scratch folder (removed afterwards) and print its result as JSON."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_root))
    try:
        result = asyncio.run(measure(workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0
