"""Local overrides and updates of rule sets: validation codes, permission, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import DomainError, PermissionDenied
from fangkong.protocol.models import RuleSet
from fangkong.protocol.selectors import ruleset_for
from fangkong.protocol.services import (
    ruleset_create,
    ruleset_create_override,
    ruleset_update,
    ruleset_values,
)

D = dt.date


@pytest.fixture
def v9(db: None) -> RuleSet:
    return RuleSet.objects.get(version="v9")


def create(actor: Any, base: RuleSet, **kw: Any) -> RuleSet:
    args: dict[str, Any] = {
        "actor": actor,
        "based_on": base,
        "version": "v9-330483",
        "name": "桐乡市第九版本地调整",
        "region": "330483",
        "effective_from": D(2022, 7, 1),
        "changes": {"secondary_days": 10, "secondary_test_days": [1, 4, 7, 10]},
    }
    args.update(kw)
    return ruleset_create_override(**args)


def test_override_copies_the_base_and_applies_changes(command_user: Any, v9: RuleSet) -> None:
    rs = create(command_user, v9)
    assert rs.based_on == v9
    assert rs.secondary_days == 10
    assert rs.secondary_test_days == [1, 4, 7, 10]
    assert rs.close_centralised_test_days == [1, 2, 3, 5, 7]  # copied
    assert rs.downgrade_requires_screening is True  # copied
    assert "v9" in rs.source
    assert ruleset_for(on_date=D(2022, 7, 2), path="330483102").pk == rs.pk


def test_override_is_audited(command_user: Any, v9: RuleSet) -> None:
    rs = create(command_user, v9)
    event = AuditEvent.objects.get(action="ruleset.create")
    assert event.actor == command_user
    assert event.object_id == str(rs.pk)
    assert event.jurisdiction_path == "330483"
    assert event.detail["based_on"] == "v9"
    assert event.detail["changes"] == {"secondary_days": 10, "secondary_test_days": [1, 4, 7, 10]}


def test_override_version_taken(command_user: Any, v9: RuleSet) -> None:
    with pytest.raises(DomainError) as err:
        create(command_user, v9, version="v8")
    assert err.value.code == "version_taken"
    assert err.value.status == 409
    assert not AuditEvent.objects.filter(action="ruleset.create").exists()


def test_override_unknown_field(command_user: Any, v9: RuleSet) -> None:
    with pytest.raises(DomainError) as err:
        create(command_user, v9, changes={"quarantine_days": 5})
    assert err.value.code == "unknown_field"
    with pytest.raises(DomainError) as err:
        create(command_user, v9, changes={"region": "33"})
    assert err.value.code == "unknown_field"
    assert RuleSet.objects.count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"close_centralised_days": 0},
        {"close_centralised_days": -3},
        {"secondary_days": 0},
        {"close_centralised_test_days": 5},
        {"close_centralised_test_days": [0, 2]},
        {"close_centralised_test_days": [-1]},
        {"close_centralised_test_days": [1, 2, 8]},  # beyond the 7-day period
        {"close_centralised_days": 5},  # base's test days 7 now beyond the period
        {"close_home_test_days": [4]},
        {"secondary_test_days": [1, 4, 7, 8]},
    ],
)
def test_override_invalid_value(command_user: Any, v9: RuleSet, changes: dict) -> None:
    with pytest.raises(DomainError) as err:
        create(command_user, v9, changes=changes)
    assert err.value.code == "invalid_value"
    assert not RuleSet.objects.filter(version="v9-330483").exists()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"region": "33x"}, "region"),
        ({"version": ""}, "version"),
        ({"name": "  "}, "name"),
    ],
)
def test_override_invalid_descriptive_fields(
    command_user: Any, v9: RuleSet, kw: dict, field: str
) -> None:
    with pytest.raises(DomainError) as err:
        create(command_user, v9, **kw)
    assert err.value.code == "invalid_value"
    assert err.value.detail["field"] == field


@pytest.mark.parametrize("role", [Role.TOWN_STAFF, Role.LAB, Role.INVESTIGATOR])
def test_override_needs_a_managing_role(make_user: Any, tree: Any, v9: RuleSet, role: str) -> None:
    user = make_user(role, tree.city)
    with pytest.raises(PermissionDenied) as err:
        create(user, v9)
    assert err.value.status == 403
    assert not RuleSet.objects.filter(version="v9-330483").exists()


def test_update_changes_values_and_audits_before_and_after(command_user: Any, v9: RuleSet) -> None:
    rs = create(command_user, v9)
    updated = ruleset_update(
        actor=command_user,
        ruleset=rs,
        changes={"secondary_days": 7, "secondary_test_days": [1, 7], "name": "新名称"},
    )
    assert updated.secondary_days == 7
    rs.refresh_from_db()
    assert rs.secondary_test_days == [1, 7]
    assert rs.name == "新名称"
    event = AuditEvent.objects.get(action="ruleset.update")
    assert event.detail["before"] == {
        "secondary_days": 10,
        "secondary_test_days": [1, 4, 7, 10],
        "name": "桐乡市第九版本地调整",
    }
    assert event.detail["after"] == {
        "secondary_days": 7,
        "secondary_test_days": [1, 7],
        "name": "新名称",
    }


def test_update_with_no_real_change_writes_no_audit(command_user: Any, v9: RuleSet) -> None:
    ruleset_update(actor=command_user, ruleset=v9, changes={"secondary_days": 7})
    assert not AuditEvent.objects.filter(action="ruleset.update").exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"close_centralised_days": 0}, "invalid_value"),
        ({"close_home_test_days": [9]}, "invalid_value"),
        ({"effective_from": "2022-13-01"}, "invalid_value"),
        ({"version": "v99"}, "unknown_field"),
        ({"nonsense": 1}, "unknown_field"),
    ],
)
def test_update_refuses_bad_changes_and_writes_nothing(
    command_user: Any, v9: RuleSet, changes: dict, code: str
) -> None:
    before = ruleset_values(v9)
    with pytest.raises(DomainError) as err:
        ruleset_update(actor=command_user, ruleset=v9, changes=changes)
    assert err.value.code == code
    v9.refresh_from_db()
    assert ruleset_values(v9) == before
    assert not AuditEvent.objects.filter(action="ruleset.update").exists()


def test_update_needs_a_managing_role(town_a_user: Any, v9: RuleSet) -> None:
    with pytest.raises(PermissionDenied):
        ruleset_update(actor=town_a_user, ruleset=v9, changes={"secondary_days": 8})
    v9.refresh_from_db()
    assert v9.secondary_days == 7


def test_create_from_scratch_needs_every_value_without_default(
    command_user: Any, v9: RuleSet
) -> None:
    values = ruleset_values(v9)
    rs = ruleset_create(
        actor=command_user,
        version="v10",
        name="第十版（演练）",
        region="",
        effective_from=D(2099, 1, 1),
        source="演练",
        values={**values, "close_centralised_days": 5, "close_centralised_test_days": [1, 5]},
    )
    assert rs.close_centralised_days == 5
    assert AuditEvent.objects.filter(action="ruleset.create", object_id=str(rs.pk)).exists()
    with pytest.raises(DomainError) as err:
        ruleset_create(
            actor=command_user,
            version="v11",
            name="缺值",
            region="",
            effective_from=D(2099, 1, 1),
            source="",
            values={"close_centralised_days": 5},
        )
    assert err.value.code == "invalid_value"
    assert "secondary_measure" in err.value.detail["fields"]


# --- the signal to the apps above -------------------------------------------------------


@pytest.fixture
def ruleset_signals() -> Any:
    from fangkong.protocol.signals import ruleset_changed

    got: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        got.append({"sender": sender, **kwargs})

    ruleset_changed.connect(receiver, weak=False)
    yield got
    ruleset_changed.disconnect(receiver)


def test_override_and_update_send_ruleset_changed(
    command_user: Any, v9: RuleSet, ruleset_signals: list
) -> None:
    rs = create(command_user, v9, changes={"small_venue_close_minutes": 5})
    assert [(s["sender"], s["ruleset_id"]) for s in ruleset_signals] == [(RuleSet, rs.pk)]
    ruleset_update(actor=command_user, ruleset=rs, changes={"risk_monitoring_days": 5})
    assert [s["ruleset_id"] for s in ruleset_signals] == [rs.pk, rs.pk]
    # nothing changed: nothing sent
    ruleset_update(actor=command_user, ruleset=rs, changes={"risk_monitoring_days": 5})
    assert len(ruleset_signals) == 2


def test_a_refused_change_sends_nothing(
    command_user: Any, v9: RuleSet, ruleset_signals: list
) -> None:
    with pytest.raises(DomainError) as exc:
        ruleset_update(
            actor=command_user,
            ruleset=v9,
            changes={"large_venue_kinds": [*v9.large_venue_kinds, "restaurant"]},
        )
    assert exc.value.code == "invalid_value"
    assert ruleset_signals == []


def test_an_override_moving_a_venue_kind_changes_a_new_classification(
    command_user: Any, v9: RuleSet
) -> None:
    from fangkong.protocol.rules import Protocol, classify_exposure

    rs = create(
        command_user,
        v9,
        changes={
            "large_venue_kinds": [k for k in v9.large_venue_kinds if k != "market"],
            "small_venue_kinds": [*v9.small_venue_kinds, "market"],
            "small_venue_close_minutes": 10,
        },
    )

    def at_market(ruleset: RuleSet) -> str:
        return classify_exposure(
            Protocol.from_ruleset(ruleset),
            exposure_kind="co_presence",
            venue_kind="market",
            overlap_minutes=10,
        )

    assert at_market(v9) == "co_presence"
    assert at_market(rs) == "close"
