"""Services of the areas domain: every zone transition, its history and audit rows,
validation codes of jurisdictions and places, and who may do what where."""

from __future__ import annotations

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.areas.models import Jurisdiction, Place, Zone, ZoneTransition
from fangkong.areas.services import areas as area_services
from fangkong.areas.services import zones as zone_services
from fangkong.areas.tests.conftest import DAY0, day
from fangkong.core.errors import DomainError, NotFound, PermissionDenied


def history(zone):
    return list(ZoneTransition.objects.filter(zone=zone).order_by("at", "pk"))


def audits(zone):
    return list(
        AuditEvent.objects.filter(object_type="zone", object_id=str(zone.pk))
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def close_days(zone, first, last):
    for n in range(first, last + 1):
        zone = zone_services.zone_close_day(zone=zone, day=day(n))
    return zone


# --- create ---------------------------------------------------------------------------


def test_zone_create_records_members_history_and_audit(make_zone, tree, manager, ruleset):
    zone = make_zone()
    assert (zone.level, zone.state, zone.no_case_days) == ("sealed", "active", 0)
    assert zone.ruleset == ruleset
    assert zone.jurisdiction_path == tree.town_a.path
    assert [m.jurisdiction_id for m in zone.members.all()] == [tree.community_a.pk]
    [row] = history(zone)
    assert (row.action, row.to_level, row.to_state, row.actor, row.reason) == (
        "create",
        "sealed",
        "active",
        manager,
        "发现阳性病例",
    )
    assert row.on_date == DAY0 and row.ruleset == ruleset
    assert audits(zone) == ["zone.create"]


def test_zone_needs_a_member(make_zone):
    with pytest.raises(DomainError) as exc:
        make_zone(members=[])
    assert exc.value.code == "zone_members_required"
    assert Zone.objects.count() == 0


def test_zone_member_must_lie_under_the_owner(make_zone, tree):
    with pytest.raises(DomainError) as exc:
        make_zone(members=[tree.community_a, tree.community_b])
    assert exc.value.code == "zone_member_outside"
    assert exc.value.detail["members"] == [tree.community_b.pk]
    assert Zone.objects.count() == 0


def test_zone_place_member_must_lie_under_the_owner(make_zone, tree, manager, ruleset):
    place = Place.objects.create(
        kind="venue",
        name="濮院羊毛衫市场",
        jurisdiction=tree.town_b,
        jurisdiction_path=tree.town_b.path,
    )
    with pytest.raises(DomainError) as exc:
        zone_services.zone_create(
            actor=manager,
            name="x",
            level="controlled",
            jurisdiction=tree.town_a,
            member_places=[place],
            started_on=DAY0,
            reason="r",
        )
    assert exc.value.code == "zone_member_outside"


def test_zone_create_needs_a_reason_and_a_known_level(make_zone, tree, manager, ruleset):
    for kw, code in (
        ({"reason": " "}, "reason_required"),
        ({"level": "red"}, "zone_level_invalid"),
    ):
        args = {
            "actor": manager,
            "name": "z",
            "level": "sealed",
            "jurisdiction": tree.town_a,
            "member_jurisdictions": [tree.community_a],
            "started_on": DAY0,
            "reason": "r",
        }
        args.update(kw)
        with pytest.raises(DomainError) as exc:
            zone_services.zone_create(**args)
        assert exc.value.code == code
    assert Zone.objects.count() == 0


def test_zone_create_without_a_rule_set_for_the_date(make_zone, tree):
    import datetime as dt

    with pytest.raises(DomainError) as exc:
        make_zone(started_on=dt.date(2019, 1, 1))
    assert exc.value.code == "no_ruleset"
    assert Zone.objects.count() == 0


def test_zone_parent_must_contain_the_child(make_zone, tree):
    town_b_zone = make_zone(level="precaution", jurisdiction=tree.town_b, members=[tree.town_b])
    with pytest.raises(DomainError) as exc:
        make_zone(parent=town_b_zone)
    assert exc.value.code == "zone_parent_invalid"


# --- cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["controlled", "precaution"])
def test_case_escalates_to_sealed(make_zone, manager, level):
    zone = make_zone(level=level)
    zone = close_days(zone, 0, 3)
    assert zone.no_case_days == 4
    zone = zone_services.zone_record_case(
        actor=manager, zone=zone, on_date=day(4), reason="新增阳性"
    )
    assert (zone.level, zone.no_case_days, zone.last_case_on) == ("sealed", 0, day(4))
    row = history(zone)[-1]
    assert (row.action, row.from_level, row.to_level, row.actor, row.reason) == (
        "escalate",
        level,
        "sealed",
        manager,
        "新增阳性",
    )
    assert audits(zone)[-1] == "zone.escalate"


def test_case_in_sealed_zone_resets_counter(make_zone, manager):
    zone = close_days(make_zone(level="sealed"), 0, 5)
    assert zone.no_case_days == 6
    zone = zone_services.zone_record_case(
        actor=manager, zone=zone, on_date=day(6), reason="密接转阳"
    )
    assert (zone.level, zone.no_case_days, zone.counted_through) == ("sealed", 0, day(6))
    row = history(zone)[-1]
    assert (row.action, row.no_case_days, row.reason, row.actor) == (
        "case_reset",
        0,
        "密接转阳",
        manager,
    )
    assert audits(zone)[-1] == "zone.case_reset"


def test_case_day_is_not_counted(make_zone, manager):
    zone = close_days(make_zone(), 0, 2)
    zone = zone_services.zone_record_case(actor=manager, zone=zone, on_date=day(3), reason="新增")
    zone = zone_services.zone_close_day(zone=zone, day=day(3))
    assert zone.no_case_days == 0
    zone = zone_services.zone_close_day(zone=zone, day=day(4))
    assert zone.no_case_days == 1


def test_case_before_the_zone_started_is_refused(make_zone, manager):
    zone = make_zone(started_on=day(2))
    with pytest.raises(DomainError) as exc:
        zone_services.zone_record_case(actor=manager, zone=zone, on_date=day(1), reason="x")
    assert exc.value.code == "zone_date_before_start"
    assert len(history(zone)) == 1


# --- closing days ---------------------------------------------------------------------


def test_close_day_counts_and_is_idempotent(make_zone):
    zone = make_zone()
    zone = zone_services.zone_close_day(zone=zone, day=day(1))
    assert (zone.no_case_days, zone.counted_through) == (1, day(1))
    zone = zone_services.zone_close_day(zone=zone, day=day(1))
    zone = zone_services.zone_close_day(zone=zone, day=day(0))
    assert (zone.no_case_days, zone.counted_through) == (1, day(1))
    rows = [r for r in history(zone) if r.action == "close_day"]
    assert len(rows) == 1 and rows[0].actor is None and rows[0].no_case_days == 1
    assert audits(zone).count("zone.close_day") == 1


def test_daily_job_closes_every_active_zone(make_zone, tree, manager):
    from fangkong.areas.tasks import zones_close_day

    a = make_zone()
    b = make_zone(level="precaution", members=[tree.grid_a], name="网格防范区")
    result = zones_close_day.enqueue(day(1).isoformat())
    assert result.return_value == 2
    again = zones_close_day.enqueue(day(1).isoformat())
    assert again.return_value == 0
    for zone in (a, b):
        zone.refresh_from_db()
        assert (zone.no_case_days, zone.counted_through) == (1, day(1))


def test_close_day_by_an_operator_needs_zone_manage(make_zone, town_a_user):
    zone = make_zone()
    with pytest.raises(PermissionDenied):
        zone_services.zone_close_day(actor=town_a_user, zone=zone, day=day(1))
    zone.refresh_from_db()
    assert zone.no_case_days == 0


# --- downgrade ------------------------------------------------------------------------


def test_downgrade_refused_below_the_days(make_zone, manager):
    zone = close_days(make_zone(), 1, 6)
    zone_services.zone_record_screening(actor=manager, zone=zone, on_date=day(6), all_negative=True)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(6), reason="降级")
    assert exc.value.code == "zone_downgrade_not_eligible"
    assert exc.value.status == 409
    assert exc.value.detail["reason"] == "not_enough_days"
    assert exc.value.detail["required_days"] == 7
    zone.refresh_from_db()
    assert zone.level == "sealed"
    assert "downgrade" not in [r.action for r in history(zone)]


