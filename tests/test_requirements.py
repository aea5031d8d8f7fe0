"""pyproject.toml declares what requirements.txt pins: the same packages, and every pin inside its range."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    """{package: pinned version} of one requirements file, without the files it includes (-r)."""
    found = {}
    for line in (REPO / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", f"{name}: {line} is not pinned"
            found[canonicalize_name(requirement.name)] = spec.version
    return found


@pytest.mark.parametrize(
    ("pinned", "declared"),
    [("requirements.txt", PROJECT["dependencies"]), ("requirements-dev.txt", PROJECT["optional-dependencies"]["dev"])],
)
def test_pyproject_declares_exactly_the_pinned_packages(pinned: str, declared: list[str]) -> None:
    ranges = {canonicalize_name(r.name): r.specifier for r in map(Requirement, declared)}
    versions = pins(pinned)
    assert sorted(ranges) == sorted(versions)
    assert [name for name, version in versions.items() if version not in ranges[name]] == []


def test_dev_requirements_include_the_runtime_ones() -> None:
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text().splitlines()
