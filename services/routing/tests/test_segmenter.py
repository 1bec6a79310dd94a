"""jieba's loading: its dictionary cache in a folder of its own where one can be written, in memory where not
(a read-only root file system), the same words either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.adapters.segmenter import CACHE_FOLDER, build_tokenizer, load_segmenter

pytestmark = pytest.mark.integration


def test_jieba_keeps_its_cache_in_a_writable_folder_and_builds_in_memory_without_one(tmp_path: Path):
    writable = build_tokenizer(tmp_path)
    assert list((tmp_path / CACHE_FOLDER).glob("jieba-*.cache"))
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    in_memory = build_tokenizer(not_a_folder)
    assert in_memory.initialized
    assert len(list(tmp_path.glob("**/*.cache"))) == 1, "the in-memory build wrote no cache"
    text = "会员到期自动续费未提醒"
    assert in_memory.lcut(text) == writable.lcut(text) == list(load_segmenter()(text))