def test_downgrade_refused_without_screening(make_zone, manager):
    zone = close_days(make_zone(), 1, 7)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(7), reason="降级")
    assert exc.value.detail["reason"] == "screening_missing"


def test_downgrade_refused_with_screening_on_another_day(make_zone, manager):
    zone = close_days(make_zone(), 1, 7)
    zone_services.zone_record_screening(actor=manager, zone=zone, on_date=day(6), all_negative=True)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(7), reason="降级")
    assert exc.value.detail["reason"] == "screening_not_on_date"


def test_screening_not_all_negative_voids_that_day(make_zone, manager):
    zone = close_days(make_zone(), 1, 7)
    zone_services.zone_record_screening(actor=manager, zone=zone, on_date=day(7), all_negative=True)
    zone = zone_services.zone_record_screening(
        actor=manager, zone=zone, on_date=day(7), all_negative=False, reason="一管混采阳性"
    )
    assert zone.last_negative_screening_on is None
    row, withdrawn = history(zone)[-2:]
    assert (row.action, row.detail, row.reason) == (
        "screening",
        {"all_negative": False},
        "一管混采阳性",
    )
    # The proposal the negative screening made is withdrawn by the positive.
    assert (withdrawn.action, zone.downgrade_proposed_on) == ("withdraw", None)
    with pytest.raises(DomainError):
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(7), reason="降级")


