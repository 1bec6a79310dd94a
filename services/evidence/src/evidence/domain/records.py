"""The evidence record: what is known about one stored file, and the integrity receipt answered for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

#: Complaint numbers as intake issues them: letters, digits, ``-`` and ``_``. The number is the
#: storage key's prefix, so anything else (``/``, ``..``) is refused before it gets near storage.
COMPLAINT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
EVIDENCE_ID_PATTERN = r"^[0-9a-f]{32}$"

STATUS_STORED = "stored"


#: Key prefix of files uploaded before their complaint was filed (intake links them at filing).
UNATTACHED_PREFIX = "unattached"


def object_key(number: str | None, evidence_id: str) -> str:
    """The storage key: never derived from the client's filename."""
    return f"{number or UNATTACHED_PREFIX}/{evidence_id}"


@dataclass(frozen=True)
class EvidenceRecord:
    evidence_id: str
    number: str | None
    filename: str
    media_type: str
    size: int
    sha256: str
    object_key: str
    bucket: str
    received_at: datetime
    status: str = STATUS_STORED

    def receipt(self) -> dict:
        """The integrity receipt: what was received, when, and its SHA-256."""
        return {
            "evidence_id": self.evidence_id,
            "number": self.number,
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "received_at": self.received_at,
        }

    def as_dict(self) -> dict:
        return asdict(self)
