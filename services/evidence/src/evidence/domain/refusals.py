"""Why an upload is refused; the service turns each into its problem document (409, 413, 415, 422).

Every refusal is also announced as ``evidence.rejected`` with its ``code`` as the reason, so each
carries a ``detail`` fit for an event: types and sizes, never a filename or other personal data.
"""

from __future__ import annotations

from typing import Any


class EvidenceRefused(Exception):
    """An upload that breaks a rule; ``code`` is the stable machine-readable reason, ``status`` its HTTP answer."""

    code: str = "evidence_refused"
    status: int = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def problem_extra(self) -> dict[str, Any]:
        return {}


class EvidenceTooLarge(EvidenceRefused):
    code = "evidence_too_large"
    status = 413

    def __init__(self, detail: str, *, limit: int) -> None:
        super().__init__(detail)
        self.limit = limit

    def problem_extra(self) -> dict[str, Any]:
        return {"limit_bytes": self.limit}


class UnsupportedMediaType(EvidenceRefused):
    code = "unsupported_media_type"
    status = 415


class MediaTypeMismatch(EvidenceRefused):
    code = "media_type_mismatch"
    status = 415


class EmptyEvidence(EvidenceRefused):
    code = "empty_evidence"
    status = 422


class TooManyEvidenceFiles(EvidenceRefused):
    code = "too_many_evidence_files"
    status = 409

    def __init__(self, detail: str, *, limit: int) -> None:
        super().__init__(detail)
        self.limit = limit

    def problem_extra(self) -> dict[str, Any]:
        return {"limit_files": self.limit}


class ImageTooLarge(EvidenceRefused):
    """More pixels than the service decodes: a decompression bomb, or a picture no phone takes."""

    code = "image_dimensions_too_large"
    status = 422


class ImageUnreadable(EvidenceRefused):
    """Has an image's signature but cannot be decoded, so its metadata cannot be removed."""

    code = "image_unreadable"
    status = 422


class SizeMismatch(EvidenceRefused):
    """The uploaded object's size is not the one declared when the upload was started."""

    code = "upload_size_mismatch"
    status = 422


class DigestMismatch(EvidenceRefused):
    """The uploaded object's SHA-256 is not the one declared when the upload was started."""

    code = "upload_hash_mismatch"
    status = 422