def test_downgrade_allowed_and_counter_restarts(make_zone, manager, ruleset):
    zone = close_days(make_zone(), 1, 7)
    zone = zone_services.zone_record_screening(
        actor=manager, zone=zone, on_date=day(7), all_negative=True, reason="第7天全员筛查"
    )
    assert zone.last_negative_screening_on == day(7)
    zone = zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(7), reason="满7天")
    assert (zone.level, zone.no_case_days, zone.counted_through) == ("controlled", 0, day(7))
    assert zone.downgraded_from_sealed
    row = history(zone)[-1]
    assert (row.action, row.from_level, row.to_level, row.actor, row.reason, row.ruleset) == (
        "downgrade",
        "sealed",
        "controlled",
        manager,
        "满7天",
        ruleset,
    )
    assert row.detail["no_case_days_before"] == 7
    assert audits(zone)[-3:] == ["zone.screening", "zone.propose", "zone.downgrade"]
    # v9: a controlled zone that came down from sealed needs 3 more days, no screening.
    zone = zone_services.zone_close_day(zone=zone, day=day(8))
    assert zone.no_case_days == 1
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(8), reason="x")
    assert exc.value.detail["required_days"] == 3
    zone = close_days(zone, 9, 10)
    zone = zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(10), reason="再满3天")
    assert (zone.level, zone.no_case_days) == ("precaution", 0)


def test_controlled_zone_needs_seven_days_and_screening(make_zone, manager):
    zone = close_days(make_zone(level="controlled"), 1, 3)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(3), reason="x")
    assert exc.value.detail["required_days"] == 7
    zone = close_days(zone, 4, 7)
    zone_services.zone_record_screening(actor=manager, zone=zone, on_date=day(7), all_negative=True)
    zone = zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(7), reason="满7天")
    assert zone.level == "precaution"


def test_downgrade_uses_the_rule_set_in_force(make_zone, manager, local_ruleset):
    local = local_ruleset(sealed_downgrade_days=2, downgrade_requires_screening=False)
    zone = close_days(make_zone(), 1, 2)
    zone = zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(2), reason="本地规则")
    assert zone.level == "controlled" and zone.ruleset == local


