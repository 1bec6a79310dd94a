"""Response bodies of the evidence API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from evidence.domain.records import EvidenceRecord


class EvidenceReceipt(BaseModel):
    """The integrity receipt of one stored file."""

    evidence_id: str
    number: str | None = Field(description="The complaint number the evidence was uploaded for; null when uploaded before filing.")
    filename: str = Field(description="The original filename, sanitised; metadata only.")
    media_type: str = Field(description="The type decided from the content.")
    size: int = Field(description="Bytes received.")
    sha256: str = Field(description="Hex SHA-256 of the bytes received.")
    received_at: datetime

    @classmethod
    def of(cls, record: EvidenceRecord) -> "EvidenceReceipt":
        return cls(**record.receipt())


class EvidenceList(BaseModel):
    number: str
    items: list[EvidenceReceipt]


class DownloadLink(BaseModel):
    evidence_id: str
    url: str = Field(description="Presigned GET of the object; anyone holding it can download until it expires.")
    expires_at: datetime
