"""Request and response bodies of the evidence API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from evidence.domain.records import COMPLAINT_NUMBER_PATTERN, EvidenceRecord
from evidence.domain.uploads import SHA256_PATTERN


class Release(BaseModel):
    by: str = Field(description="The operator who released the file (as intake names them).")
    at: datetime
    note: str


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=200, description="The operator releasing the file.")
    note: str = Field(min_length=1, max_length=2000, description="Why the file may go to the company as it is.")


class EvidenceReceipt(BaseModel):
    """The integrity receipt of one stored file."""

    evidence_id: str
    number: str | None = Field(
        description="The complaint the file belongs to; null while uploaded before filing and not attached yet."
    )
    filename: str = Field(description="The original filename, sanitised; metadata only, never part of a storage key.")
    media_type: str = Field(description="The type decided from the content.")
    size: int = Field(description="Bytes stored.")
    sha256: str = Field(description="Hex SHA-256 of the bytes stored.")
    original_size: int = Field(description="Bytes received; differs from size when image metadata was removed.")
    original_sha256: str = Field(description="Hex SHA-256 of the bytes received.")
    metadata_stripped: bool = Field(
        description="The stored file carries no location, device or author metadata (removed, or there was none): "
        "images, PDF, Word and Excel files, MP3, MP4, M4A, MOV and WAV; false for a file that could not be read as "
        "its type (see metadata_reason) and for plain text and AMR, which carry none and are stored as received."
    )
    metadata_reason: str | None = Field(
        default=None,
        description="Why the metadata was not removed: image_not_decoded, encrypted_pdf, unreadable_pdf, "
        "damaged_package, package_too_large, unreadable_audio or unreadable_container; null otherwise.",
    )
    held: bool = Field(
        default=False,
        description="Kept from the company until an operator releases it: a file whose metadata could not be "
        "removed (metadata_stripped false with a kind that can carry metadata). The complainant and operators "
        "still download it.",
    )
    released: Release | None = Field(default=None, description="The operator's release of a held file.")
    received_at: datetime = Field(description="Server time the file was received.")
    status: str = Field(description="unattached (uploaded before filing) or attached.")

    @classmethod
    def of(cls, record: EvidenceRecord) -> EvidenceReceipt:
        return cls(**record.receipt())


class AcceptedTypeLimit(BaseModel):
    media_type: str
    extension: str = Field(description="The usual filename extension, with its dot.")
    kind: str = Field(description="image, document, audio or video: the kind whose size limit applies.")
    max_bytes: int


class EvidenceLimits(BaseModel):
    """What the service accepts, so that clients can refuse a wrong type or size before uploading."""

    types: list[AcceptedTypeLimit]
    aliases: dict[str, str] = Field(description="Other names of accepted media types (e.g. image/jpg -> image/jpeg).")
    max_bytes: dict[str, int] = Field(description="The size limit of each kind, in bytes.")
    max_files_per_complaint: int
    unattached_removed_after_s: float = Field(
        description="A file uploaded before filing and never attached is removed at the latest this long after it "
        "was received (the clean-up's age plus one of its pauses)."
    )


class EvidenceList(BaseModel):
    number: str
    items: list[EvidenceReceipt]


class DownloadLink(BaseModel):
    evidence_id: str
    url: str = Field(description="Presigned GET of the object; anyone holding it can download until it expires.")
    expires_at: datetime


class UploadRequest(BaseModel):
    """What a client declares before it uploads a file straight to storage.

    Unknown fields are ignored, not refused: intake is this body's only sender, and during a rollout a newer intake
    may send a field this release does not know yet (expand, then contract: the sender adds it, the reader learns
    it later). Refusing it would answer the complainant a 422 for a field nobody here needs. The known fields are
    still checked strictly."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, max_length=4096, description="The original filename (metadata only).")
    media_type: str = Field(
        max_length=255, description="One of the accepted evidence types; checked against the content later."
    )
    size: int = Field(
        ge=0, description="Exact size in bytes; checked against the kind's limit now and the object later."
    )
    sha256: str = Field(
        pattern=SHA256_PATTERN, description="Hex SHA-256 of the file; checked against the object later."
    )
    number: str | None = Field(
        default=None, pattern=COMPLAINT_NUMBER_PATTERN, description="The complaint, if filed already."
    )
    multipart: bool = Field(
        default=False,
        description="Send the file in parts (a PUT URL per part), so a dropped connection costs only the parts "
        "storage does not hold yet.",
    )


class PartUpload(BaseModel):
    number: int = Field(description="The part's number, from 1.")
    size: int = Field(description="Its exact size in bytes (the URL is signed for it).")
    url: str = Field(description="Presigned PUT of this part.")


class UploadTicket(BaseModel):
    upload_id: str
    url: str | None = Field(
        description="Presigned PUT of the file into quarantine; send the file's bytes as the body. Null for a "
        "multipart upload: its parts have a URL each."
    )
    method: str = "PUT"
    expires_at: datetime = Field(description="The URL is refused after this time.")
    complete_by: datetime = Field(description="Call complete before this time, or the upload is removed.")
    parts: list[PartUpload] | None = Field(default=None, description="A multipart upload's parts, in order.")


class StoredPart(BaseModel):
    number: int
    size: int


class UploadParts(BaseModel):
    """What storage holds of a multipart upload, and a PUT for each part it does not."""

    upload_id: str
    stored: list[StoredPart]
    missing: list[PartUpload]


class UploadState(BaseModel):
    """Where a presigned upload stands (for the gateway, which checks whose it is before completing it)."""

    upload_id: str
    number: str | None = Field(description="The complaint it was started for; null when started before filing.")
    status: str = Field(description="pending, verifying, completed, rejected or expired.")
    media_type: str
    size: int
    expires_at: datetime
    complete_by: datetime
    evidence_id: str | None = Field(description="The evidence it became, once completed.")


class Digest(BaseModel):
    sha256: str
    size: int


class VerificationResult(BaseModel):
    evidence_id: str
    ok: bool = Field(description="The stored object has the receipt's SHA-256 and size.")
    expected: Digest
    actual: Digest | None = Field(description="What is stored now; null when the object is missing.")
    verified_at: datetime


class ReleaseResult(BaseModel):
    receipt: EvidenceReceipt
    released_now: bool = Field(description="False when the file had been released before (the call is idempotent).")


class HeldPage(BaseModel):
    """Held files attached to a complaint, oldest first."""

    items: list[EvidenceReceipt]
    next_after: str | None = Field(
        description="The evidence id to pass as ``after`` for the next page; null at the end."
    )
