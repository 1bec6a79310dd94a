"""Why a use case refused: each a plain exception the HTTP edge maps to its problem document
(``intake.api.problems``). The case store's own refusals (a case not found, a state that changed, evidence a
case no longer takes, a claim another account holds) and the lifecycle's (an illegal transition, a closed
window) are mapped there too.
"""

from __future__ import annotations


class EvidenceUnknown(Exception):
    """An ``evidence_id`` evidence never stored."""

    def __init__(self, evidence_id: str) -> None:
        super().__init__(f"Evidence {evidence_id} does not exist; upload it first.")
        self.evidence_id = evidence_id


class EvidenceAlreadyAttached(Exception):
    """A file that belongs to a complaint already (``evidence_id`` None: one of those listed, found at the write)."""

    def __init__(self, evidence_id: str | None = None) -> None:
        super().__init__(
            f"Evidence {evidence_id} belongs to another complaint."
            if evidence_id is not None
            else "An evidence file listed here belongs to another complaint."
        )
        self.evidence_id = evidence_id


class AlreadyRated(Exception):
    """A complaint is rated once."""


class CompanyUnknown(Exception):
    def __init__(self, company_id: str) -> None:
        super().__init__(f"No company {company_id} in the directory.")
        self.company_id = company_id


class SameCompany(Exception):
    """A redirect to the company the complaint is addressed to already."""


class NotRejected(Exception):
    """Only a rejected complaint can be reviewed."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the complaint is {status}")
        self.status = status


class FeedbackNotFound(Exception):
    pass


class FeedbackAlreadyHandled(Exception):
    pass
