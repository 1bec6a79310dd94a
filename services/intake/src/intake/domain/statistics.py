"""Complaint statistics kept as counters: what one case adds to each aggregate, and the figures
read back from summed counters.

A case contributes a fixed set of counters to a few rollups (by filing month and category, by period and
company, by filing month and province), each split by whether the case is published. When a case changes,
the difference between what it contributed before and after is applied with ``$inc`` in the same
transaction, so every figure follows the case file and a repeated event (skipped by the inbox) counts
nothing twice. Handling times are kept as a histogram of working days, so a median comes from counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
RELIEF = frozenset({"monetary_relief", "non_monetary_relief"})
UNSCREENED = frozenset({"submitted", "under_review"})
NOT_ACCEPTED = frozenset({"submitted", "under_review", "rejected"})
# The rollups and the dimensions of their keys (the document id is the key's values joined, then "p" for
# published cases or "a" for the others): every read is one range or a few ids of the primary key.
ROLLUPS: dict[str, tuple[str, ...]] = {
    "category": ("month", "category"),
    "company": ("month", "company_id"),
    "company_year": ("year", "company_id"),
    "region": ("month", "province"),
    "publication_day": ("day",),  # published cases only, by the day they became public
}
COUNTERS = (
    "received",
    "accepted",
    "rejected",
    "answered",
    "timely",
    "relief",
    "rating_sum",
    "rating_count",
    "appealed",
)
UNKNOWN = "unknown"


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def first_answer(case: Mapping[str, Any]) -> dict[str, Any] | None:
    """The company's first answer: what timeliness and handling time are about (a later answer after an
    appeal is the mediation's, not the original handling)."""
    earlier = case.get("responses") or []
    return earlier[0] if earlier else case.get("response")


def counters(case: Mapping[str, Any]) -> dict[str, int]:
    """The counters one case adds to every rollup it falls in; a case not screened yet adds nothing."""
    status = case["status"]
    if status in UNSCREENED:
        return {}
    counts: dict[str, int] = {"received": 1}
    if status == "rejected":
        counts["rejected"] = 1
        counts[f"rejected_by_reason.{field_name((case.get('rejection') or {}).get('reason'))}"] = 1
    if status not in NOT_ACCEPTED:
        counts["accepted"] = 1
    answer = first_answer(case)
    if answer is not None:
        counts["answered"] = 1
        counts["timely"] = 1 if answer.get("timely") else 0
        counts["relief"] = 1 if (case.get("response") or answer).get("type") in RELIEF else 0
        if case.get("handling_days") is not None:
            counts[f"handling.{int(case['handling_days'])}"] = 1
    if case.get("rating"):
        counts["rating_sum"] = int(case["rating"]["rating"])
        counts["rating_count"] = 1
    if case.get("appeal"):
        counts["appealed"] = 1
    return {key: value for key, value in counts.items() if value}


def field_name(value: Any) -> str:
    """A code safe as a MongoDB field name (no dots, no leading dollar)."""
    text = str(value or UNKNOWN)
    return text.replace(".", "_").replace("$", "_") or UNKNOWN


