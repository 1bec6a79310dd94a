from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status

if TYPE_CHECKING:
    from ..models.company_ref import CompanyRef


T = TypeVar("T", bound="ComplaintSummary")


@_attrs_define
class ComplaintSummary:
    """One line of a list of complaints (the company's, an account's own).

    Attributes:
        number (str):
        status (Status):
        title (str):
        company (CompanyRef):
        submitted_at (str): ISO 8601 date and time.
        response_due (None | str): The last day of the response deadline (ISO 8601 date, China).
        overdue (bool):
    """

    number: str
    status: Status
    title: str
    company: CompanyRef
    submitted_at: str
    response_due: None | str
    overdue: bool
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

        complaint_summary = cls(
            number=number,
            status=status,
            title=title,
            company=company,
            submitted_at=submitted_at,
            response_due=response_due,
            overdue=overdue,
        )

        complaint_summary.additional_properties = d
        return complaint_summary

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
