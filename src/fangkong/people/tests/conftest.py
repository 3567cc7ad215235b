"""Fixtures of the people tests: valid ID numbers and persons built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fangkong.testkit.people import person as kit_person
from fangkong.testkit.people import ric as make_ric

__all__ = ["make_ric"]  # the people tests import it from here (fangkong.testkit.people.ric)


@dataclass
class People:
    a: Any  # 张三 in town A (community_a)
    a_id: str
    a_phone: str
    b: Any  # 李四 in town B (community_b)
    b_id: str
    b_phone: str


@pytest.fixture
def person_maker(command_user: Any) -> Any:
    counter = {"n": 100}

    def make(
        jurisdiction: Any,
        name: str = "王五",
        id_number: str | None = None,
        phone: str = "",
        id_kind: str = "ric",
        actor: Any = None,
        **extra: Any,
    ) -> Any:
        counter["n"] += 1
        number = make_ric(counter["n"]) if id_number is None and id_kind == "ric" else id_number
        return kit_person(
            jurisdiction,
            name,
            id_kind=id_kind,
            id_number=number or "",
            phone_number=phone,
            actor=actor or command_user,
            **extra,
        )

    return make


@pytest.fixture
def people(tree: Any, person_maker: Any) -> People:
    a_id, b_id = make_ric(11, "19850315"), make_ric(22, "19920704")
    a_phone, b_phone = "13812345678", "13987654321"
    a = person_maker(tree.community_a, "张三", a_id, a_phone)
    b = person_maker(tree.community_b, "李四", b_id, b_phone)
    return People(a, a_id, a_phone, b, b_id, b_phone)
