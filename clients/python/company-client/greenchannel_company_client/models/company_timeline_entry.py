from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status

T = TypeVar("T", bound="CompanyTimelineEntry")


@_attrs_define
class CompanyTimelineEntry:
    """
    Attributes:
        at (str):
        action (str):
        status (Status):
        by (str): Which side took the step: guest, complainant, company, operator, or a service (routing, notification).
    """

    at: str
    action: str
    status: Status
    by: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at

        action = self.action

        status = self.status.value

        by = self.by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "action": action,
                "status": status,
                "by": by,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = d.pop("at")

        action = d.pop("action")

        status = Status(d.pop("status"))

        by = d.pop("by")

        company_timeline_entry = cls(
            at=at,
            action=action,
            status=status,
            by=by,
        )

        company_timeline_entry.additional_properties = d
        return company_timeline_entry

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