def test_precaution_zone_cannot_be_downgraded(make_zone, manager):
    zone = close_days(make_zone(level="precaution"), 1, 20)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(20), reason="x")
    assert exc.value.detail["reason"] == "level_lowest"


# --- lift -----------------------------------------------------------------------------


def test_lift_of_a_non_precaution_zone_is_refused(make_zone, manager):
    zone = close_days(make_zone(level="controlled"), 1, 20)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_lift(actor=manager, zone=zone, on_date=day(20), reason="x")
    assert exc.value.code == "zone_lift_not_eligible"
    assert exc.value.detail["reason"] == "not_precaution"
    zone.refresh_from_db()
    assert zone.state == "active"


def test_lift_waits_for_child_zones(make_zone, manager, tree):
    parent = make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    child = make_zone(level="controlled", parent=parent, name="虹桥村管控区")
    with pytest.raises(DomainError) as exc:
        zone_services.zone_lift(actor=manager, zone=parent, on_date=day(1), reason="x")
    assert exc.value.detail["reason"] == "zone_children_active"
    assert exc.value.detail["active_children"] == [child.pk]
    # The child comes down and lifts; then the parent may lift.
    child = close_days(child, 1, 7)
    zone_services.zone_record_screening(
        actor=manager, zone=child, on_date=day(7), all_negative=True
    )
    child = zone_services.zone_downgrade(actor=manager, zone=child, on_date=day(7), reason="满7天")
    child = zone_services.zone_lift(actor=manager, zone=child, on_date=day(7), reason="随之解除")
    assert (child.state, child.lifted_on) == ("lifted", day(7))
    parent = zone_services.zone_lift(actor=manager, zone=parent, on_date=day(7), reason="全部解除")
    assert (parent.state, parent.lifted_on) == ("lifted", day(7))
    row = history(parent)[-1]
    assert (row.action, row.from_state, row.to_state, row.actor, row.reason) == (
        "lift",
        "active",
        "lifted",
        manager,
        "全部解除",
    )
    assert audits(parent)[-1] == "zone.lift"


def test_lift_needs_its_own_days_when_the_rule_set_says_so(make_zone, manager, local_ruleset):
    local_ruleset(precaution_lift_days=3)
    zone = close_days(make_zone(level="precaution"), 1, 2)
    with pytest.raises(DomainError) as exc:
        zone_services.zone_lift(actor=manager, zone=zone, on_date=day(2), reason="x")
    assert exc.value.detail["reason"] == "not_enough_days"
    zone = close_days(zone, 3, 3)
    assert zone_services.zone_lift(actor=manager, zone=zone, on_date=day(3), reason="x").state == (
        "lifted"
    )


