"""Screening's similarity work against a company that already holds many complaints: what one screening costs.

Fills one company's ``signatures`` in SecantusDB with ``--complaints`` accepted complaints, a few of
them filed from one template (a collective complaint) and the rest about the same topic but each in
its own words: word sequences drawn from the vocabulary of auto-renewal complaints with their own
amounts and dates, so that they share the words but hardly any word pairs, as independently written
complaints do (0.00-0.09 on the corpus of the tests). Then measures, for new complaints:

* ``signature_ms``: segmenting (jieba) and hashing (MinHash, 128 permutations) one complaint's text;
* ``duplicate_query_ms``: the complainant's own earlier complaints against the company;
* ``candidate_query_ms`` and ``candidates_read``: the LSH query (company, 42 band keys, window) and how
  many documents it reads, for a complaint of the same topic and for one of a templated collective
  complaint whose other members are stored;
* ``baseline_find_ms``: one signature found by its ``_id`` in the same collection, the cheapest
  indexed read there is.

Query times are also given as ratios to the baseline. Prints one JSON document.

    python -m bench.similarity [--complaints 3000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import run_and_print

COMPANY = "c-haina"
NOW = datetime(2026, 6, 10, tzinfo=UTC)

OPENINGS = [
    "我于{m}月{d}日开通了{p}会员",
    "{m}月{d}日我在APP上购买了{p}",
    "去年{m}月参加活动开通了{p}试用",
    "我一直使用{p}，{m}月份开通了连续包月",
    "{m}月{d}日手机收到扣款通知才知道开通了{p}",
    "给孩子开通的{p}在{m}月到期",
    "{m}月初朋友推荐我办理了{p}",
    "{m}月{d}日在小程序里领了{p}体验卡",
]
CHARGES = [
    "平台未经提醒从微信支付扣款{a}元",
    "支付宝被自动扣了{a}元",
    "银行卡被连续扣费{a}元",
    "到期后直接续费扣款{a}元",
    "试用结束后按年费扣了{a}元",
    "话费里被扣除{a}元增值服务费",
    "一次性扣了{a}元的季度费用",
    "每个月都被扣{a}元直到我发现",
]
DETAILS = [
    "页面上自动续费的字样非常小",
    "开通时根本没有勾选自动续费",
    "我已经在设置里关闭了续费功能",
    "扣款前没有收到任何短信提醒",
    "客服说是系统默认勾选",
    "我的账号已经很久没有登录",
    "开通页面的协议需要点开才能看到",
    "扣款的账号不是我本人常用的账号",
]
SERVICE = [
    "联系在线客服要求退款被拒绝",
    "打了三次客服电话都没有结果",
    "客服只同意退一半",
    "客服让我等待七个工作日后就没有下文",
    "申请退款后一直显示审核中",
    "客服称已超过退款期限",
    "客服要求我提供很多截图后仍不处理",
    "在线客服一直是机器人回复",
]
ASKS = [
    "要求退还{a}元并关闭自动续费",
    "请平台全额退款",
    "希望平台说明扣费依据并退款",
    "要求平台赔偿并道歉",
    "请求退还多扣的费用",
    "要求取消会员并退回未使用部分的费用",
]
PRODUCTS = ["视频会员", "音乐会员", "网盘会员", "阅读会员", "游戏月卡", "外卖会员", "健身课程", "学习卡"]
TEMPLATE = (
    "海纳学堂停止服务拒不退还预付学费",
    (
        "本人于{y}年{m}月{d}日在海纳学堂平台充值{a}元购买年度学习卡。2026年5月平台突然发布公告称停止服务，"
        "账户余额无法使用也无法提现，客服电话一直无人接听，官方公众号也停止更新。平台收取大量用户预付款后不提供"
        "服务，要求平台退还剩余学费{r}元。"
    ),
)


def vocabulary(segment) -> list[str]:
    """The words of every sentence above, as jieba segments them."""
    fill = {"m": 5, "d": 20, "a": 25, "p": "会员"}
    sentences = [part.format(**fill) for pool in (OPENINGS, CHARGES, DETAILS, SERVICE, ASKS) for part in pool]
    return [word for sentence in sentences for word in segment(sentence) if word.strip()] + PRODUCTS


def same_topic(rng: random.Random, words: list[str]) -> tuple[str, str]:
    """A complaint about auto-renewal in its own words: 60 words of the topic's vocabulary, with its own figures."""
    drawn = [rng.choice(words) for _ in range(60)]
    for _ in range(4):
        drawn.insert(
            rng.randrange(len(drawn)), f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日扣了{rng.randint(10, 300)}元"
        )
    return f"{rng.choice(PRODUCTS)}自动续费扣款", "".join(drawn)