def keys(case: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The documents of each rollup a case falls in: their key fields (published flag included)."""
    filed = china_day(case["submitted_at"])
    month, company = f"{filed:%Y-%m}", case.get("company_id") or UNKNOWN
    published = bool(case.get("published_at"))
    found = {
        "category": [{"month": month, "category": case.get("category") or UNKNOWN, "published": published}],
        "company": [{"month": month, "company_id": company, "published": published}],
        "company_year": [{"year": f"{filed:%Y}", "company_id": company, "published": published}],
        "region": [{"month": month, "province": case.get("region_code") or UNKNOWN, "published": published}],
    }
    if published:
        found["publication_day"] = [{"day": china_day(case["published_at"]).isoformat(), "published": True}]
    return found


def document_id(rollup: str, key: Mapping[str, Any]) -> str:
    return "|".join([*(str(key[dimension]) for dimension in ROLLUPS[rollup]), "p" if key["published"] else "a"])


Delta = dict[str, dict[str, tuple[dict[str, Any], dict[str, int]]]]


def contributions(case: Mapping[str, Any] | None) -> Delta:
    """rollup -> document id -> (key fields, counters) for one case (nothing for None or an unscreened case)."""
    if case is None:
        return {}
    counts = counters(case)
    if not counts:
        return {}
    return {
        rollup: {document_id(rollup, key): (key, counts) for key in rollup_keys}
        for rollup, rollup_keys in keys(case).items()
    }


def delta(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Delta:
    """What to ``$inc`` so the rollups move from counting ``before`` to counting ``after``; no zeros."""
    old, new = contributions(before), contributions(after)
    changes: Delta = {}
    for rollup in ROLLUPS:
        documents: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
        for doc_id in {*old.get(rollup, {}), *new.get(rollup, {})}:
            # A document is in one of the two at least, so one of the keys is not empty.
            key, added = new.get(rollup, {}).get(doc_id, ({}, {}))
            old_key, removed = old.get(rollup, {}).get(doc_id, ({}, {}))
            change = Counter(added)
            change.subtract(removed)
            increments = {field: value for field, value in change.items() if value}
            if increments:
                documents[doc_id] = (key or old_key, increments)
        if documents:
            changes[rollup] = documents
    return changes


def add(total: dict[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """Sum the counters of a rollup document into ``total`` (nested maps: reasons, the histogram)."""
    for field in COUNTERS:
        total[field] = total.get(field, 0) + int(document.get(field, 0))
    for nested in ("rejected_by_reason", "handling"):
        into = total.setdefault(nested, {})
        for key, value in (document.get(nested) or {}).items():
            into[key] = into.get(key, 0) + int(value)
    return total


def median_of_histogram(histogram: Mapping[str, int]) -> float | None:
    """The median of values given as value -> count; the mean of the two middle values for an even count."""
    items = sorted((int(value), count) for value, count in histogram.items() if count > 0)
    total = sum(count for _, count in items)
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]  # zero-based positions of the middle value(s)
    found: list[int] = []
    seen = 0
    for value, count in items:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return sum(found) / len(found)


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def figures(total: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's Figures from summed counters."""
    answered = int(total.get("answered", 0))
    return {
        "received": int(total.get("received", 0)),
        "accepted": int(total.get("accepted", 0)),
        "rejected": int(total.get("rejected", 0)),
        "rejected_by_reason": dict(sorted((total.get("rejected_by_reason") or {}).items())),
        "answered": answered,
        "timely_rate": rate(int(total.get("timely", 0)), answered),
        "relief_rate": rate(int(total.get("relief", 0)), answered),
        "satisfaction": rate(int(total.get("rating_sum", 0)), int(total.get("rating_count", 0))),
        "appeal_rate": rate(int(total.get("appealed", 0)), answered),
        "median_handling_days": median_of_histogram(total.get("handling") or {}),
    }


def bases(total: Mapping[str, Any]) -> dict[str, int]:
    """The counts behind satisfaction and the median (ratings, handled cases): what disclosure control checks."""
    return {
        "rated": int(total.get("rating_count", 0)),
        "handled": sum(int(count) for count in (total.get("handling") or {}).values()),
    }


def scorecard(total: Mapping[str, Any], user_base_millions: float | None) -> dict[str, Any]:
    """A company's scorecard figures; volume is the complaints accepted against it."""
    numbers = figures(total)
    volume = numbers["accepted"]
    user_base = round(user_base_millions * 1_000_000) if user_base_millions else None
    return {
        "volume": volume,
        "timely_rate": numbers["timely_rate"],
        "relief_rate": numbers["relief_rate"],
        "average_rating": numbers["satisfaction"],
        "appeal_rate": numbers["appeal_rate"],
        "user_base": user_base,
        "per_million_users": volume / user_base_millions if user_base_millions else None,
    }


# Ranking order: fewer complaints per user, more timely answers, more relief, better ratings, fewer appeals
# rank first; a company without the figure ranks last.
ASCENDING_IS_BETTER = {
    "per_million_users": True,
    "volume": True,
    "timely_rate": False,
    "relief_rate": False,
    "average_rating": False,
    "appeal_rate": True,
}


def ranked(cards: Iterable[dict[str, Any]], order_by: str) -> list[dict[str, Any]]:
    ascending = ASCENDING_IS_BETTER[order_by]

    def order(card: dict[str, Any]) -> tuple[bool, float, str]:
        value = card[order_by]
        return (value is None, (value if ascending else -value) if value is not None else 0, card["company_id"])

    return [{"rank": place, **card} for place, card in enumerate(sorted(cards, key=order), start=1)]


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def last_twelve_months(today: date) -> tuple[str, str]:
    start = date(today.year - 1, today.month, 1) + timedelta(days=31)
    return f"{start:%Y-%m}", f"{today:%Y-%m}"


def period_range(period: str | None, today: date) -> tuple[str, str, str, str]:
    """A scorecard period (``YYYY``, ``YYYY-MM`` or None for the last twelve months): its label, the rollup
    to read (a year is one document per company) and the first and last key of that rollup."""
    if period is None:
        first, last = last_twelve_months(today)
        return f"{first}..{last}", "company", first, last
    return period, "company_year" if len(period) == 4 else "company", period, period


# Province-level divisions (GB/T 2260, the first two digits of an ID number): the labels of statistics by region.
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"),
    "12": ("天津市", "Tianjin"),
    "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"),
    "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"),
    "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"),
    "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"),
    "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Tibet"),
    "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"),
    "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"),
    "82": ("澳门特别行政区", "Macao"),
}
