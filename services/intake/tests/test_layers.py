"""intake's layers, read from its source: routers never write the store, the case store is the only writer of
the case file, every event is built in ``intake.core.events``, nobody wakes the outbox relay by hand, and
dependencies point inwards (the domain and the use cases never import the edge)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import intake
from greenchannel import contracts
from greenchannel.contracts import EventData

SOURCE = Path(intake.__file__).parent
WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)
CASE_FILE = ("complaints", "evidence_links")
CASE_STORE = "adapters/case_store.py"
# Re-encrypts sealed values in place under the active key, in every collection that holds them (no step of a case).
KEY_ROTATION = "rotate_keys.py"
EVENTS = "core/events.py"
# Data migrations change the stored shape of documents in place (a field backfilled, a value sealed): no step of a case.
MIGRATIONS = "migrations/"


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SOURCE.rglob("*.py")):
        yield path.relative_to(SOURCE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def calls(tree: ast.Module) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def method_calls(tree: ast.Module, names: frozenset[str]) -> Iterator[tuple[int, str]]:
    for call in calls(tree):
        if isinstance(call.func, ast.Attribute) and call.func.attr in names:
            yield call.lineno, ast.unparse(call.func)


def test_the_scan_sees_the_writes_it_looks_for():
    tree = ast.parse("async def f(cases):\n    await cases.complaints.update_one({}, {})\n")
    assert list(method_calls(tree, WRITES)) == [(2, "cases.complaints.update_one")]


def test_routers_never_write_the_store():
    found = [
        (name, line, call)
        for name, tree in modules()
        if name.startswith("api/")
        for line, call in method_calls(tree, WRITES)
    ]
    assert found == []


def test_the_case_store_is_the_only_writer_of_the_case_file():
    assert list(method_calls(ast.parse((SOURCE / CASE_STORE).read_text(encoding="utf-8")), WRITES))
    found = [
        (name, line, call)
        for name, tree in modules()
        if name not in (CASE_STORE, KEY_ROTATION) and not name.startswith(MIGRATIONS)
        for line, call in method_calls(tree, WRITES)
        if any(collection in call for collection in CASE_FILE)
    ]
    assert found == []


def test_every_event_is_built_in_one_module():
    event_types = {
        name
        for name, member in inspect.getmembers(contracts, inspect.isclass)
        if issubclass(member, EventData) and member is not EventData
    }
    assert {"ComplaintSubmitted", "ComplaintPublished", "AccessGuessingDetected"} <= event_types

    def built(tree: ast.Module) -> list[tuple[int, str]]:
        return [
            (call.lineno, name)
            for call in calls(tree)
            if (name := getattr(call.func, "id", None) or getattr(call.func, "attr", None)) in event_types
        ]

    found = {name: built(tree) for name, tree in modules() if name != EVENTS}
    assert {name: lines for name, lines in found.items() if lines} == {}
    events_module = ast.parse((SOURCE / EVENTS).read_text(encoding="utf-8"))
    assert len({name for _, name in built(events_module)}) >= 15


def test_nobody_wakes_the_outbox_relay_by_hand():
    # The outbox wakes its relay once the transaction that staged an entry commits.
    found = [(name, line, call) for name, tree in modules() for line, call in method_calls(tree, frozenset({"wake"}))]
    assert found == []


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module a file imports, type-checking-only imports included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)


def test_dependencies_point_inwards():
    """The use cases and the domain never reach back to the HTTP edge (not even for a type); the domain reaches
    nothing of intake's but the domain."""
    outward = {
        "core/": ("intake.api", "intake.web", "intake.handlers", "intake.jobs", "intake.main"),
        "domain/": (
            "intake.api",
            "intake.web",
            "intake.handlers",
            "intake.jobs",
            "intake.main",
            "intake.core",
            "intake.adapters",
        ),
    }
    found = [
        (name, line, module)
        for name, tree in modules()
        for layer, forbidden in outward.items()
        if name.startswith(layer)
        for line, module in imported_modules(tree)
        if module.startswith(forbidden)
    ]
    assert found == []
