"""people_delete_under deletes exactly the persons and households under a path."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.people.bulk import people_delete_under
from fangkong.people.models import Household, Person

pytestmark = pytest.mark.django_db


def _household(community: Any) -> Household:
    return Household.objects.create(
        address=f"{community.name}1号", community=community, jurisdiction_path=community.path
    )


def _person(jurisdiction: Any, name: str, household: Household | None = None) -> Person:
    return Person.objects.create(
        name=name,
        id_kind="none",
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        household=household,
    )


def test_people_delete_under_a_town_leaves_the_neighbouring_town(tree: Any) -> None:
    home_a, home_b = _household(tree.community_a), _household(tree.community_b)
    _person(tree.community_a, "甲一", home_a)
    _person(tree.grid_a, "甲二", home_a)
    kept = {_person(tree.community_b, "乙一", home_b).pk, _person(tree.town_b, "乙二").pk}

    deleted = people_delete_under(tree.town_a.path)

    assert deleted == {"people.Person": 2, "people.Household": 1}
    assert set(Person.objects.values_list("pk", flat=True)) == kept
    assert list(Household.objects.values_list("pk", flat=True)) == [home_b.pk]
