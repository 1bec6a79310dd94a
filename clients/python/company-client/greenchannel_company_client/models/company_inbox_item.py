from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status

if TYPE_CHECKING:
    from ..models.company_ref import CompanyRef


T = TypeVar("T", bound="CompanyInboxItem")


@_attrs_define
class CompanyInboxItem:
    """One line of the company's inbox.

    Attributes:
        number (str):
        status (Status):
        title (str):
        company (CompanyRef):
        submitted_at (str): ISO 8601 date and time.
        response_due (None | str): The last day of the response deadline (ISO 8601 date, China).
        overdue (bool):
        category (str):
        forwarded_at (None | str): ISO 8601 date and time.
        working_days_left (int | None): Working days left to answer after today (0 on the due day, still timely);
            negative once late; null when the company is not expected to answer (answered, closed, withdrawn).
        appealed (bool):
        collective (bool): Part of a collective complaint (集体投诉).
    """

    number: str
    status: Status
    title: str
    company: CompanyRef
    submitted_at: str
    response_due: None | str
    overdue: bool
    category: str
    forwarded_at: None | str
    working_days_left: int | None
    appealed: bool
    collective: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        status = self.status.value

        title = self.title

        company = self.company.to_dict()

        submitted_at = self.submitted_at

        response_due: None | str
        response_due = self.response_due

        overdue = self.overdue

        category = self.category

        forwarded_at: None | str
        forwarded_at = self.forwarded_at

        working_days_left: int | None
        working_days_left = self.working_days_left

        appealed = self.appealed

        collective = self.collective

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "status": status,
                "title": title,
                "company": company,
                "submitted_at": submitted_at,
                "response_due": response_due,
                "overdue": overdue,
                "category": category,
                "forwarded_at": forwarded_at,
                "working_days_left": working_days_left,
                "appealed": appealed,
                "collective": collective,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.company_ref import CompanyRef  # noqa: PLC0415

        d = dict(src_dict)
        number = d.pop("number")

        status = Status(d.pop("status"))

        title = d.pop("title")

        company = CompanyRef.from_dict(d.pop("company"))

        submitted_at = d.pop("submitted_at")

        def _parse_response_due(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        response_due = _parse_response_due(d.pop("response_due"))

        overdue = d.pop("overdue")

        category = d.pop("category")

        def _parse_forwarded_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        forwarded_at = _parse_forwarded_at(d.pop("forwarded_at"))

        def _parse_working_days_left(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        working_days_left = _parse_working_days_left(d.pop("working_days_left"))

        appealed = d.pop("appealed")

        collective = d.pop("collective")

        company_inbox_item = cls(
            number=number,
            status=status,
            title=title,
            company=company,
            submitted_at=submitted_at,
            response_due=response_due,
            overdue=overdue,
            category=category,
            forwarded_at=forwarded_at,
            working_days_left=working_days_left,
            appealed=appealed,
            collective=collective,
        )

        company_inbox_item.additional_properties = d
        return company_inbox_item

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
