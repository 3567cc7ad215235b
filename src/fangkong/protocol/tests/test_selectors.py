"""Which rule set is in force: the shipped versions, dates, regions, future dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.core.errors import DomainError, NotFound
from fangkong.protocol.models import RuleSet
from fangkong.protocol.rules import Protocol
from fangkong.protocol.selectors import in_force_ids, ruleset_for, rulesets_for

from .conftest import SHIPPED

D = dt.date
WUZHEN = "330483102001"

pytestmark = pytest.mark.django_db


def override(version: str, *, region: str, effective_from: dt.date, **values: object) -> RuleSet:
    base = RuleSet.objects.get(version="v9")
    fields = {f.name: getattr(base, f.name) for f in RuleSet._meta.concrete_fields}
    for name in ("id", "created_at", "updated_at", "based_on"):
        fields.pop(name, None)
    fields.update(
        version=version, name=f"本地 {version}", region=region, effective_from=effective_from
    )
    fields.update(values)
    return RuleSet.objects.create(based_on=base, **fields)


def test_migration_ships_v8_and_v9_nationally_with_their_sources() -> None:
    v8 = RuleSet.objects.get(version="v8")
    v9 = RuleSet.objects.get(version="v9")
    assert (v8.region, v9.region) == ("", "")
    assert v8.effective_from == D(2021, 5, 11)
    assert v9.effective_from == D(2022, 6, 28)
    assert "第八版" in v8.source and "第九版" in v9.source
    assert (v9.close_centralised_days, v9.close_home_monitoring_days) == (7, 3)
    assert v9.close_centralised_test_days == [1, 2, 3, 5, 7]
    assert v8.close_centralised_test_days == [1, 4, 7, 14]
    assert v9.secondary_measure == "home" and v8.secondary_measure == "centralised"
    for version, values in SHIPPED.items():
        db = Protocol.from_ruleset(RuleSet.objects.get(version=version))
        assert db.close_centralised_days == values["close_centralised_days"]


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (D(2021, 5, 11), "v8"),
        (D(2022, 6, 27), "v8"),
        (D(2022, 6, 28), "v9"),
        (D(2022, 12, 1), "v9"),
    ],
)
def test_ruleset_for_by_date(on: dt.date, version: str) -> None:
    assert ruleset_for(on_date=on, path=WUZHEN).version == version
    assert ruleset_for(on_date=on).version == version


def test_no_ruleset_before_version_8() -> None:
    with pytest.raises(NotFound) as err:
        ruleset_for(on_date=D(2021, 5, 10))
    assert err.value.code == "no_ruleset"


def test_region_specific_override_beats_national() -> None:
    override("v9-330483", region="330483", effective_from=D(2022, 6, 28), secondary_days=10)
    assert ruleset_for(on_date=D(2022, 7, 1), path=WUZHEN).version == "v9-330483"
    assert ruleset_for(on_date=D(2022, 7, 1), path="330483").version == "v9-330483"
    # another city, and the national lookup, keep the national version
    assert ruleset_for(on_date=D(2022, 7, 1), path="330402").version == "v9"
    assert ruleset_for(on_date=D(2022, 7, 1)).version == "v9"
    # before its date of effect the override does not apply
    assert ruleset_for(on_date=D(2022, 6, 27), path=WUZHEN).version == "v8"


def test_more_specific_region_wins_among_overrides_of_the_same_date() -> None:
    override("v9-330483", region="330483", effective_from=D(2022, 7, 1))
    override("v9-330483102", region="330483102", effective_from=D(2022, 7, 1))
    assert ruleset_for(on_date=D(2022, 7, 2), path=WUZHEN).version == "v9-330483102"
    assert ruleset_for(on_date=D(2022, 7, 2), path="330483101001").version == "v9-330483"


def test_a_later_national_version_supersedes_an_older_local_override() -> None:
    override("v8-330483", region="330483", effective_from=D(2021, 6, 1))
    assert ruleset_for(on_date=D(2022, 6, 1), path=WUZHEN).version == "v8-330483"
    assert ruleset_for(on_date=D(2022, 6, 28), path=WUZHEN).version == "v9"


def test_future_dated_rule_set_is_not_used() -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    override("v10", region="", effective_from=tomorrow)
    override("v10-330483", region="330483", effective_from=tomorrow)
    assert ruleset_for(on_date=timezone.localdate(), path=WUZHEN).version == "v9"
    assert ruleset_for(on_date=tomorrow, path=WUZHEN).version == "v10-330483"


def test_rulesets_for_agrees_with_ruleset_for_path_by_path_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    override("v9-330483", region="330483", effective_from=D(2022, 7, 1))
    override("v9-330483102", region="330483102", effective_from=D(2022, 7, 1))
    override("v8-330402", region="330402", effective_from=D(2021, 6, 1))
    paths = [WUZHEN, "330483101001", "330483", "330402", "330402001", ""]
    for on in (D(2021, 5, 10), D(2022, 6, 1), D(2022, 7, 1), D(2022, 7, 2)):
        with django_assert_num_queries(1):
            found = rulesets_for(on_date=on, paths=paths)
        for path in paths:
            try:
                expected: str | None = ruleset_for(on_date=on, path=path).version
            except NotFound:
                expected = None
            got = found[path]
            assert (got.version if got is not None else None) == expected, (on, path)
    most_specific = rulesets_for(on_date=D(2022, 7, 2), paths=[WUZHEN])[WUZHEN]
    assert most_specific is not None and most_specific.version == "v9-330483102"


def test_ruleset_for_refuses_a_path_that_is_not_digits() -> None:
    with pytest.raises(DomainError) as err:
        ruleset_for(on_date=D(2022, 7, 1), path="3304' OR 1=1")
    assert err.value.code == "invalid_path"


def test_in_force_ids_agrees_with_ruleset_for() -> None:
    local = override("v9-330483", region="330483", effective_from=D(2022, 7, 1))
    override("v11", region="", effective_from=D(2099, 1, 1))
    everything = list(RuleSet.objects.all())
    ids = in_force_ids(everything, on_date=D(2022, 7, 2))
    v9 = RuleSet.objects.get(version="v9")
    assert ids == {v9.pk, local.pk}
    assert in_force_ids(everything, on_date=D(2022, 6, 1)) == {RuleSet.objects.get(version="v8").pk}


def test_rulesets_for_many_paths_agrees_with_ruleset_for_in_one_query(
    django_assert_max_num_queries: Any,
) -> None:
    override("v8-330483", region="330483", effective_from=D(2021, 6, 1))
    override("v9-330483", region="330483", effective_from=D(2022, 7, 1))
    override("v9-330483102", region="330483102", effective_from=D(2022, 7, 1))
    paths = [WUZHEN, "330483102", "330483101001", "330483", "330402", ""]
    for on in (D(2021, 5, 1), D(2022, 6, 1), D(2022, 6, 28), D(2022, 7, 2)):
        with django_assert_max_num_queries(1):
            many = rulesets_for(on_date=on, paths=paths)
        for path in paths:
            try:
                one: RuleSet | None = ruleset_for(on_date=on, path=path)
            except NotFound:
                one = None
            assert many[path] == one, (on, path)
    assert rulesets_for(on_date=D(2021, 5, 1), paths=[WUZHEN]) == {WUZHEN: None}
