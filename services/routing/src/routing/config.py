"""Routing's settings: the shared ones plus the working-day calendar's fallback, the SLA clocks and the watchdog,
and the similarity rules that find duplicates and collective complaints (``domain/similarity.py``).

``CALENDAR_EXTRA_HOLIDAYS`` / ``CALENDAR_EXTRA_WORKDAYS`` are JSON lists of ISO dates, e.g.
``["2027-01-01"]``. They supply the official schedule for years chinese-calendar does not cover yet,
and override it where they name a day of a covered year.
"""

from datetime import date
from pathlib import Path

from pydantic import Field

from greenchannel.settings import PlatformSettings
from routing.domain.clock import APPEAL_WORKING_DAYS, RESPONSE_WORKING_DAYS
from routing.domain.similarity import CLUSTER_SIMILARITY, DUPLICATE_SIMILARITY


class Settings(PlatformSettings):
    service_name: str = "routing"
    internal_port: int = Field(default=8102, ge=0, le=65535)
    calendar_extra_holidays: list[date] = Field(default_factory=list)
    calendar_extra_workdays: list[date] = Field(default_factory=list)
    # The company's answer is due this many working days after forwarding (and after a re-forwarding
    # that names no period of its own).
    response_working_days: int = Field(default=RESPONSE_WORKING_DAYS, ge=1, le=60)
    # A company named only by a name the directory does not resolve goes to intake's operators for review
    # (decision company_unresolved) rather than being rejected. Off only while an intake that cannot read that
    # decision still runs (the first step of rolling it out).
    review_unresolved_companies: bool = True
    # Platform mediation after an appeal is due this many working days after the appeal.
    appeal_working_days: int = Field(default=APPEAL_WORKING_DAYS, ge=1, le=60)
    # sla.reminder when a response clock has counted this many working days.
    reminder_working_day: int = Field(default=7, ge=1, le=60)
    # Calendar days after the company's answer without rating or appeal before intake auto-closes.
    quiet_period_days: int = Field(default=15, ge=1, le=365)
    # sla.publication_due this many working days after the first forwarding when the company has not answered:
    # intake then publishes the case without the answer.
    publication_delay_working_days: int = Field(default=15, ge=1, le=120)
    watchdog_interval_s: float = Field(default=60.0, gt=0)
    # How long a watchdog pass holds a clock it claimed; a replica that dies leaves the lease to run out.
    watchdog_lease_s: float = Field(default=30.0, gt=0)
    # A complaint nearly repeating (estimated Jaccard of word bigrams at least DUPLICATE_SIMILARITY) one the same
    # complainant filed against the same company within DUPLICATE_WINDOW_DAYS, not withdrawn, is rejected as a
    # duplicate of it. 0 days turns the check off.
    duplicate_window_days: int = Field(default=30, ge=0, le=3650)
    duplicate_similarity: float = Field(default=DUPLICATE_SIMILARITY, gt=0, le=1)
    # A complaint similar (at least CLUSTER_SIMILARITY) to complaints of other complainants against the same company
    # within CLUSTER_WINDOW_DAYS joins their cluster; CLUSTER_MIN_SIZE members make it a collective complaint (集体投诉).
    # 0 days turns clustering off. Below about 0.25 the stored LSH bands miss many pairs (domain/similarity.py).
    cluster_window_days: int = Field(default=30, ge=0, le=3650)
    cluster_similarity: float = Field(default=CLUSTER_SIMILARITY, gt=0, le=1)
    cluster_min_size: int = Field(default=5, ge=2, le=10000)
    # How often the LSH band keys of complaints older than the clustering window are removed.
    band_pruning_interval_s: float = Field(default=3600.0, gt=0)
    # Where jieba keeps its dictionary cache; unset: the system temporary directory. Without a writable
    # directory the dictionary is built in memory at start-up.
    segmenter_cache_dir: Path | None = None
