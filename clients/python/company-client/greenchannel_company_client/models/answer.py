from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.answer_response_type import AnswerResponseType

T = TypeVar("T", bound="Answer")


@_attrs_define
class Answer:
    """
    Attributes:
        response_type (AnswerResponseType):
        text (str):
    """

    response_type: AnswerResponseType
    text: str

    def to_dict(self) -> dict[str, Any]:
        response_type = self.response_type.value

        text = self.text

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "response_type": response_type,
                "text": text,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        response_type = AnswerResponseType(d.pop("response_type"))

        text = d.pop("text")

        answer = cls(
            response_type=response_type,
            text=text,
        )

        return answer
