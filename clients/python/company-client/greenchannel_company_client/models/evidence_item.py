from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EvidenceItem")


@_attrs_define
class EvidenceItem:
    """
    Attributes:
        evidence_id (str):
        filename (str):
        media_type (str):
        size (int):
        sha256 (str):
    """

    evidence_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        evidence_id = self.evidence_id

        filename = self.filename

        media_type = self.media_type

        size = self.size

        sha256 = self.sha256

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evidence_id": evidence_id,
                "filename": filename,
                "media_type": media_type,
                "size": size,
                "sha256": sha256,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        evidence_id = d.pop("evidence_id")

        filename = d.pop("filename")

        media_type = d.pop("media_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        evidence_item = cls(
            evidence_id=evidence_id,
            filename=filename,
            media_type=media_type,
            size=size,
            sha256=sha256,
        )

        evidence_item.additional_properties = d
        return evidence_item

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
