"""Check that requirements.lock pins every dependency that pyproject.toml declares.

Each declared requirement must appear in the lock with an exact version (==) that
satisfies the declared range, with hashes; and the installed packages must be the locked
versions. Run by `make lint` (and so by CI).
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def locked_versions(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for match in re.finditer(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", text, re.M):
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    lock_text = (ROOT / "requirements.lock").read_text()
    pins = locked_versions(lock_text)
    problems: list[str] = []
    if "--hash=sha256:" not in lock_text:
        problems.append("requirements.lock carries no hashes")
    for spec in declared:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req.name} is declared but not pinned in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req.name}=={pins[name]} does not satisfy {req.specifier}")
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={version} is locked but not installed (make bootstrap)")
            continue
        if installed != version:
            problems.append(f"{name}: installed {installed}, locked {version}")
    for problem in problems:
        print(f"lock: {problem}", file=sys.stderr)
    if not problems:
        print(f"lock: {len(pins)} packages pinned with hashes, all installed as locked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
