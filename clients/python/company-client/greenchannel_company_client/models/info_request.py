from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="InfoRequest")


@_attrs_define
class InfoRequest:
    """
    Attributes:
        question (str):
    """

    question: str

    def to_dict(self) -> dict[str, Any]:
        question = self.question

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "question": question,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        question = d.pop("question")

        info_request = cls(
            question=question,
        )

        return info_request
