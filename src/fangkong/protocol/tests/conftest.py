"""Fixtures of the protocol tests: the shipped v8/v9 values as pure Protocols."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest

from fangkong.protocol.rules import Protocol

SHIPPED: dict[str, dict[str, Any]] = importlib.import_module(
    "fangkong.protocol.migrations.0003_ship_versions_8_and_9"
).RULESETS


def shipped_protocol(version: str, **overrides: Any) -> Protocol:
    values = {**SHIPPED[version], **overrides}
    return Protocol.from_ruleset(SimpleNamespace(version=version, **values))


@pytest.fixture
def v8() -> Protocol:
    return shipped_protocol("v8")


@pytest.fixture
def v9() -> Protocol:
    return shipped_protocol("v9")
