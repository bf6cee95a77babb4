"""Packaging: pyproject.toml states version ranges; constraints.txt pins, within them, what make installs."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return [Requirement(r) for r in listed]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_dependencies_are_ranges_not_exact_pins():
    # An exact pin would downgrade or upgrade a user's own packages when they install covsim.
    exact = [str(r) for r in _requirements() if any(s.operator in ("==", "===") for s in r.specifier)]
    assert not exact


def test_every_dependency_is_pinned_within_its_range():
    pins = _pins()
    for r in _requirements():
        name = canonicalize_name(r.name)
        assert name in pins, f"constraints.txt does not pin {r.name}"
        assert r.specifier.contains(pins[name], prereleases=True), f"{r.name}=={pins[name]} is outside {r.specifier}"


def test_the_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version

    pins = _pins()
    for r in _requirements():
        assert version(r.name) == pins[canonicalize_name(r.name)], r.name
