"""The byte budget of anonymous uploads per address: what counts against it, and whether one more fits.

Every upload made before filing reserves its bytes before anything is stored: the Content-Length of
a raw body, the most a multipart body can hold, or the declared size of a presigned upload. A
reservation counts for a day, or longer while the file may still lie in storage unattached (evidence
removes such files once they are older than its published ``unattached_removed_after_s``); a refused
upload's reservation is given back, and a streamed one's is brought down to the size stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Reservation:
    id: str
    bytes: int
    until: datetime
    """When it stops counting."""


def counting(reservations: list[Reservation], now: datetime) -> list[Reservation]:
    return [reservation for reservation in reservations if reservation.until > now]


def held_for(unattached_removed_after_s: float | None) -> timedelta:
    """How long a reservation counts: a day, or as long as an unattached file may be kept if that is longer."""
    if unattached_removed_after_s is None:
        return DAY
    return max(DAY, timedelta(seconds=unattached_removed_after_s))


def wait_for_room(reservations: list[Reservation], wanted: int, budget: int, now: datetime) -> float | None:
    """``None`` when ``wanted`` more bytes fit in ``budget`` beside the ``reservations`` counting now; else the
    seconds until enough of them stop counting (a day when ``wanted`` alone is more than the budget)."""
    live = sorted(counting(reservations, now), key=lambda reservation: reservation.until)
    excess = sum(reservation.bytes for reservation in live) + wanted - budget
    if excess <= 0:
        return None
    if wanted > budget:
        return DAY.total_seconds()
    for reservation in live:
        excess -= reservation.bytes
        if excess <= 0:
            return max(1.0, (reservation.until - now).total_seconds())
    return DAY.total_seconds()  # unreachable: the reservations alone exceed what is left
