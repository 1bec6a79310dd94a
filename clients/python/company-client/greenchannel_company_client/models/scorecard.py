from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Scorecard")


@_attrs_define
class Scorecard:
    """
    Attributes:
        company_id (str):
        company_name (str):
        company_name_en (None | str):
        period (str): YYYY, YYYY-MM, or the last 12 months' range.
        volume (int | None):
        timely_rate (float | int | None):
        relief_rate (float | int | None):
        average_rating (float | int | None):
        appeal_rate (float | int | None):
        user_base (float | int | None):
        per_million_users (float | int | None):
    """

    company_id: str
    company_name: str
    company_name_en: None | str
    period: str
    volume: int | None
    timely_rate: float | int | None
    relief_rate: float | int | None
    average_rating: float | int | None
    appeal_rate: float | int | None
    user_base: float | int | None
    per_million_users: float | int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        company_id = self.company_id

        company_name = self.company_name

        company_name_en: None | str
        company_name_en = self.company_name_en

        period = self.period

        volume: int | None
        volume = self.volume

        timely_rate: float | int | None
        timely_rate = self.timely_rate

        relief_rate: float | int | None
        relief_rate = self.relief_rate

        average_rating: float | int | None
        average_rating = self.average_rating

        appeal_rate: float | int | None
        appeal_rate = self.appeal_rate

        user_base: float | int | None
        user_base = self.user_base

        per_million_users: float | int | None
        per_million_users = self.per_million_users

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "company_id": company_id,
                "company_name": company_name,
                "company_name_en": company_name_en,
                "period": period,
                "volume": volume,
                "timely_rate": timely_rate,
                "relief_rate": relief_rate,
                "average_rating": average_rating,
                "appeal_rate": appeal_rate,
                "user_base": user_base,
                "per_million_users": per_million_users,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        company_id = d.pop("company_id")

        company_name = d.pop("company_name")

        def _parse_company_name_en(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        company_name_en = _parse_company_name_en(d.pop("company_name_en"))

        period = d.pop("period")

        def _parse_volume(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        volume = _parse_volume(d.pop("volume"))

        def _parse_timely_rate(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        timely_rate = _parse_timely_rate(d.pop("timely_rate"))

        def _parse_relief_rate(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        relief_rate = _parse_relief_rate(d.pop("relief_rate"))

        def _parse_average_rating(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        average_rating = _parse_average_rating(d.pop("average_rating"))

        def _parse_appeal_rate(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        appeal_rate = _parse_appeal_rate(d.pop("appeal_rate"))

        def _parse_user_base(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        user_base = _parse_user_base(d.pop("user_base"))

        def _parse_per_million_users(data: object) -> float | int | None:
            if data is None:
                return data
            return cast(float | int | None, data)

        per_million_users = _parse_per_million_users(d.pop("per_million_users"))

        scorecard = cls(
            company_id=company_id,
            company_name=company_name,
            company_name_en=company_name_en,
            period=period,
            volume=volume,
            timely_rate=timely_rate,
            relief_rate=relief_rate,
            average_rating=average_rating,
            appeal_rate=appeal_rate,
            user_base=user_base,
            per_million_users=per_million_users,
        )

        scorecard.additional_properties = d
        return scorecard

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
