"""Checks of the dependency lock and of what installs from it, offline.

uv.lock pins the whole dependency tree of the workspace (every package under libs/ and services/, and the
root's test and lint groups). These tests read it as data: it must record every package's declared
requirements exactly as the pyproject files state them today (a pyproject changed without `make lock` is a
stale lock), hold a version of every requirement that satisfies its bounds, and be what `make install`, CI and
every Dockerfile install from, the Dockerfiles copying it before any source so the dependency layer is cached.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ROOT_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
PACKAGE_DIRS = sorted(p.parent for p in (ROOT / "libs").glob("*/pyproject.toml")) + sorted(
    p.parent for p in (ROOT / "services").glob("*/pyproject.toml")
)
PROJECTS = {d.relative_to(ROOT).as_posix(): tomllib.loads((d / "pyproject.toml").read_text()) for d in PACKAGE_DIRS}
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/Dockerfile"))
STAND_INS = {"secantusdb", "nanio"}


def locked_versions() -> dict[str, list[Version]]:
    versions: dict[str, list[Version]] = {}
    for package in LOCK["package"]:
        versions.setdefault(canonicalize_name(package["name"]), []).append(Version(package["version"]))
    return versions


def declared(project: dict) -> list[tuple[str, Requirement]]:
    """Every requirement of a package: its dependencies and each extra's, with where it is declared."""
    found = [("dependencies", Requirement(r)) for r in project["project"].get("dependencies", [])]
    for extra, requirements in project["project"].get("optional-dependencies", {}).items():
        found += [(f"extra {extra}", Requirement(r)) for r in requirements]
    return found


def recorded(requirement: Requirement, extra: str | None) -> tuple:
    """A requirement the way uv.lock records a package's metadata, for comparison."""
    marker = str(requirement.marker) if requirement.marker else None
    if extra:
        marker = f"extra == '{extra}'" if marker is None else f"extra == '{extra}' and {marker}"
    return (
        canonicalize_name(requirement.name),
        tuple(sorted(requirement.extras)),
        str(requirement.specifier) or None,
        marker,
    )


def lock_entry(entry: dict) -> tuple:
    specifier = entry.get("specifier")
    return (
        canonicalize_name(entry["name"]),
        tuple(sorted(entry.get("extras", []))),
        str(Requirement(f"x{specifier}").specifier) if specifier else None,
        entry.get("marker"),
    )


def test_the_lock_has_every_package_of_the_workspace_as_a_member():
    names = {canonicalize_name(p["project"]["name"]) for p in PROJECTS.values()}
    assert set(LOCK["manifest"]["members"]) == names
    assert ROOT_PROJECT["tool"]["uv"]["workspace"]["members"] == ["libs/*", "services/*"]
    # Each package of the workspace resolves to the workspace, never to a registry's package of the same name.
    assert set(ROOT_PROJECT["tool"]["uv"]["sources"]) == names


@pytest.mark.parametrize("package_dir", sorted(PROJECTS))
def test_the_lock_records_what_each_package_declares_today(package_dir):
    project = PROJECTS[package_dir]
    name = canonicalize_name(project["project"]["name"])
    (entry,) = [p for p in LOCK["package"] if canonicalize_name(p["name"]) == name]
    declared_now = set()
    for where, requirement in declared(project):
        declared_now.add(recorded(requirement, where.removeprefix("extra ") if where != "dependencies" else None))
    in_lock = {lock_entry(e) for e in entry.get("metadata", {}).get("requires-dist", [])}
    assert declared_now == in_lock, f"{package_dir}: pyproject.toml changed since the lock was made: run `make lock`"


@pytest.mark.parametrize("package_dir", sorted(PROJECTS))
def test_the_lock_holds_a_version_of_every_declared_requirement(package_dir):
    versions = locked_versions()
    for where, requirement in declared(PROJECTS[package_dir]):
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{package_dir} ({where}): {requirement} is not in uv.lock"
        assert any(requirement.specifier.contains(v, prereleases=True) for v in versions[name]), (
            f"{package_dir} ({where}): uv.lock has {name} {versions[name]}, outside {requirement.specifier}"
        )