def test_a_lifted_zone_takes_no_more_transitions(make_zone, manager):
    zone = make_zone(level="precaution")
    zone = zone_services.zone_lift(actor=manager, zone=zone, on_date=day(0), reason="解除")
    for call in (
        lambda: zone_services.zone_record_case(
            actor=manager, zone=zone, on_date=day(1), reason="x"
        ),
        lambda: zone_services.zone_close_day(zone=zone, day=day(1)),
        lambda: zone_services.zone_downgrade(actor=manager, zone=zone, on_date=day(1), reason="x"),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "zone_not_active"


# --- permissions ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TOWN_STAFF, Role.LAB, Role.INVESTIGATOR])
def test_roles_without_zone_manage_cannot_create_or_change_zones(make_zone, make_user, tree, role):
    user = make_user(role, tree.town_a)
    with pytest.raises(PermissionDenied):
        make_zone(actor=user)
    zone = make_zone()
    for call in (
        lambda: zone_services.zone_record_case(actor=user, zone=zone, on_date=day(1), reason="x"),
        lambda: zone_services.zone_record_screening(
            actor=user, zone=zone, on_date=day(1), all_negative=True
        ),
        lambda: zone_services.zone_downgrade(actor=user, zone=zone, on_date=day(1), reason="x"),
        lambda: zone_services.zone_lift(actor=user, zone=zone, on_date=day(1), reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert len(history(zone)) == 1


def test_town_scoped_manager_cannot_touch_another_towns_zone(make_zone, make_user, tree):
    # No shipped role manages zones for one town only; an admin account bound to a town
    # is scoped to it, which is how such a manager would be set up.
    town_b_admin = make_user(Role.ADMIN, tree.town_b)
    zone = make_zone()  # in town A
    with pytest.raises(NotFound):
        zone_services.zone_record_case(actor=town_b_admin, zone=zone, on_date=day(1), reason="x")
    with pytest.raises(NotFound):
        make_zone(actor=town_b_admin)
    # ... but may manage its own town's zones.
    own = make_zone(actor=town_b_admin, jurisdiction=tree.town_b, members=[tree.community_b])
    assert own.jurisdiction == tree.town_b
    assert len(history(zone)) == 1


# --- jurisdictions --------------------------------------------------------------------


@pytest.fixture
def admin(tree, make_user):
    return make_user(Role.ADMIN, tree.city, "admin")


def test_jurisdiction_create_builds_the_path(admin, tree):
    node = area_services.jurisdiction_create(
        actor=admin,
        parent=tree.town_a,
        level="community",
        code_suffix="002",
        name="民合村",
        population=2300,
    )
    assert (node.path, node.code, node.depth, node.parent) == (
        "330483102002",
        "330483102002",
        2,
        tree.town_a,
    )
    assert AuditEvent.objects.filter(action="jurisdiction.create", object_id=str(node.pk)).exists()
    full = area_services.jurisdiction_create(
        actor=admin, parent=tree.community_a, level="grid", code="330483102001002", name="二网格"
    )
    assert full.path == "330483102001002"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"level": "grid", "code_suffix": "002"}, "jurisdiction_level_invalid"),
        ({"level": "community", "code_suffix": "001"}, "jurisdiction_code_taken"),
        ({"level": "community", "code_suffix": "01"}, "jurisdiction_code_invalid"),
        ({"level": "community", "code_suffix": "0a1"}, "jurisdiction_code_invalid"),
        ({"level": "community", "code": "330483101009"}, "jurisdiction_code_invalid"),
        ({"level": "community", "code_suffix": "003", "name": "长" * 101}, "name_too_long"),
        ({"level": "community", "code_suffix": "003", "name": " "}, "name_required"),
    ],
)
def test_jurisdiction_create_validation(admin, tree, kw, code):
    before = Jurisdiction.objects.count()
    args = {"actor": admin, "parent": tree.town_a, "name": "新村"}
    args.update(kw)
    with pytest.raises(DomainError) as exc:
        area_services.jurisdiction_create(**args)
    assert exc.value.code == code
    assert Jurisdiction.objects.count() == before


def test_jurisdiction_create_needs_the_capability(command_user, tree):
    with pytest.raises(PermissionDenied):
        area_services.jurisdiction_create(
            actor=command_user,
            parent=tree.town_a,
            level="community",
            code_suffix="009",
            name="x",
        )


def test_geometry_sets_centroid_and_refuses_invalid(admin, tree):
    square = {
        "type": "Polygon",
        "coordinates": [
            [[120.4, 30.7], [120.6, 30.7], [120.6, 30.8], [120.4, 30.8], [120.4, 30.7]]
        ],
    }
    geometry = area_services.jurisdiction_set_geometry(
        actor=admin, jurisdiction=tree.town_a, geojson=square
    )
    assert geometry.centroid_lat == pytest.approx(30.75)
    assert geometry.centroid_lon == pytest.approx(120.5)
    with pytest.raises(DomainError) as exc:
        area_services.jurisdiction_set_geometry(
            actor=admin, jurisdiction=tree.town_a, geojson={"type": "LineString"}
        )
    assert exc.value.code == "geometry_invalid"
    tree.town_a.geometry.refresh_from_db()
    assert tree.town_a.geometry.geojson == square


