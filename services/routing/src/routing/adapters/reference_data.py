"""Reference data shipped inside the package (``routing/data``): the seed company directory and the categories."""

from __future__ import annotations

import json
from importlib.resources import files

from pydantic import TypeAdapter

from routing.domain.categories import Category
from routing.domain.directory import Company

_DATA = files("routing").joinpath("data")


def load_companies() -> list[Company]:
    return TypeAdapter(list[Company]).validate_python(json.loads(_DATA.joinpath("companies.json").read_text("utf-8")))


def load_categories() -> list[Category]:
    return TypeAdapter(list[Category]).validate_python(json.loads(_DATA.joinpath("categories.json").read_text("utf-8")))
