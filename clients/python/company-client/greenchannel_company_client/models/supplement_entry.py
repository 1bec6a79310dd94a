from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.evidence_item import EvidenceItem


T = TypeVar("T", bound="SupplementEntry")


@_attrs_define
class SupplementEntry:
    """
    Attributes:
        text (str):
        evidence (list[EvidenceItem]):
        at (str):
    """

    text: str
    evidence: list[EvidenceItem]
    at: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        evidence = []
        for evidence_item_data in self.evidence:
            evidence_item = evidence_item_data.to_dict()
            evidence.append(evidence_item)

        at = self.at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "text": text,
                "evidence": evidence,
                "at": at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.evidence_item import EvidenceItem  # noqa: PLC0415

        d = dict(src_dict)
        text = d.pop("text")

        evidence = []
        _evidence = d.pop("evidence")
        for evidence_item_data in _evidence:
            evidence_item = EvidenceItem.from_dict(evidence_item_data)

            evidence.append(evidence_item)

        at = d.pop("at")

        supplement_entry = cls(
            text=text,
            evidence=evidence,
            at=at,
        )

        supplement_entry.additional_properties = d
        return supplement_entry

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
