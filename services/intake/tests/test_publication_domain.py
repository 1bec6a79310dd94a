"""The pure rules of publication and statistics: when a case is published, what its public record shows,
what it counts in the rollups, and the figures read back from counters."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from intake.domain import publication, statistics

FILED = datetime(2026, 10, 9, 20, 0, tzinfo=UTC)  # 2026-10-10 04:00 in China: a day later there
ANSWERED = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)


def case(**changes):
    base = {
        "_id": "GC-20261010-000001",
        "status": "forwarded",
        "submitted_at": FILED,
        "category": "refund",
        "company_id": "c-a",
        "company_name": "甲公司",
        "region_code": "44",
        "publication_consent": True,
        "title": "退款被拒",
        "description": "我叫张三，电话13812345678，退款申请被拒绝。",
        "round": 1,
        "timeline": [{"action": "forward", "at": datetime(2026, 10, 11, 1, 0, tzinfo=UTC)}],
    }
    return {**base, **changes}


def answered(**changes):
    return case(
        **{
            "status": "responded",
            "response": {
                "type": "monetary_relief",
                "text": "已联系张三先生退款，电话13812345678。",
                "at": ANSWERED,
                "timely": True,
            },
            **changes,
        }
    )


def test_the_answer_publishes_once_and_never_a_rejected_or_unscreened_case():
    assert publication.due_on_answer(case(), answered())
    assert not publication.due_on_answer(answered(), answered(rating={"rating": 4}, status="closed"))
    assert not publication.due_on_answer(case(), answered(published_at=ANSWERED))
    assert publication.due_unanswered(case()) and publication.due_unanswered(case(status="info_requested"))
    for status in ("submitted", "rejected", "withdrawn", "closed", "responded"):
        assert not publication.due_unanswered(case(status=status))
    assert not publication.due_unanswered(case(published_at=ANSWERED))


def test_the_public_record_has_text_only_with_consent_and_scrubbed():
    record = publication.public_record(answered(published_at=ANSWERED), "张三")
    assert record["narrative"].startswith("退款被拒\n") and "13812345678" not in record["narrative"]
    assert (
        "张三" not in record["narrative"] and "张三" not in record["answer"] and "13812345678" not in record["answer"]
    )
    assert (record["filed_on"], record["forwarded_on"], record["responded_on"], record["published_on"]) == (
        "2026-10-10",
        "2026-10-11",
        "2026-10-15",
        "2026-10-15",
    )
    assert record["order_key"] == "2026-10-15|GC-20261010-000001"
    assert (record["response_type"], record["timely"], record["narrative_public"]) == ("monetary_relief", True, True)
    assert "region_code" not in record and "complainant" not in record and "44" not in record.values()
    without = publication.public_record(answered(published_at=ANSWERED, publication_consent=False), None)
    assert without["narrative"] is None and without["answer"] is None and without["narrative_public"] is False


def test_appeal_outcome_follows_the_appeal():
    assert publication.appeal_outcome(answered()) is None
    assert publication.appeal_outcome(answered(appeal={"reason": "x"}, status="appealed")) == "pending"
    assert publication.appeal_outcome(answered(appeal={"reason": "x"}, round=2)) == "reforwarded"
    assert publication.appeal_outcome(answered(appeal={"reason": "x"}, closure={"outcome": "resolved"})) == "resolved"


def test_counters_of_a_case():
    assert statistics.counters(case(status="submitted")) == {}
    assert statistics.counters(case(status="rejected", rejection={"reason": "dup.licate"})) == {
        "received": 1,
        "rejected": 1,
        "rejected_by_reason.dup_licate": 1,
    }
    assert statistics.counters(answered(handling_days=3, rating={"rating": 4}, appeal={"reason": "x"})) == {
        "received": 1,
        "accepted": 1,
        "answered": 1,
        "timely": 1,
        "relief": 1,
        "handling.3": 1,
        "rating_sum": 4,
        "rating_count": 1,
        "appealed": 1,
    }


def test_an_unsatisfied_rating_then_an_appeal_and_a_closing_count_the_rating_once():
    answer = answered(published_at=ANSWERED)
    rated = {**answer, "rating": {"rating": 2}}
    appealed = {**rated, "status": "appealed", "appeal": {"reason": "x"}}
    closed = {**appealed, "status": "closed", "closure": {"outcome": "mediated_settled"}}

    def increments(before, after):
        return [counts for documents in statistics.delta(before, after).values() for _, counts in documents.values()]

    assert increments(answer, rated) and all(
        counts == {"rating_sum": 2, "rating_count": 1} for counts in increments(answer, rated)
    )
    assert all(counts == {"appealed": 1} for counts in increments(rated, appealed))
    assert increments(appealed, closed) == []
    assert publication.public_record(rated, None)["status"] == "responded"
    assert publication.public_record(closed, None)["rating"] == 2


def test_the_delta_moves_a_case_between_published_and_unpublished_buckets():
    before, after = case(), answered(published_at=ANSWERED)
    changes = statistics.delta(before, after)
    by_category = changes["category"]
    assert by_category["2026-10|refund|a"][1] == {"received": -1, "accepted": -1}
    assert by_category["2026-10|refund|p"][1] == {"received": 1, "accepted": 1, "answered": 1, "timely": 1, "relief": 1}
    assert set(changes["company"]) == {"2026-10|c-a|a", "2026-10|c-a|p"}
    assert set(changes["company_year"]) == {"2026|c-a|a", "2026|c-a|p"}
    assert set(changes["publication_day"]) == {"2026-10-15|p"}
    assert set(changes["region"]) == {"2026-10|44|a", "2026-10|44|p"}
    assert statistics.delta(after, after) == {}
    # Applying the deltas of every step adds up to the last step's contribution.
    steps = [None, case(status="submitted"), case(), after, {**after, "rating": {"rating": 5}, "status": "closed"}]
    total: dict[str, dict[str, int]] = {}
    for old, new in itertools.pairwise(steps):
        for doc_id, (_, increments) in statistics.delta(old, new).get("category", {}).items():
            for name, value in increments.items():
                total.setdefault(doc_id, {}).setdefault(name, 0)
                total[doc_id][name] += value
    assert {
        doc_id: {k: v for k, v in counts.items() if v} for doc_id, counts in total.items() if any(counts.values())
    } == {"2026-10|refund|p": statistics.counters(steps[-1])}


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ({}, None),
        ({"4": 1}, 4),
        ({"2": 1, "4": 1, "6": 1}, 4),
        ({"2": 1, "4": 1, "6": 1, "10": 1}, 5),
        ({"1": 3, "9": 1}, 1),
        ({"1": 2, "9": 2}, 5),
        ({"3": 0, "7": 2}, 7),
    ],
)
def test_median_from_a_histogram(histogram, median):
    assert statistics.median_of_histogram(histogram) == median


def test_figures_and_rates_are_null_without_a_denominator():
    figures = statistics.figures({})
    assert figures["timely_rate"] is figures["satisfaction"] is figures["median_handling_days"] is None
    total = statistics.add(
        {},
        {
            "received": 4,
            "answered": 2,
            "timely": 1,
            "relief": 2,
            "rating_sum": 9,
            "rating_count": 2,
            "appealed": 1,
            "handling": {"3": 1, "5": 1},
            "rejected_by_reason": {"spam": 1},
        },
    )
    assert statistics.figures(total) == {
        "received": 4,
        "accepted": 0,
        "rejected": 0,
        "rejected_by_reason": {"spam": 1},
        "answered": 2,
        "timely_rate": 0.5,
        "relief_rate": 1.0,
        "satisfaction": 4.5,
        "appeal_rate": 0.5,
        "median_handling_days": 4,
    }


def test_scorecards_rank_with_missing_figures_last():
    assert statistics.scorecard({"accepted": 30}, 1.5)["per_million_users"] == 20
    assert statistics.scorecard({"accepted": 30}, None)["per_million_users"] is None
    cards = [
        {"company_id": "a", "per_million_users": 5.0, "timely_rate": 0.5},
        {"company_id": "b", "per_million_users": None, "timely_rate": 0.9},
        {"company_id": "c", "per_million_users": 1.0, "timely_rate": None},
    ]
    assert [card["company_id"] for card in statistics.ranked(cards, "per_million_users")] == ["c", "a", "b"]
    assert [(card["rank"], card["company_id"]) for card in statistics.ranked(cards, "timely_rate")] == [
        (1, "b"),
        (2, "a"),
        (3, "c"),
    ]


def test_periods():
    assert statistics.last_twelve_months(date(2026, 12, 3)) == ("2026-01", "2026-12")
    assert statistics.last_twelve_months(date(2026, 1, 31)) == ("2025-02", "2026-01")
    assert len(statistics.months_between("2025-02", "2026-01")) == 12
    assert statistics.period_range("2026", date(2026, 12, 3)) == ("2026", "company_year", "2026", "2026")
    assert statistics.period_range("2026-10", date(2026, 12, 3)) == ("2026-10", "company", "2026-10", "2026-10")
    assert statistics.period_range(None, date(2026, 12, 3)) == ("2026-01..2026-12", "company", "2026-01", "2026-12")
