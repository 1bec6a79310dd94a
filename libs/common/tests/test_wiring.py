"""The wiring helpers every service's main.py uses: parts a test overrides by name, and the container on app.state."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from greenchannel.runtime import Overrides, expose

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Container:
    clock: object
    store: object


def build(overrides: Overrides) -> Container:
    container = Container(
        clock=overrides("clock", lambda: "real clock"), store=overrides("store", lambda: "real store")
    )
    overrides.check_all_used()
    return container


def test_a_test_part_replaces_the_built_one_and_the_others_are_built():
    assert build(Overrides({"clock": "pinned clock"})) == Container(clock="pinned clock", store="real store")
    assert build(Overrides()) == Container(clock="real clock", store="real store")


def test_a_misspelt_override_is_refused():
    with pytest.raises(TypeError, match="no part named colck"):
        build(Overrides({"colck": "pinned clock"}))


def test_the_container_and_each_part_are_on_the_app_state():
    app = FastAPI()
    container = build(Overrides())
    expose(app, container)
    assert app.state.container is container
    assert (app.state.clock, app.state.store) == ("real clock", "real store")
