"""Contains all the data models used in inputs/outputs"""

from .answer import Answer
from .answer_receipt import AnswerReceipt
from .answer_response_type import AnswerResponseType
from .appeal_entry import AppealEntry
from .company_answer_entry import CompanyAnswerEntry
from .company_complaint import CompanyComplaint
from .company_ref import CompanyRef
from .complainant_contact import ComplainantContact
from .complaint_page import ComplaintPage
from .complaint_summary import ComplaintSummary
from .evidence_item import EvidenceItem
from .info_request import InfoRequest
from .info_request_entry import InfoRequestEntry
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .status import Status
from .supplement_entry import SupplementEntry
from .transition import Transition

__all__ = (
    "Answer",
    "AnswerReceipt",
    "AnswerResponseType",
    "AppealEntry",
    "CompanyAnswerEntry",
    "CompanyComplaint",
    "CompanyRef",
    "ComplainantContact",
    "ComplaintPage",
    "ComplaintSummary",
    "EvidenceItem",
    "InfoRequest",
    "InfoRequestEntry",
    "Problem",
    "ProblemErrorsItem",
    "Status",
    "SupplementEntry",
    "Transition",
)
