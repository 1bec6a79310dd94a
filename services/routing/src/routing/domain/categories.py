"""Complaint categories: a fixed list of codes with Chinese and English labels."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

FALLBACK_CATEGORY = "other"


class Category(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z_]*$", examples=["auto_renewal"])
    zh: str = Field(min_length=1, examples=["自动续费"])
    en: str = Field(min_length=1, examples=["Auto-renewal"])


def effective_category(requested: str | None, known: Iterable[Category]) -> str:
    """The requested code if it is a known one (case and surrounding spaces ignored), else ``other``."""
    code = (requested or "").strip().lower()
    return code if code in {category.code for category in known} else FALLBACK_CATEGORY
