"""The import contracts of pyproject.toml ([tool.importlinter], run by `make lint`).

Each contract is shown to bite: a copy of the package gets one deliberate violation in a
new module, and `lint-imports` on the copy fails naming that contract (and only it). The
real tree passes; every app is placed in each contract; no listed exemption is stale.
No database: the linter reads the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = SRC / "fangkong"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}

# Packages the models and crypto contracts deliberately do not hold as sources (the
# reasons are in pyproject.toml): the drill and the bench build whole cities straight
# into every app's tables, the testkit builds test data; people owns the ciphertexts.
MODELS_EXEMPT = {"drill", "bench", "testkit"}
CRYPTO_EXEMPT = {"people", "core"}


def _run(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _status(output: str) -> dict[str, str]:
    """Contract name → KEPT / BROKEN, from the linter's summary lines."""
    found: dict[str, str] = {}
    for contract in CONTRACTS.values():
        for line in output.splitlines():
            if line.startswith(contract["name"] + " "):
                found[contract["id"]] = "BROKEN" if " BROKEN" in line else "KEPT"
    return found


def _apps() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package's Python source and pyproject.toml in a temporary directory."""
    root = tmp_path_factory.mktemp("contracts")

    def skip(directory: str, names: list[str]) -> set[str]:
        return {
            n
            for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not Path(directory, n).is_dir())
        }

    shutil.copytree(PACKAGE, root / "fangkong", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    yield root


def test_the_real_tree_keeps_every_contract() -> None:
    result = _run(SRC, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _status(result.stdout) == dict.fromkeys(CONTRACTS, "KEPT")


# (contract, module planted, its source): each breaks its contract and leaves the others kept
VIOLATIONS: list[tuple[str, str, str]] = [
    # core, the lowest layer, reaching up into people
    ("layers", "fangkong/core/_planted.py", "from fangkong.people import rules\n"),
    # areas reaching up into tracing
    ("layers", "fangkong/areas/_planted.py", "import fangkong.tracing.selectors.cases\n"),
    # tracing code querying people's table instead of asking people's selectors
    ("models", "fangkong/tracing/_planted.py", "from fangkong.people.models import Person\n"),
    ("models", "fangkong/web/_planted.py", "import fangkong.areas.models\n"),
    # testing decrypting an ID number itself instead of asking people
    ("crypto", "fangkong/testing/_planted.py", "from fangkong.core.crypto import decrypt\n"),
    ("crypto", "fangkong/drill/_planted.py", "from fangkong.core import crypto\n"),
]


@pytest.mark.parametrize(("contract", "path", "source"), VIOLATIONS)
def test_a_planted_violation_breaks_its_contract(
    copy: Path, contract: str, path: str, source: str
) -> None:
    planted = copy / path
    planted.write_text(source)
    try:
        result = _run(copy, copy / "pyproject.toml")
    finally:
        planted.unlink()

    assert result.returncode != 0
    expected = dict.fromkeys(CONTRACTS, "KEPT") | {contract: "BROKEN"}
    assert _status(result.stdout) == expected, result.stdout
    module = path.removesuffix(".py").replace("/", ".")
    assert module in result.stdout  # the report names the offending module


def test_models_for_typing_and_foreign_keys_are_allowed(copy: Path) -> None:
    """Under TYPE_CHECKING, or from a models module (a ForeignKey), another app's models
    may be imported."""
    typing_only = copy / "fangkong/tracing/_typing.py"
    typing_only.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from fangkong.people.models import Person\n"
    )
    models = copy / "fangkong/tracing/models.py"
    original = models.read_text()
    models.write_text(original + "\nfrom fangkong.people.models import Person  # noqa\n")
    try:
        result = _run(copy, copy / "pyproject.toml")
    finally:
        typing_only.unlink()
        models.write_text(original)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_app_is_placed_in_every_contract() -> None:
    """A new app must be added to the contracts: a layer, and a source of the models and
    crypto contracts unless exempt (with its reason in pyproject.toml)."""
    apps = _apps()
    layered = {
        module.strip().removeprefix("fangkong.")
        for layer in CONTRACTS["layers"]["layers"]
        for module in layer.replace("|", ":").split(":")
    }
    models_sources = {m.removeprefix("fangkong.") for m in CONTRACTS["models"]["source_modules"]}
    crypto_sources = {m.removeprefix("fangkong.") for m in CONTRACTS["crypto"]["source_modules"]}

    assert apps - layered == set()
    assert apps - MODELS_EXEMPT - {"core"} - models_sources == set()
    assert apps - CRYPTO_EXEMPT - crypto_sources == set()


def _exemptions() -> list[tuple[str, str, str]]:
    rows = []
    for contract in CONTRACTS.values():
        for expression in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in expression.split("->"))
            if "*" not in expression:
                rows.append((contract["id"], importer, imported))
    return rows


@pytest.fixture(scope="module")
def graph() -> Any:
    return grimp.build_graph("fangkong", exclude_type_checking_imports=True)


@pytest.mark.parametrize(("contract", "importer", "imported"), _exemptions())
def test_no_listed_exemption_is_stale(
    graph: Any, contract: str, importer: str, imported: str
) -> None:
    """An exemption whose import is gone must leave the list (the models contract does
    not report unmatched exemptions itself: its wildcard ones stand for models to come)."""
    assert graph.direct_import_exists(importer=importer, imported=imported), (
        f"{contract}: {importer} no longer imports {imported}; drop it from pyproject.toml"
    )