# --- places ---------------------------------------------------------------------------


def test_place_create_and_update(admin, tree):
    place = area_services.place_create(
        actor=admin,
        kind="venue",
        name="乌镇大酒店",
        jurisdiction=tree.community_a,
        venue_code="TX0001",
        address="乌镇镇石佛南路",
        lat=30.74,
        lon=120.49,
    )
    assert place.jurisdiction_path == tree.community_a.path
    place = area_services.place_update(
        actor=admin, place=place, name="乌镇大酒店（东楼）", lat=None, lon=None
    )
    assert (place.name, place.lat, place.lon, place.venue_code) == (
        "乌镇大酒店（东楼）",
        None,
        None,
        "TX0001",
    )
    actions = list(
        AuditEvent.objects.filter(object_type="place", object_id=str(place.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["place.create", "place.update"]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"venue_code": "TX0001"}, "venue_code_taken"),
        ({"jurisdiction": None}, "unknown_jurisdiction"),
        ({"lat": 95.0, "lon": 120.0}, "coordinates_invalid"),
        ({"lat": 30.0}, "coordinates_invalid"),
        ({"name": "名" * 201}, "name_too_long"),
        ({"kind": "spaceport"}, "place_kind_invalid"),
        ({"address": "路" * 301}, "address_too_long"),
        ({"venue_kind": "spaceport"}, "venue_kind_invalid"),
    ],
)
def test_place_validation(admin, tree, kw, code):
    area_services.place_create(
        actor=admin, kind="venue", name="已有", jurisdiction=tree.town_a, venue_code="TX0001"
    )
    args = {"actor": admin, "kind": "venue", "name": "新场所", "jurisdiction": tree.town_a}
    args.update(kw)
    with pytest.raises(DomainError) as exc:
        area_services.place_create(**args)
    assert exc.value.code == code
    assert Place.objects.count() == 1


def test_place_venue_kind_set_kept_changed_and_read(admin, tree):
    from fangkong.areas.selectors import place_venue_kinds

    place = area_services.place_create(
        actor=admin, kind="venue", name="面馆", jurisdiction=tree.town_a, venue_kind="restaurant"
    )
    other = area_services.place_create(
        actor=admin, kind="venue", name="某处", jurisdiction=tree.town_a
    )
    assert (place.venue_kind, other.venue_kind) == ("restaurant", "")
    place = area_services.place_update(actor=admin, place=place, name="面馆（新）")
    assert place.venue_kind == "restaurant"  # not given: kept
    place = area_services.place_update(actor=admin, place=place, venue_kind="market")
    assert place.venue_kind == "market"
    assert place_venue_kinds(pks=[place.pk, other.pk, 10**9]) == {
        place.pk: "market",
        other.pk: "",
    }


def test_place_update_refuses_a_taken_venue_code(admin, tree):
    area_services.place_create(
        actor=admin, kind="venue", name="甲", jurisdiction=tree.town_a, venue_code="TX0001"
    )
    b = area_services.place_create(
        actor=admin, kind="venue", name="乙", jurisdiction=tree.town_a, venue_code="TX0002"
    )
    with pytest.raises(DomainError) as exc:
        area_services.place_update(actor=admin, place=b, venue_code="TX0001")
    assert exc.value.code == "venue_code_taken"
    b.refresh_from_db()
    assert b.venue_code == "TX0002"


def test_place_create_outside_scope_is_an_unknown_jurisdiction(make_user, tree):
    town_admin = make_user(Role.ADMIN, tree.town_a)
    with pytest.raises(DomainError) as exc:
        area_services.place_create(
            actor=town_admin, kind="venue", name="x", jurisdiction=tree.town_b
        )
    assert exc.value.code == "unknown_jurisdiction"


def test_place_manage_needed(command_user, tree):
    with pytest.raises(PermissionDenied):
        area_services.place_create(
            actor=command_user, kind="venue", name="x", jurisdiction=tree.town_a
        )
    assert Place.objects.count() == 0
