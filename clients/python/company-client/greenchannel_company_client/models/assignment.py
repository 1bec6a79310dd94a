from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="Assignment")


@_attrs_define
class Assignment:
    """
    Attributes:
        staff_id (None | str): Null: assigned to nobody.
    """

    staff_id: None | str

    def to_dict(self) -> dict[str, Any]:
        staff_id: None | str
        staff_id = self.staff_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "staff_id": staff_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_staff_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        staff_id = _parse_staff_id(d.pop("staff_id"))

        assignment = cls(
            staff_id=staff_id,
        )

        return assignment