def templated(rng: random.Random) -> tuple[str, str]:
    amount = rng.randint(10, 60) * 100
    return TEMPLATE[0], TEMPLATE[1].format(
        y=rng.choice([2025, 2026]),
        m=rng.randint(1, 12),
        d=rng.randint(1, 28),
        a=amount,
        r=amount - rng.randint(1, 9) * 100,
    )


def timed(samples: list[float], start: float) -> None:
    samples.append((time.perf_counter() - start) * 1000)


def p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


async def measure(workdir: Path, complaints: int, queries: int) -> dict:
    from devstack import standins
    from greenchannel.migrations import Migrations, discover
    from greenchannel.mongo import in_transaction, make_client
    from routing import migrations
    from routing.adapters.segmenter import load_segmenter
    from routing.adapters.similarity import SignatureRecord, SimilarityRepository
    from routing.config import Settings
    from routing.domain.similarity import Signature, complaint_text

    rng = random.Random(7)
    segment = load_segmenter()
    words = vocabulary(segment)
    server = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    client = make_client(standins.mongo_url(server.port), "bench-similarity")
    try:
        repository = SimilarityRepository(client["bench"])
        # routing's migrations: its indexes.
        await Migrations(
            client["bench"], discover(migrations.__name__), Settings(mongo_url="mongodb://unused")
        ).migrate(wait_s=60)
        signing: list[float] = []

        def sign(text: tuple[str, str]) -> Signature:
            start = time.perf_counter()
            made = Signature.of_text(complaint_text(*text), segment)
            timed(signing, start)
            assert made is not None
            return made

        filled_at = time.perf_counter()
        members = max(complaints // 200, 5)
        documents = []
        for index in range(complaints):
            text = templated(rng) if index < members else same_topic(rng, words)
            record = SignatureRecord(
                number=f"GC-{index:08d}",
                company_id=COMPANY,
                complainant_key=f"k{index}",
                submitted_at=NOW - timedelta(minutes=index),
                screened_at=NOW,
                signature=sign(text),
            )
            documents.append(
                {
                    "_id": record.number,
                    "company_id": COMPANY,
                    "complainant_key": record.complainant_key,
                    "submitted_at": record.submitted_at,
                    "screened_at": NOW,
                    "signature": record.signature.to_bytes(),
                    "bands": record.signature.band_keys(),
                    "cluster_id": None,
                }
            )
        for offset in range(0, len(documents), 1000):
            await repository.signatures.insert_many(documents[offset : offset + 1000])
        fill_s = time.perf_counter() - filled_at

        found: list[float] = []
        duplicates: list[float] = []
        topic: list[float] = []
        collective: list[float] = []
        topic_read: list[int] = []
        collective_read: list[int] = []
        since = NOW - timedelta(days=30)

        async def reads(session) -> None:
            for query in range(queries):
                number = f"GC-{rng.randrange(complaints):08d}"
                start = time.perf_counter()
                await repository.signatures.find_one({"_id": number}, session=session)
                timed(found, start)
                start = time.perf_counter()
                await repository.earlier_of_complainant(f"k{query}", COMPANY, since, session)
                timed(duplicates, start)
                for text, samples, read in (
                    (same_topic(rng, words), topic, topic_read),
                    (templated(rng), collective, collective_read),
                ):
                    signature = sign(text)
                    start = time.perf_counter()
                    candidates = await repository.cluster_candidates(
                        COMPANY, signature.band_keys(), since, "new", session
                    )
                    timed(samples, start)
                    read.append(len(candidates))

        await in_transaction(client, reads)
        baseline = p50(found)
        return {
            "benchmark": "similarity",
            "complaints_of_the_company": complaints,
            "templated_members_stored": members,
            "fill_s": round(fill_s, 1),
            "signature_ms": p50(signing),
            "baseline_find_ms": baseline,
            "duplicate_query_ms": p50(duplicates),
            "candidate_query_ms": {"same_topic": p50(topic), "templated": p50(collective)},
            "ratio_to_baseline": {
                "duplicate_query": round(p50(duplicates) / baseline, 2),
                "candidate_query_same_topic": round(p50(topic) / baseline, 2),
                "candidate_query_templated": round(p50(collective) / baseline, 2),
            },
            "candidates_read": {
                "same_topic_mean": round(statistics.fmean(topic_read), 2),
                "same_topic_max": max(topic_read),
                "templated_mean": round(statistics.fmean(collective_read), 2),
                "templated_max": max(collective_read),
            },
        }
    finally:
        await client.close()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    return run_and_print(lambda workdir: measure(workdir, args.complaints, args.queries), "gc-bench-similarity-")


if __name__ == "__main__":
    sys.exit(main())
