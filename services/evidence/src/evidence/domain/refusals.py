"""Why an upload is refused; the API layer turns each into its problem document (413, 415, 422)."""

from __future__ import annotations


class EvidenceRefused(Exception):
    """An upload that breaks a rule; ``code`` is the stable machine-readable reason."""

    code: str = "evidence_refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EvidenceTooLarge(EvidenceRefused):
    code = "evidence_too_large"

    def __init__(self, detail: str, *, limit: int) -> None:
        super().__init__(detail)
        self.limit = limit


class UnsupportedMediaType(EvidenceRefused):
    code = "unsupported_media_type"


class MediaTypeMismatch(EvidenceRefused):
    code = "media_type_mismatch"


class EmptyEvidence(EvidenceRefused):
    code = "empty_evidence"
