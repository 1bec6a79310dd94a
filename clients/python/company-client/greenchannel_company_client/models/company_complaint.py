from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.appeal_entry import AppealEntry
    from ..models.company_answer_entry import CompanyAnswerEntry
    from ..models.company_rating_entry import CompanyRatingEntry
    from ..models.company_timeline_entry import CompanyTimelineEntry
    from ..models.complainant_contact import ComplainantContact
    from ..models.evidence_item import EvidenceItem
    from ..models.info_request_entry import InfoRequestEntry
    from ..models.supplement_entry import SupplementEntry


T = TypeVar("T", bound="CompanyComplaint")


@_attrs_define
class CompanyComplaint:
    """
    Attributes:
        number (str):
        status (Status):
        overdue (bool):
        category (str):
        title (str):
        description (str):
        occurred_on (str): ISO 8601 date.
        desired_outcome (str):
        complainant (ComplainantContact): Name and phone in full, to reach the complainant; the ID number and e-mail
            masked.
        evidence (list[EvidenceItem]):
        submitted_at (str):
        forwarded_at (None | str):
        round_ (int): 1, or 2 once an appeal was re-forwarded.
        response_due (None | str):
        info_requests (list[InfoRequestEntry]):
        supplements (list[SupplementEntry]):
        response (CompanyAnswerEntry | None): The latest answer.
        appeal (AppealEntry | None):
        reforward_note (None | str):
        rating (CompanyRatingEntry | None | Unset): The complainant's rating of the answer.
        timeline (list[CompanyTimelineEntry] | Unset): The steps of the case: when, what, and which side took it.
    """

    number: str
    status: Status
    overdue: bool
    category: str
    title: str
    description: str
    occurred_on: str
    desired_outcome: str
    complainant: ComplainantContact
    evidence: list[EvidenceItem]
    submitted_at: str
    forwarded_at: None | str
    round_: int
    response_due: None | str
    info_requests: list[InfoRequestEntry]
    supplements: list[SupplementEntry]
    response: CompanyAnswerEntry | None
    appeal: AppealEntry | None
    reforward_note: None | str
    rating: CompanyRatingEntry | None | Unset = UNSET
    timeline: list[CompanyTimelineEntry] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.appeal_entry import AppealEntry  # noqa: PLC0415
        from ..models.company_answer_entry import CompanyAnswerEntry  # noqa: PLC0415
        from ..models.company_rating_entry import CompanyRatingEntry  # noqa: PLC0415

        number = self.number

        status = self.status.value

        overdue = self.overdue

        category = self.category

        title = self.title

        description = self.description

        occurred_on = self.occurred_on

        desired_outcome = self.desired_outcome

        complainant = self.complainant.to_dict()

        evidence = []
        for evidence_item_data in self.evidence:
            evidence_item = evidence_item_data.to_dict()
            evidence.append(evidence_item)

        submitted_at = self.submitted_at

        forwarded_at: None | str
        forwarded_at = self.forwarded_at

        round_ = self.round_

        response_due: None | str
        response_due = self.response_due

        info_requests = []
        for info_requests_item_data in self.info_requests:
            info_requests_item = info_requests_item_data.to_dict()
            info_requests.append(info_requests_item)

        supplements = []
        for supplements_item_data in self.supplements:
            supplements_item = supplements_item_data.to_dict()
            supplements.append(supplements_item)

        response: dict[str, Any] | None
        if isinstance(self.response, CompanyAnswerEntry):
            response = self.response.to_dict()
        else:
            response = self.response

        appeal: dict[str, Any] | None
        if isinstance(self.appeal, AppealEntry):
            appeal = self.appeal.to_dict()
        else:
            appeal = self.appeal

        reforward_note: None | str
        reforward_note = self.reforward_note

        rating: dict[str, Any] | None | Unset
        if isinstance(self.rating, Unset):
            rating = UNSET
        elif isinstance(self.rating, CompanyRatingEntry):
            rating = self.rating.to_dict()
        else:
            rating = self.rating

        timeline: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.timeline, Unset):
            timeline = []
            for timeline_item_data in self.timeline:
                timeline_item = timeline_item_data.to_dict()
                timeline.append(timeline_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "status": status,
                "overdue": overdue,
                "category": category,
                "title": title,
                "description": description,
                "occurred_on": occurred_on,
                "desired_outcome": desired_outcome,
                "complainant": complainant,
                "evidence": evidence,
                "submitted_at": submitted_at,
                "forwarded_at": forwarded_at,
                "round": round_,
                "response_due": response_due,
                "info_requests": info_requests,
                "supplements": supplements,
                "response": response,
                "appeal": appeal,
                "reforward_note": reforward_note,
            }
        )
        if rating is not UNSET:
            field_dict["rating"] = rating
        if timeline is not UNSET:
            field_dict["timeline"] = timeline

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.appeal_entry import AppealEntry  # noqa: PLC0415
        from ..models.company_answer_entry import CompanyAnswerEntry  # noqa: PLC0415
        from ..models.company_rating_entry import CompanyRatingEntry  # noqa: PLC0415
        from ..models.company_timeline_entry import CompanyTimelineEntry  # noqa: PLC0415
        from ..models.complainant_contact import ComplainantContact  # noqa: PLC0415
        from ..models.evidence_item import EvidenceItem  # noqa: PLC0415
        from ..models.info_request_entry import InfoRequestEntry  # noqa: PLC0415
        from ..models.supplement_entry import SupplementEntry  # noqa: PLC0415

        d = dict(src_dict)
        number = d.pop("number")

        status = Status(d.pop("status"))

        overdue = d.pop("overdue")

        category = d.pop("category")

        title = d.pop("title")

        description = d.pop("description")

        occurred_on = d.pop("occurred_on")

        desired_outcome = d.pop("desired_outcome")

        complainant = ComplainantContact.from_dict(d.pop("complainant"))

        evidence = []
        _evidence = d.pop("evidence")
        for evidence_item_data in _evidence:
            evidence_item = EvidenceItem.from_dict(evidence_item_data)

            evidence.append(evidence_item)

        submitted_at = d.pop("submitted_at")

        def _parse_forwarded_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        forwarded_at = _parse_forwarded_at(d.pop("forwarded_at"))

        round_ = d.pop("round")

        def _parse_response_due(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        response_due = _parse_response_due(d.pop("response_due"))

        info_requests = []
        _info_requests = d.pop("info_requests")
        for info_requests_item_data in _info_requests:
            info_requests_item = InfoRequestEntry.from_dict(info_requests_item_data)

            info_requests.append(info_requests_item)

        supplements = []
        _supplements = d.pop("supplements")
        for supplements_item_data in _supplements:
            supplements_item = SupplementEntry.from_dict(supplements_item_data)

            supplements.append(supplements_item)

        def _parse_response(data: object) -> CompanyAnswerEntry | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_type_0 = CompanyAnswerEntry.from_dict(data)

                return response_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompanyAnswerEntry | None, data)

        response = _parse_response(d.pop("response"))

        def _parse_appeal(data: object) -> AppealEntry | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                appeal_type_0 = AppealEntry.from_dict(data)

                return appeal_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AppealEntry | None, data)

        appeal = _parse_appeal(d.pop("appeal"))

        def _parse_reforward_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reforward_note = _parse_reforward_note(d.pop("reforward_note"))

        def _parse_rating(data: object) -> CompanyRatingEntry | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                rating_type_0 = CompanyRatingEntry.from_dict(data)

                return rating_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompanyRatingEntry | None | Unset, data)

        rating = _parse_rating(d.pop("rating", UNSET))

        _timeline = d.pop("timeline", UNSET)
        timeline: list[CompanyTimelineEntry] | Unset = UNSET
        if _timeline is not UNSET:
            timeline = []
            for timeline_item_data in _timeline:
                timeline_item = CompanyTimelineEntry.from_dict(timeline_item_data)

                timeline.append(timeline_item)

        company_complaint = cls(
            number=number,
            status=status,
            overdue=overdue,
            category=category,
            title=title,
            description=description,
            occurred_on=occurred_on,
            desired_outcome=desired_outcome,
            complainant=complainant,
            evidence=evidence,
            submitted_at=submitted_at,
            forwarded_at=forwarded_at,
            round_=round_,
            response_due=response_due,
            info_requests=info_requests,
            supplements=supplements,
            response=response,
            appeal=appeal,
            reforward_note=reforward_note,
            rating=rating,
            timeline=timeline,
        )

        company_complaint.additional_properties = d
        return company_complaint

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
