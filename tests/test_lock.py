"""The lock files keep up with pyproject.toml: every dependency is locked, at a version it allows, with hashes.

`make lock` regenerates them; forgetting to after a change to pyproject.toml fails here, not on a
fresh machine that installs the old set.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\[\],-]+)==([^ ;\\]+)")


def locked(name: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    text = (ROOT / name).read_text()
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1).split("[")[0])] = Version(match.group(2))
    # Every pin carries its hashes, so pip installs it in hash-checking mode.
    assert text.count("==") <= text.count("--hash=sha256:")
    return pins


def wanted(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(spec) for spec in names]


@pytest.mark.parametrize(("lock", "extra"), [("requirements.txt", None), ("requirements-dev.txt", "dev")])
def test_every_dependency_is_locked_at_a_version_pyproject_allows(lock: str, extra: str | None) -> None:
    pins = locked(lock)
    for requirement in wanted(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name} {pins[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_every_runtime_dependency_has_its_major_version_capped() -> None:
    for requirement in wanted(None):
        if canonicalize_name(requirement.name) == "tzdata":
            continue  # versioned by year: the newest rules are always wanted
        assert any(spec.operator in ("<", "==", "~=") for spec in requirement.specifier), requirement


def test_the_linters_are_pinned_exactly() -> None:
    dev = {canonicalize_name(r.name): r for r in wanted("dev")}
    for tool in ("ruff", "mypy"):
        assert [spec.operator for spec in dev[tool].specifier] == ["=="], dev[tool]