def test_the_lock_records_the_test_and_lint_groups_and_holds_them():
    groups = ROOT_PROJECT["dependency-groups"]
    assert {"test", "lint"} <= set(groups)
    versions = locked_versions()
    in_lock = LOCK["manifest"]["dependency-groups"]
    for group, requirements in groups.items():
        assert {lock_entry(e) for e in in_lock[group]} == {recorded(Requirement(r), None) for r in requirements}, (
            f"group {group} changed since the lock was made: run `make lock`"
        )
        for requirement in map(Requirement, requirements):
            name = canonicalize_name(requirement.name)
            assert any(requirement.specifier.contains(v, prereleases=True) for v in versions.get(name, [])), (
                f"group {group}: {requirement} has no version in uv.lock"
            )


def test_the_checkers_and_the_stand_ins_are_pinned_exactly():
    for requirement in map(Requirement, ROOT_PROJECT["dependency-groups"]["lint"]):
        assert [s.operator for s in requirement.specifier] == ["=="], f"lint tool {requirement} is not pinned"
    stand_ins = {
        canonicalize_name(r.name): r for _, r in declared(PROJECTS["libs/devstack"]) if r.name.lower() in STAND_INS
    }
    assert set(stand_ins) == STAND_INS
    for requirement in stand_ins.values():
        assert [s.operator for s in requirement.specifier] == ["=="], f"stand-in {requirement} is not pinned"


def test_the_bootstrapped_uv_is_the_version_the_workspace_requires():
    pins = [line for line in (ROOT / "requirements" / "uv.txt").read_text().splitlines() if line and line[0] != "#"]
    assert pins == [f"uv{ROOT_PROJECT['tool']['uv']['required-version']}"]


def test_every_package_is_mit_licensed():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    for package_dir, project in PROJECTS.items():
        assert project["project"].get("license") == "MIT", package_dir


def test_make_installs_from_the_lock_and_lints_before_testing():
    makefile = (ROOT / "Makefile").read_text()
    install = re.search(r"^\$\(STAMP\):.*?(?=^\S|\Z)", makefile, re.MULTILINE | re.DOTALL)
    assert install, "the install rule"
    assert "uv sync --locked" in install.group(0).replace("$(UV)", "uv")
    assert "pip install" not in install.group(0).replace("pip install --quiet -r requirements/uv.txt", "")
    assert re.search(r"^test: lint\b", makefile, re.MULTILINE), "make test runs make lint first"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("service", SERVICES)
def test_each_dockerfile_installs_from_the_lock_before_copying_source(service):
    lines = [line.strip() for line in (ROOT / "services" / service / "Dockerfile").read_text().splitlines()]
    copies = [
        (i, line.split()[1:-1]) for i, line in enumerate(lines) if line.startswith("COPY ") and "--from" not in line
    ]
    first_source = min(
        i for i, sources in copies if any(not s.endswith(("pyproject.toml", "uv.lock", ".txt")) for s in sources)
    )
    lock_copied = [i for i, sources in copies if "uv.lock" in sources]
    locked_sync = [
        i
        for i, line in enumerate(lines)
        if line.startswith("RUN uv sync --frozen") and "--no-install-workspace" in line
    ]
    assert lock_copied and lock_copied[0] < first_source, f"{service}: uv.lock is copied before the source"
    assert locked_sync and lock_copied[0] < locked_sync[0] < first_source, (
        f"{service}: the dependencies are installed from the lock before the source is copied"
    )
    assert f"--package greenchannel-{service}" in lines[locked_sync[0]]
    # Every install is from the lock: no pip install of anything but the pinned uv.
    pip_installs = [line for line in lines if "pip install" in line]
    assert pip_installs == ["RUN pip install --no-cache-dir -r requirements/uv.txt"], service
    # The image the service runs in: the last stage, non-root.
    last_stage = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    users = [line for line in lines[last_stage:] if line.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in {"0", "root"}, f"{service}: runs as non-root"
    assert not any("libs/devstack " in line or line.endswith("libs/devstack") for line in lines), (
        f"{service}: the dev stand-ins never ship"
    )
