"""Contains all the data models used in inputs/outputs"""

from .answer import Answer
from .answer_receipt import AnswerReceipt
from .answer_response_type import AnswerResponseType
from .appeal_entry import AppealEntry
from .assignment import Assignment
from .company_answer_entry import CompanyAnswerEntry
from .company_complaint import CompanyComplaint
from .company_inbox_item import CompanyInboxItem
from .company_inbox_page import CompanyInboxPage
from .company_rating_entry import CompanyRatingEntry
from .company_ref import CompanyRef
from .company_timeline_entry import CompanyTimelineEntry
from .complainant_contact import ComplainantContact
from .evidence_item import EvidenceItem
from .handling import Handling
from .info_request import InfoRequest
from .info_request_entry import InfoRequestEntry
from .new_note import NewNote
from .note import Note
from .note_added import NoteAdded
from .person import Person
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .scorecard import Scorecard
from .status import Status
from .supplement_entry import SupplementEntry
from .transition import Transition

__all__ = (
    "Answer",
    "AnswerReceipt",
    "AnswerResponseType",
    "AppealEntry",
    "Assignment",
    "CompanyAnswerEntry",
    "CompanyComplaint",
    "CompanyInboxItem",
    "CompanyInboxPage",
    "CompanyRatingEntry",
    "CompanyRef",
    "CompanyTimelineEntry",
    "ComplainantContact",
    "EvidenceItem",
    "Handling",
    "InfoRequest",
    "InfoRequestEntry",
    "NewNote",
    "Note",
    "NoteAdded",
    "Person",
    "Problem",
    "ProblemErrorsItem",
    "Scorecard",
    "Status",
    "SupplementEntry",
    "Transition",
)
