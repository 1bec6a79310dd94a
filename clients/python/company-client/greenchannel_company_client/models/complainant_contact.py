from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ComplainantContact")


@_attrs_define
class ComplainantContact:
    """Name and phone in full, to reach the complainant; the ID number and e-mail masked.

    Attributes:
        name (str):
        phone (str):
        id_number (None | str):
        email (None | str):
    """

    name: str
    phone: str
    id_number: None | str
    email: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        phone = self.phone

        id_number: None | str
        id_number = self.id_number

        email: None | str
        email = self.email

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "phone": phone,
                "id_number": id_number,
                "email": email,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        phone = d.pop("phone")

        def _parse_id_number(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        id_number = _parse_id_number(d.pop("id_number"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        complainant_contact = cls(
            name=name,
            phone=phone,
            id_number=id_number,
            email=email,
        )

        complainant_contact.additional_properties = d
        return complainant_contact

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
