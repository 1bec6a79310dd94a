"""Cost of scrubbing published text: intake's ``scrub`` on complaint-like rows against two baselines in the
same run, the scrubber as it was before it read a normalised copy (``bench.baseline_scrubber``: the cost per
published record before and after) and one NFKC normalisation of the same rows (the least any pass over the
text costs); the slowest hostile rows (5,000 characters, the longest description a complaint may have); and
how many of the disguised personal details each scrubber lets through. Prints one JSON document.

    python -m bench.scrubbing [--rows 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import unicodedata
from collections.abc import Callable

from bench.baseline_scrubber import scrub as baseline_scrub
from intake.domain.scrubbing import fold, scrub

PLAIN = [
    "会员到期前未收到任何提醒即被扣费",
    "客服多次推诿，要求退款被拒绝",
    "2026年10月20日14:30下单，实付¥1,280.00",
    "订单号2026102012345678，快递单号SF1234567890123",
    "拨打客服电话400-820-8820无人接听",
    "App版本8.0.48，已截图留证",
]
PERSONAL = [
    "本人张三，手机138 0013 8000",
    "身份证11010519491231002X",
    "邮箱zhang.san@example.com",
    "卡号6222 0212 3456 7894",
    "座机(0755)12345678转123",
    "张先生的QQ号：123456789",
]
# Personal details as people disguise them, with what must not survive (digits, or the letters of an address).
DISGUISED = {
    "幺三八 零零幺三 八零零零": "13800138000",
    "１３８－００１３－８０００": "13800138000",
    "138\u00ad0013\u20608000": "13800138000",
    "138，0013，8000": "13800138000",
    "①③⑧⓪⓪①③⑧⓪⓪⓪": "13800138000",
    "壹叁捌零零壹叁捌零零零": "13800138000",
    "一一零一零五 一九四九一二三一 零零二X": "11010519491231002X",
    "6222/0212/3456/7894": "6222021234567894",
    "zhangsan at qq.com": "zhangsan",
    "zhangsan(at)163(dot)com": "zhangsan",
    "香港身份证A123456(3)": "123456",
    "护照E12345678": "12345678",
    "车牌粤B·12345": "12345",
    "住建国路88号3栋2单元501室": "501",
}
PERSONAL.extend(DISGUISED)
HOSTILE = {
    "digits_spaced": "1 " * 2500,
    "letters": "a" * 5000,
    "x_groups": "1X " * 1666,
    "at_signs": "a@" * 2500,
    "chinese_with_name": "张三的" * 1666,
    "spelled_email": "a at b dot " * 500,
}


def complaint_rows(count: int, seed: int = 7) -> list[str]:
    """Descriptions of 100-600 characters, about one in three sentences holding personal data."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        sentences = [rng.choice(PERSONAL if rng.random() < 0.3 else PLAIN) for _ in range(rng.randint(6, 30))]
        rows.append("，".join(sentences) + "。")
    return rows


def per_row_us(rows: list[str], work: Callable[[str], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for row in rows:
            work(row)
        best = min(best, time.perf_counter() - started)
    return best / len(rows) * 1e6


def surviving(scrubber: Callable[..., str]) -> int:
    """How many of the disguised details a reader can still make out after ``scrubber``."""
    return sum(secret in fold(scrubber(text)).replace(" ", "") for text, secret in DISGUISED.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    rows = complaint_rows(args.rows)
    scrub(rows[0], names=["张三"])  # loads jieba's dictionary once, outside the measurement
    baseline = per_row_us(rows, lambda row: unicodedata.normalize("NFKC", row))
    before = per_row_us(rows, lambda row: baseline_scrub(row, names=["张三"]))
    scrubbed = per_row_us(rows, lambda row: scrub(row, names=["张三"]))
    hostile = {
        name: round(per_row_us([text], lambda row: scrub(row, names=["张三"])) / 1000, 2)
        for name, text in HOSTILE.items()
    }
    result = {
        "rows": len(rows),
        "mean_chars_per_row": round(sum(map(len, rows)) / len(rows)),
        "baseline_nfkc_us_per_row": round(baseline, 1),
        "before_scrub_us_per_row": round(before, 1),
        "scrub_us_per_row": round(scrubbed, 1),
        "scrub_rows_per_s": round(1e6 / scrubbed),
        "ratio_to_before": round(scrubbed / before, 2),
        "ratio_to_baseline": round(scrubbed / baseline, 1),
        "disguised_details": len(DISGUISED),
        "disguised_surviving_before": surviving(baseline_scrub),
        "disguised_surviving_after": surviving(scrub),
        "hostile_5000_chars_ms": hostile,
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
