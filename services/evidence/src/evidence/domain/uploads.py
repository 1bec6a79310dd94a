"""Presigned uploads: a client PUTs a large file straight to storage, into quarantine, and the service
attaches it only after it has checked size, type and SHA-256 against what the client declared up front.

The quarantine key is made of the upload id alone (never the filename); nothing under
``quarantine/`` ever gets a download link, since links are handed out for evidence records only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from evidence.domain.inspection import InspectedContent
from evidence.domain.refusals import DigestMismatch, SizeMismatch

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
UPLOAD_ID_PATTERN = r"^[0-9a-f]{32}$"
QUARANTINE_PREFIX = "quarantine"

#: Waiting for the client's PUT and its ``complete`` call.
UPLOAD_PENDING = "pending"
#: A ``complete`` call is checking it (held with a lease).
UPLOAD_VERIFYING = "verifying"
#: Checked and stored as evidence ``evidence_id``.
UPLOAD_COMPLETED = "completed"
#: Refused at ``complete``; ``reason`` says why.
UPLOAD_REJECTED = "rejected"
#: Not completed in time; its object was removed.
UPLOAD_EXPIRED = "expired"


#: The part size of a presigned multipart upload: every part but the last has it. S3 takes parts of 5 MiB and more
#: (but the last) and 10,000 parts at most; 8 MiB parts make a 200 MiB video 25 parts, each a small loss to resend
#: when a connection drops.
MULTIPART_PART_BYTES = 8 * 1024 * 1024


def quarantine_key(upload_id: str) -> str:
    return f"{QUARANTINE_PREFIX}/{upload_id}"


@dataclass(frozen=True)
class UploadRecord:
    upload_id: str
    number: str | None
    filename: str
    media_type: str
    size: int
    sha256: str
    quarantine_key: str
    created_at: datetime
    url_expires_at: datetime
    complete_by: datetime
    status: str = UPLOAD_PENDING
    #: Chosen when the upload is first claimed for checking, so a retry after a crash reuses its key.
    evidence_id: str | None = None
    reason: str | None = None
    reason_detail: str | None = None
    #: Storage's id of the multipart upload the client sends its parts to; None for a single PUT.
    multipart_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def part_sizes(size: int) -> list[int]:
    """The size of each part of a multipart upload of ``size`` bytes, part 1 first."""
    full, rest = divmod(size, MULTIPART_PART_BYTES)
    return [MULTIPART_PART_BYTES] * full + ([rest] if rest else [])


def missing_parts(size: int, stored: dict[int, int]) -> list[int]:
    """The numbers of the parts storage does not hold at their size (``stored``: part number -> bytes)."""
    return [number for number, expected in enumerate(part_sizes(size), start=1) if stored.get(number) != expected]


def check_declared(inspected: InspectedContent, *, size: int, sha256: str) -> None:
    """The received content is exactly what was declared when the upload started, or the refusal (422)."""
    if inspected.size != size:
        raise SizeMismatch(f"The uploaded file has {inspected.size} bytes; {size} were declared.")
    if inspected.sha256 != sha256.lower():
        raise DigestMismatch("The uploaded file's SHA-256 is not the declared one.")
