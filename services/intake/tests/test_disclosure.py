"""Disclosure control on the public statistics: no small cell is published, and no published sum gives a hidden
cell away (the total minus the other cells of its row or column)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain.disclosure import COUNTS, suppress, suppress_scorecard, suppress_summary

pytestmark = pytest.mark.unit

K = 5
REASONS = ("duplicate", "out_of_scope", "no_company")


@st.composite
def rows(draw) -> dict:
    accepted = draw(st.integers(0, 40))
    reasons = {reason: draw(st.integers(0, 12)) for reason in draw(st.sets(st.sampled_from(REASONS)))}
    answered = draw(st.integers(0, accepted))
    return {
        "accepted": accepted,
        "rejected": sum(reasons.values()),
        "received": accepted + sum(reasons.values()),
        "rejected_by_reason": reasons,
        "answered": answered,
        "timely_rate": 0.5 if answered else None,
        "relief_rate": 0.25 if answered else None,
        "appeal_rate": 0.0 if answered else None,
        "satisfaction": 4.0 if answered else None,
        "median_handling_days": 3.0 if answered else None,
        "rated": answered,
        "handled": answered,
    }


def total_of(table: list[dict]) -> dict:
    reasons: dict[str, int] = {}
    for row in table:
        for reason, count in row["rejected_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    answered = sum(row["answered"] for row in table)
    return {
        **{field: sum(row[field] for row in table) for field in COUNTS},
        "rejected_by_reason": reasons,
        "timely_rate": 0.5 if answered else None,
        "relief_rate": None,
        "appeal_rate": None,
        "satisfaction": None,
        "median_handling_days": None,
        "rated": answered,
        "handled": answered,
    }


def sums(table: list[dict], totals: dict, true_table: list[dict], true_totals: dict) -> list[tuple[object, list]]:
    """Every published identity: (whole as published, [(part as published (None for hidden), its true value)])."""

    def reason(row: dict, code: str) -> object:
        return row["rejected_by_reason"].get(code, 0)

    identities: list[tuple[object, list]] = []
    for row, true in zip([*table, totals], [*true_table, true_totals], strict=True):
        identities.append((row["received"], [(row[part], true[part]) for part in ("accepted", "rejected")]))
        identities.append(
            (row["rejected"], [(reason(row, code), reason(true, code)) for code in row["rejected_by_reason"]])
        )
    identities.extend(
        (totals[field], [(row[field], true[field]) for row, true in zip(table, true_table, strict=True)])
        for field in COUNTS
    )
    identities.extend(
        (
            totals["rejected_by_reason"][code],
            [(reason(row, code), reason(true, code)) for row, true in zip(table, true_table, strict=True)],
        )
        for code in totals["rejected_by_reason"]
    )
    return identities


@settings(max_examples=1000, deadline=None)
@given(table=st.lists(rows(), min_size=1, max_size=8))
def test_no_small_cell_is_published_and_no_sum_gives_a_hidden_cell_away(table):
    keyed = [{"key": f"r{index}", **row} for index, row in enumerate(table)]
    true_totals = total_of(table)
    published, totals = suppress(keyed, true_totals, K)
    for row in [*published, totals]:
        for field in COUNTS:
            assert row[field] is None or row[field] == 0 or row[field] >= K, (field, row)
        assert all(value is None or value == 0 or value >= K for value in row["rejected_by_reason"].values())
        assert "rated" not in row and "handled" not in row
        assert row["suppressed"] == bool(row["suppressed_fields"])
        if row["answered"] is None or row["answered"] < K:
            assert row["timely_rate"] is None and row["relief_rate"] is None and row["appeal_rate"] is None
    for whole, parts in sums(published, totals, table, true_totals):
        # The differencing attack: a published whole minus its published parts is the sum of its hidden ones. A
        # reader who knows which hidden parts are zero (the public figures count no rejection) learns a count when
        # exactly one hidden part is not zero: never.
        if whole is not None:
            assert sum(shown is None and true != 0 for shown, true in parts) != 1, (whole, parts, published, totals)


def test_the_published_cells_keep_their_values():
    table = [
        {
            "key": "a",
            "received": 20,
            "accepted": 18,
            "rejected": 2,
            "rejected_by_reason": {"duplicate": 2},
            "answered": 10,
            "timely_rate": 0.9,
            "relief_rate": 0.5,
            "appeal_rate": 0.1,
            "satisfaction": 4.5,
            "median_handling_days": 3.0,
            "rated": 8,
            "handled": 10,
        },
        {
            "key": "b",
            "received": 30,
            "accepted": 30,
            "rejected": 0,
            "rejected_by_reason": {},
            "answered": 30,
            "timely_rate": 1.0,
            "relief_rate": 0.2,
            "appeal_rate": 0.0,
            "satisfaction": 3.0,
            "median_handling_days": 2.0,
            "rated": 3,
            "handled": 30,
        },
    ]
    totals = {
        "received": 50,
        "accepted": 48,
        "rejected": 2,
        "rejected_by_reason": {"duplicate": 2},
        "answered": 40,
        "timely_rate": 0.975,
        "relief_rate": 0.275,
        "appeal_rate": 0.025,
        "satisfaction": 4.0,
        "median_handling_days": 2.0,
        "rated": 11,
        "handled": 40,
    }
    (a, b), total = suppress(table, totals, K)
    # a's 2 rejections are hidden, so its accepted (received minus them) is too; the totals' 2 rejections are
    # hidden, so their accepted is too: a's accepted is then the hidden total minus b's, which stays unknown.
    assert (a["received"], a["accepted"], a["rejected"], a["rejected_by_reason"]) == (
        20,
        None,
        None,
        {"duplicate": None},
    )
    assert (b["received"], b["accepted"], b["rejected"], b["answered"]) == (30, 30, 0, 30)
    assert (total["received"], total["accepted"], total["rejected"]) == (50, None, None)
    assert b["satisfaction"] is None and b["timely_rate"] == 1.0 and a["satisfaction"] == 4.5
    assert a["suppressed"] and a["suppressed_fields"] == ["accepted", "rejected", "rejected_by_reason.duplicate"]

    # A company's scorecard hides what its row hides: a's volume (its accepted) and, over a published user base,
    # the complaints per million users that would give the volume back; b's average rating over 3 ratings.
    card = {"volume": 18, "timely_rate": 0.9, "relief_rate": 0.5, "average_rating": 4.5, "appeal_rate": 0.1}
    a_card = suppress_scorecard({**card, "user_base": 2_000_000, "per_million_users": 9.0}, a)
    assert (a_card["volume"], a_card["per_million_users"], a_card["user_base"], a_card["timely_rate"]) == (
        None,
        None,
        2_000_000,
        0.9,
    )
    assert a_card["suppressed"] and a_card["suppressed_fields"] == ["volume", "per_million_users"]
    b_card = suppress_scorecard({**card, "volume": 30, "user_base": None, "per_million_users": None}, b)
    assert (b_card["volume"], b_card["average_rating"], b_card["suppressed_fields"]) == (30, None, ["average_rating"])
    # A company with nothing in the period has no row: nothing to hide.
    empty = {**card, "volume": 0, "user_base": None, "per_million_users": None}
    assert suppress_scorecard(empty, None) == {**empty, "suppressed": False, "suppressed_fields": []}


def test_the_summary_hides_small_counts_and_rates_over_them():
    small = suppress_summary(
        {
            "published": 3,
            "answered_rate": 1.0,
            "timely_rate": 1.0,
            "satisfaction": 5.0,
            "companies": 2,
            "last_30_days_published": 3,
        },
        rated=2,
        k=K,
    )
    assert small["published"] is None and small["satisfaction"] is None and small["suppressed"] is True
    large = suppress_summary(
        {
            "published": 300,
            "answered_rate": 0.9,
            "timely_rate": 0.8,
            "satisfaction": 4.0,
            "companies": 20,
            "last_30_days_published": 0,
        },
        rated=50,
        k=K,
    )
    assert large["published"] == 300 and large["last_30_days_published"] == 0 and large["suppressed"] is False
