"""Company matching and search over the seed directory, and the screening decision built on it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from routing.adapters.reference_data import load_categories, load_companies
from routing.domain import directory
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.categories import effective_category
from routing.domain.directory import Company, Resolution
from routing.domain.screening import decide

pytestmark = pytest.mark.unit

COMPANIES = load_companies()


def resolved_id(text: str | None, companies=COMPANIES) -> str | None:
    company = directory.resolve_by_name(text, companies).company
    return None if company is None else company.id


def test_seed_directory_is_a_dozen_companies_with_unambiguous_names():
    assert len(COMPANIES) >= 12
    assert len({company.id for company in COMPANIES}) == len(COMPANIES)
    shared = [key for key, n in Counter(k for c in COMPANIES for k in directory.company_keys(c)).items() if n > 1]
    assert shared == []


@pytest.mark.parametrize(
    ("text", "company_id"),
    [
        ("迅联科技有限公司", "c-xunlian"),  # registered name
        ("Xunlian Technology Co., Ltd.", "c-xunlian"),  # English name
        ("迅联", "c-xunlian"),  # alias
        ("迅聊", "c-xunlian"),  # app
        ("xunlian.com", "c-xunlian"),  # domain
        ("https://www.XunLiao.cn/help?id=3", "c-xunlian"),  # web address of the second domain
        ("m.lanjingvideo.com", "c-lanjing"),  # sub-domain
        ("Ｘｕｎｌｉａｎ", "c-xunlian"),  # full-width letters
        ("  声波　ＦＭ ", "c-shengbo"),  # full-width letters and ideographic space
        ("BLUE WHALE video", "c-lanjing"),  # case
        ("迅联科技（北京）", None),  # not a name we know
        ("某某科技", None),
    ],
)
def test_free_text_resolves_by_exact_normalised_match(text, company_id):
    assert resolved_id(text) == company_id


def test_unknown_or_missing_names_explain_why():
    assert directory.resolve_by_name("某某科技", COMPANIES) == Resolution(
        None, "No company in the directory is called '某某科技'."
    )
    assert directory.resolve_by_name(None, COMPANIES).detail == "The complaint names no company."
    assert directory.resolve_by_name(" \u3000 ", COMPANIES).company is None
    assert "c-nope" in directory.resolve_by_id("c-nope", None).detail


def test_a_name_two_companies_share_resolves_to_neither_but_the_more_specific_domain_wins():
    parent = Company(id="c-a", name="甲公司", name_en="A", aliases=("同名",), domains=("a.com",))
    child = Company(id="c-b", name="乙公司", name_en="B", aliases=("同名",), domains=("pay.a.com",))
    assert resolved_id("同名", [parent, child]) is None
    assert "c-a" not in directory.resolve_by_name("同名", [parent, child]).detail  # names, not ids
    assert resolved_id("https://pay.a.com/x", [parent, child]) == "c-b"
    assert resolved_id("shop.a.com", [parent, child]) == "c-a"


def test_search_ranks_exact_then_prefix_then_substring():
    assert [c.id for c in directory.search(COMPANIES, "蓝鲸", 5)] == ["c-lanjing"]
    found = [c.id for c in directory.search(COMPANIES, "ｘｕｎ", 10)]
    assert found == ["c-xunlian"]
    assert [c.id for c in directory.search(COMPANIES, "科技有限公司", 3)] == ["c-xunlian", "c-lanjing", "c-maisui"]
    assert directory.search(COMPANIES, "does-not-exist", 5) == []
    assert len(directory.search(COMPANIES, "", 5)) == 5


def test_categories_fall_back_to_other():
    categories = load_categories()
    assert {
        "service_quality",
        "billing",
        "auto_renewal",
        "refund",
        "account",
        "privacy",
        "harassment",
        "false_advertising",
        "content",
        "other",
    } == {c.code for c in categories}
    assert next(c for c in categories if c.code == "auto_renewal").zh == "自动续费"
    assert effective_category(" Refund ", categories) == "refund"
    assert effective_category("lottery", categories) == "other"
    assert effective_category(None, categories) == "other"


def test_decision_counts_from_the_screening_date_in_shanghai():
    company = next(c for c in COMPANIES if c.id == "c-xunlian")
    # 17:30 UTC on Fri 13 Feb is 01:30 on Sat 14 Feb in Shanghai: the deadline counts from the 14th.
    screened_at = datetime(2026, 2, 13, 17, 30, tzinfo=UTC)
    accepted = decide("GC-1", Resolution(company), "refund", screened_at=screened_at, calendar=WorkingDayCalendar())
    assert (accepted.decision, accepted.company_id, accepted.company_name) == (
        "accepted",
        "c-xunlian",
        "迅联科技有限公司",
    )
    assert accepted.response_due == date(2026, 3, 6)
    rejected = decide("GC-2", Resolution(None, "why"), "refund", screened_at=screened_at, calendar=WorkingDayCalendar())
    assert (rejected.decision, rejected.reason, rejected.detail, rejected.response_due) == (
        "rejected",
        "company_unknown",
        "why",
        None,
    )


def test_an_unresolved_company_goes_to_review_only_when_readers_take_that_decision():
    screened_at = datetime(2026, 2, 13, 9, 0, tzinfo=UTC)
    unresolved = Resolution(None, "No company in the directory is called '某某'.")
    review = decide(
        "GC-3", unresolved, "refund", screened_at=screened_at, calendar=WorkingDayCalendar(), review_unresolved=True
    )
    assert (review.decision, review.reason, review.detail, review.company_id, review.response_due) == (
        "company_unresolved",
        "company_unknown",
        unresolved.detail,
        None,
        None,
    )
    # While an intake that knows only accepted/rejected still runs, routing keeps to the decisions it reads.
    before = decide("GC-4", unresolved, "refund", screened_at=screened_at, calendar=WorkingDayCalendar())
    assert before.decision == "rejected"
    # A company that resolves is accepted either way.
    company = next(c for c in COMPANIES if c.id == "c-xunlian")
    assert (
        decide(
            "GC-5",
            Resolution(company),
            "refund",
            screened_at=screened_at,
            calendar=WorkingDayCalendar(),
            review_unresolved=True,
        ).decision
        == "accepted"
    )
