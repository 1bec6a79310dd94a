"""The byte budget of anonymous uploads: what counts, whether one more fits, and when to try again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.domain.upload_budget import DAY, Reservation, held_for, wait_for_room

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def reservation(bytes_: int, counts_for: timedelta) -> Reservation:
    return Reservation(id=f"r{bytes_}", bytes=bytes_, until=NOW + counts_for)


def test_one_more_fits_up_to_the_budget_exactly():
    held = [reservation(400, timedelta(hours=3)), reservation(500, timedelta(hours=1))]
    assert wait_for_room(held, 100, 1000, NOW) is None
    assert wait_for_room(held, 101, 1000, NOW) is not None


def test_reservations_that_stopped_counting_leave_room():
    held = [reservation(900, -timedelta(seconds=1)), reservation(100, timedelta(hours=1))]
    assert wait_for_room(held, 900, 1000, NOW) is None


def test_the_wait_is_until_enough_bytes_stop_counting():
    held = [
        reservation(300, timedelta(hours=5)),
        reservation(600, timedelta(hours=2)),
        reservation(100, timedelta(hours=1)),
    ]
    # 200 more need the 100 that frees in an hour and the 600 that frees in two.
    assert wait_for_room(held, 200, 1000, NOW) == timedelta(hours=2).total_seconds()
    assert wait_for_room(held, 100, 1000, NOW) == timedelta(hours=1).total_seconds()
    assert wait_for_room([], 1001, 1000, NOW) == DAY.total_seconds()  # never fits: a day


def test_a_file_that_may_lie_unattached_longer_than_a_day_counts_as_long():
    assert held_for(None) == DAY
    assert held_for(3600) == DAY
    assert held_for(2 * 86400 + 300) == timedelta(days=2, seconds=300)
