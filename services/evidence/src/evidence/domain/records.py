"""The evidence record: what is known about one stored file, and the integrity receipt answered for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from evidence.domain.file_metadata import cleaned_before_storage

#: Complaint numbers as intake issues them: letters, digits, ``-`` and ``_``. The number is the
#: storage key's prefix, so anything else (``/``, ``..``) is refused before it gets near storage.
COMPLAINT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
EVIDENCE_ID_PATTERN = r"^[0-9a-f]{32}$"

#: Uploaded before filing; removed after ``orphan_ttl_s`` unless a filed complaint lists it.
STATUS_UNATTACHED = "unattached"
#: Belongs to a complaint: uploaded for its number, or listed in its ``complaint.submitted``.
STATUS_ATTACHED = "attached"
#: Claimed by the clean-up, which is removing the object and then the record.
STATUS_REMOVING = "removing"

#: The complaint's personal data was erased and the file with it, but storage still retains the object (an object
#: lock): the record keeps only its key and when to try again (``erasure_retry_at``), and is deleted with the object.
STATUS_ERASING = "erasing"

#: Key prefix of files uploaded before their complaint was filed; the key stays when they are attached.
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
    #: What was stored (after image metadata was removed) ...
    size: int
    sha256: str
    #: ... and what was received; equal to the above when nothing was removed.
    original_size: int
    original_sha256: str
    #: The stored object was checked for, and carries no, location, device and author metadata (every kind that
    #: can carry it: images, PDF, Office files, audio and video; plain text and AMR carry none and say false).
    metadata_stripped: bool
    object_key: str
    bucket: str
    received_at: datetime
    status: str = STATUS_UNATTACHED
    attached_at: datetime | None = None
    #: The upload this file came from (the presigned upload's id, or the id of a direct upload attempt).
    upload_id: str | None = None
    #: The last operator re-verification: ``{"ok", "sha256", "size", "verified_at"}``.
    last_verification: dict[str, Any] | None = None
    #: Why the metadata of a file that can carry it was not removed (it could not be read as its type: a
    #: damaged file, an encrypted PDF, a HEIC variant libheif cannot decode); None otherwise.
    metadata_reason: str | None = None
    #: An operator's release of a held file: ``{"by", "at", "note"}``; None while it is held (or was never held).
    released: dict[str, Any] | None = None

    @property
    def held(self) -> bool:
        """Kept from the company until an operator releases it: a file of a kind that can carry location, device
        or author metadata, stored with that metadata not removed (it could not be read as its type). Plain text
        and AMR carry none and are never held; records of before this rule count as their fields say."""
        return not self.metadata_stripped and cleaned_before_storage(self.media_type) and self.released is None

    def receipt(self) -> dict[str, Any]:
        """The integrity receipt: what was received and stored, when, and their SHA-256."""
        return {
            "evidence_id": self.evidence_id,
            "number": self.number,
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "original_size": self.original_size,
            "original_sha256": self.original_sha256,
            "metadata_stripped": self.metadata_stripped,
            "metadata_reason": self.metadata_reason,
            "held": self.held,
            "released": self.released,
            "received_at": self.received_at,
            "status": self.status,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
