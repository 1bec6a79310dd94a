"""jieba, the Chinese word segmentation that similarity signatures are built from, loaded once per process.

jieba builds its prefix dictionary (some 350,000 words) on first use, which takes seconds, and
keeps it in a cache file (marshal) to load faster the next time. The service loads it once, at
start-up and off the event loop (``load_segmenter`` in the lifespan), never per message; every app
in one process shares the same tokenizer.

Production runs with a read-only root file system. The cache goes to a folder of its own under
``cache_dir`` (default: the system temporary directory, a writable tmpfs in docker-compose and an
``emptyDir`` in Kubernetes), named after the jieba version so an upgrade never reads an old cache.
When no writable directory is there, the dictionary is built in memory and no cache is written:
start-up is a second or two slower, nothing fails.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba

from routing.domain.similarity import Segment

log = logging.getLogger(__name__)

# jieba logs through a handler of its own straight to stderr, at debug level: send its records through
# the service's logging instead, warnings and above only.
jieba.setLogLevel(logging.WARNING)
jieba.default_logger.removeHandler(jieba.log_console)

CACHE_FOLDER = "greenchannel-jieba"

_lock = threading.Lock()
_shared: jieba.Tokenizer | None = None


def writable_cache_folder(cache_dir: Path | None) -> Path | None:
    """The folder jieba's cache goes to under ``cache_dir``, created if need be; None where none can be written."""
    try:
        base = cache_dir if cache_dir is not None else Path(tempfile.gettempdir())
        folder = base / CACHE_FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
    except (OSError, FileNotFoundError):  # gettempdir raises FileNotFoundError when no temporary directory is usable
        return None
    return folder if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) else None


def build_tokenizer(cache_dir: Path | None = None) -> jieba.Tokenizer:
    """A ready jieba tokenizer of the default dictionary, through the cache where one can be kept."""
    tokenizer = jieba.Tokenizer()
    folder = writable_cache_folder(cache_dir)
    if folder is None:
        log.info(
            "no writable folder for jieba's cache under %s: building its dictionary in memory",
            cache_dir or "the temporary directory",
        )
        tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
        tokenizer.initialized = True
        return tokenizer
    tokenizer.tmp_dir = str(folder)  # also keeps jieba from asking for the system temporary directory
    tokenizer.cache_file = str(folder / f"jieba-{jieba.__version__}.cache")
    tokenizer.initialize()
    return tokenizer


def load_segmenter(cache_dir: Path | None = None) -> Segment:
    """The process's segmenter, built on the first call (seconds) and shared afterwards."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = build_tokenizer(cache_dir)
        tokenizer = _shared
    return lambda text: tokenizer.cut(text, HMM=True)


class Segmenter:
    """The segmenter a handler holds from the start; ``load`` (in the lifespan, before any consumer runs) fills it."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._segment: Segment | None = None

    async def load(self) -> None:
        if self._segment is None:
            self._segment = await asyncio.to_thread(load_segmenter, self.cache_dir)

    def __call__(self, text: str) -> Iterable[str]:
        if self._segment is None:
            raise RuntimeError("the segmenter is used before the service loaded it")
        return self._segment(text)
