"""What the evidence bucket must be for files to be held unaltered (WORM), and what is wrong with a bucket that is not.

Object lock keeps every version of an object from being removed or overwritten until its retention ends; a
DELETE without a version only hides the object behind a delete marker. S3 and MinIO enable it only when a
bucket is created, and it needs versioning (which it turns on). The bucket's default retention gives every
new version its period without the service naming one on each write.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONING_ENABLED = "Enabled"


@dataclass(frozen=True)
class Retention:
    """The bucket's default retention: a mode (GOVERNANCE or COMPLIANCE) and a number of days."""

    mode: str
    days: int


@dataclass(frozen=True)
class BucketLock:
    """What storage reports of a bucket: its versioning status, and its default retention if it has one."""

    versioning: str | None
    lock_enabled: bool
    retention: Retention | None


def lock_refusal(bucket: BucketLock) -> str | None:
    """Why ``bucket`` cannot hold evidence unaltered, or ``None`` when it can (its default retention aside: that
    one the service sets itself, :func:`retention_to_set`)."""
    if not bucket.lock_enabled:
        return (
            "the bucket has no object lock (S3 and MinIO enable it only when a bucket is created: create a new bucket "
            "with object lock, copy the objects into it, or set EVIDENCE_OBJECT_LOCK_DAYS=0)"
        )
    if bucket.versioning != VERSIONING_ENABLED:
        return f"the bucket's versioning is {bucket.versioning or 'off'}, object lock needs it Enabled"
    return None


def retention_to_set(bucket: BucketLock, wanted: Retention) -> Retention | None:
    """The default retention to give the bucket, ``None`` when it already has it."""
    return None if bucket.retention == wanted else wanted
