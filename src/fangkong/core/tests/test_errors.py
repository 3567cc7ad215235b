"""`core.errors.translate`: the one translation of a refusal, shared by the API and pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from ninja.errors import AuthenticationError

from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied, translate

SRC = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (DomainError("bad_input", "输入不完整", field="x"), 400, "bad_input"),
        (PermissionDenied("permission_denied", "无权"), 403, "permission_denied"),
        (NotFound("not_found", "未找到"), 404, "not_found"),
        (Conflict("zone_already_lifted", "已解除"), 409, "zone_already_lifted"),
        (DjangoValidationError("坏值"), 400, "invalid_input"),
        (AuthenticationError(), 401, "not_authenticated"),
        (RequestDataTooBig(), 413, "request_too_large"),
        (OverflowError("too large"), 400, "number_out_of_range"),
        (OperationalError("database is locked"), 503, "database_busy"),
    ],
)
def test_every_refusal_has_one_status_and_code(error: Exception, status: int, code: str) -> None:
    refusal = translate(error)

    assert refusal is not None
    assert (refusal.status, refusal.code) == (status, code)
    assert set(refusal.as_dict()) == {"code", "message", "detail"}


def test_a_domain_errors_detail_and_message_are_kept() -> None:
    refusal = translate(DomainError("bad_input", "输入不完整", field="x"))

    assert refusal is not None
    assert refusal.as_dict() == {
        "code": "bad_input",
        "message": "输入不完整",
        "detail": {"field": "x"},
    }


def test_a_domain_error_with_a_status_outside_4xx_is_a_400() -> None:
    refusal = translate(DomainError("odd", "odd", status=302))

    assert refusal is not None and refusal.status == 400


@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom"), OperationalError("no such table: x"), KeyError("k")],
)
def test_what_is_not_a_refusal_is_left_to_django(error: Exception) -> None:
    assert translate(error) is None


def test_no_router_declares_the_error_shape_of_its_own() -> None:
    """`ErrorOut` is published once, for every operation, by fangkong.api: a router that
    declared it per endpoint would drift from the others (2 of 12 once did)."""
    routers = [*SRC.glob("fangkong/*/api.py"), *SRC.glob("fangkong/*/api/*.py")]
    offenders = [
        str(path.relative_to(SRC))
        for path in routers
        if re.search(r"\bErrorOut\b", path.read_text("utf-8"))
    ]

    assert len(routers) > 10
    assert offenders == []
