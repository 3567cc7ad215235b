"""Factories and fixtures of the cases tests (imported by the test_cases_* modules).

Test data is built through the product's services: persons through people.services,
places through areas.services, cases through tracing.services.cases, scans through
scans.services.scans_bulk_insert.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.areas.services import areas as area_services
from fangkong.people import rules as people_rules
from fangkong.people import services as people_services
from fangkong.scans.services import scans_bulk_insert
from fangkong.tracing.models import Case
from fangkong.tracing.services import cases as case_services

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def make_ric(seq: int, birth: str = "19900101", region: str = "330483") -> str:
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + people_rules.ric_checksum(body)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware Asia/Shanghai moment on `day`."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


_seq = {"n": 500}


def make_person(actor: Any, jurisdiction: Any, name: str = "王芳") -> Any:
    _seq["n"] += 1
    return people_services.person_create(
        actor=actor,
        name=name,
        id_kind="ric",
        id_number=make_ric(_seq["n"]),
        jurisdiction=jurisdiction,
    )


def make_case(actor: Any, person: Any, **kwargs: Any) -> Case:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "kind": "asymptomatic",
        "first_positive_sampled_on": today - dt.timedelta(days=3),
    }
    values.update(kwargs)
    return case_services.case_create(actor=actor, person=person, **values)


def make_place(admin: Any, jurisdiction: Any, name: str, code: str) -> Any:
    return area_services.place_create(
        actor=admin, kind="venue", name=name, jurisdiction=jurisdiction, venue_code=code
    )


def insert_scans(person: Any, scans: list[tuple[Any, dt.datetime]]) -> int:
    return scans_bulk_insert(
        (person.pk, place.pk, moment, timezone.localdate(moment), place.jurisdiction_path)
        for place, moment in scans
    )


@pytest.fixture
def investigator(tree: Any, make_user: Any) -> Any:
    return make_user(Role.INVESTIGATOR, tree.city, "investigator")


@pytest.fixture
def admin_user(tree: Any, make_user: Any) -> Any:
    return make_user(Role.ADMIN, tree.city, "admin")


@pytest.fixture
def lab_user(tree: Any, make_user: Any) -> Any:
    return make_user(Role.LAB, tree.city, "lab")


@pytest.fixture
def person_a(tree: Any, command_user: Any) -> Any:
    return make_person(command_user, tree.community_a, "张三")


@pytest.fixture
def person_b(tree: Any, command_user: Any) -> Any:
    return make_person(command_user, tree.community_b, "李四")


@pytest.fixture
def places(tree: Any, admin_user: Any) -> dict[str, Any]:
    return {
        "hotel": make_place(admin_user, tree.community_a, "乌镇大酒店", "V0001"),
        "market": make_place(admin_user, tree.community_a, "乌镇菜场", "V0002"),
        "shop": make_place(admin_user, tree.community_b, "濮院超市", "V0003"),
    }
