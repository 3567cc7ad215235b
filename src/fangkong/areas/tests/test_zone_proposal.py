"""The downgrade proposal (issue 13, zones in operation): proposed only when both
conditions of the rule set hold (the no-case days AND an all-negative screening), once;
withdrawn when a new case resets the counter; confirmed (a downgrade) or declined with a
reason by command; on the zone page, the zones list and the zones map; who may act."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.areas.models import ZoneTransition
from fangkong.areas.services import zones as zone_services
from fangkong.areas.tests.conftest import day
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.notices.models import Notification

pytestmark = pytest.mark.django_db


def actions(zone):
    return list(
        ZoneTransition.objects.filter(zone=zone)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def close_days(zone, first, last):
    for n in range(first, last + 1):
        zone = zone_services.zone_close_day(zone=zone, day=day(n))
    return zone


def screen(manager, zone, n, all_negative=True):
    return zone_services.zone_record_screening(
        actor=manager, zone=zone, on_date=day(n), all_negative=all_negative, reason="全员筛查"
    )


@pytest.fixture
def proposed(make_zone, manager):
    """A sealed zone with 7 days closed and day 7's screening all negative: proposed."""
    zone = close_days(make_zone(), 1, 7)
    return screen(manager, zone, 7)


# --- both conditions, and only both --------------------------------------------------------


def test_counter_alone_proposes_nothing(make_zone):
    zone = close_days(make_zone(), 1, 10)
    assert zone.no_case_days == 10
    assert zone.downgrade_proposed_on is None
    assert "propose" not in actions(zone)


def test_screening_alone_proposes_nothing(make_zone, manager):
    zone = close_days(make_zone(), 1, 3)
    zone = screen(manager, zone, 3)
    assert zone.downgrade_proposed_on is None
    # Days reached later do not make an early screening the one the rule set asks for.
    zone = close_days(zone, 4, 9)
    assert (zone.no_case_days, zone.downgrade_proposed_on) == (9, None)
    assert "propose" not in actions(zone)


def test_both_conditions_propose_once_and_notify_command(proposed, manager, make_user, tree):
    town_staff = make_user(Role.TOWN_STAFF, tree.town_a, "town-staff-a")
    assert proposed.downgrade_proposed_on == day(7)
    assert proposed.downgrade_proposed_at is not None
    assert actions(proposed).count("propose") == 1
    row = ZoneTransition.objects.get(zone=proposed, action="propose")
    assert (row.actor, row.ruleset.version, row.no_case_days) == (None, "v9", 7)
    assert row.detail["to_level"] == "controlled" and row.detail["screening_on"] == "2022-09-08"
    # Idempotent: the same day closed again, the same screening again, later days.
    zone = zone_services.zone_close_day(zone=proposed, day=day(7))
    zone = screen(manager, zone, 7)
    zone = close_days(zone, 8, 9)
    assert actions(zone).count("propose") == 1
    assert zone.downgrade_proposed_on == day(7)
    notes = Notification.objects.filter(kind="zone.proposal")
    assert list(notes.values_list("user__username", flat=True)) == ["zone-manager"]
    assert town_staff.pk not in notes.values_list("user_id", flat=True)
    assert notes.get().url == reverse("areas:zone_detail", args=[zone.pk])


def test_the_daily_job_proposes_when_the_screening_came_first(make_zone, manager):
    zone = close_days(make_zone(), 1, 6)
    zone = screen(manager, zone, 7)  # day 7's results, before day 7 is closed
    assert zone.downgrade_proposed_on is None
    zone_services.zones_close_day_all(day=day(7))
    zone.refresh_from_db()
    assert zone.downgrade_proposed_on == day(7)
    assert actions(zone)[-2:] == ["close_day", "propose"]


def test_a_later_screening_moves_the_waiting_proposal(proposed, manager):
    zone = close_days(proposed, 8, 8)
    zone = screen(manager, zone, 8)
    assert zone.downgrade_proposed_on == day(8)
    assert actions(zone).count("propose") == 1


# --- a new case resets it -------------------------------------------------------------------


def test_a_new_case_withdraws_the_proposal_and_resets_the_counter(proposed, manager):
    zone = zone_services.zone_record_case(
        actor=manager, zone=proposed, on_date=day(8), reason="新增阳性"
    )
    assert (zone.no_case_days, zone.downgrade_proposed_on, zone.level) == (0, None, "sealed")
    assert actions(zone)[-2:] == ["case_reset", "withdraw"]
    withdrawn = ZoneTransition.objects.filter(zone=zone, action="withdraw").get()
    assert withdrawn.detail["proposed_on"] == day(7).isoformat()
    assert withdrawn.actor == manager
    with pytest.raises(Conflict) as exc:
        zone_services.zone_proposal_confirm(actor=manager, zone=zone)
    assert exc.value.code == "zone_no_proposal"


def test_a_case_reported_at_home_withdraws_the_proposal(proposed, manager, tree):
    zone_services.zones_record_case_at_home(
        actor=manager, path=tree.community_a.path, on_date=day(8), case_label="C-1"
    )
    proposed.refresh_from_db()
    assert (proposed.no_case_days, proposed.downgrade_proposed_on) == (0, None)
    assert actions(proposed)[-1] == "withdraw"


def test_a_positive_screening_withdraws_the_proposal(proposed, manager):
    zone = screen(manager, proposed, 7, all_negative=False)
    assert (zone.downgrade_proposed_on, zone.last_negative_screening_on) == (None, None)
    assert actions(zone)[-1] == "withdraw"


# --- command confirms or declines ------------------------------------------------------------


def test_confirm_downgrades_on_the_proposal_day(proposed, manager):
    zone = zone_services.zone_proposal_confirm(actor=manager, zone=proposed, reason="同意")
    assert (zone.level, zone.no_case_days, zone.counted_through) == ("controlled", 0, day(7))
    assert zone.downgrade_proposed_on is None
    row = ZoneTransition.objects.filter(zone=zone).order_by("-at", "-pk").first()
    assert (row.action, row.reason, row.actor) == ("downgrade", "同意", manager)
    assert row.detail["proposal"] is True and row.detail["proposed_on"] == day(7).isoformat()


def test_decline_keeps_the_zone_and_records_why(proposed, manager):
    with pytest.raises(DomainError) as exc:
        zone_services.zone_proposal_decline(actor=manager, zone=proposed, reason="  ")
    assert exc.value.code == "reason_required"
    zone = zone_services.zone_proposal_decline(
        actor=manager, zone=proposed, reason="周边仍有散发病例，再观察"
    )
    assert (zone.level, zone.no_case_days, zone.downgrade_proposed_on) == ("sealed", 7, None)
    row = ZoneTransition.objects.filter(zone=zone, action="decline").get()
    assert (row.reason, row.actor, row.on_date) == ("周边仍有散发病例，再观察", manager, day(7))
    # Not proposed again for the same screening; a later all-negative screening may.
    zone = close_days(zone, 8, 8)
    assert zone.downgrade_proposed_on is None
    zone = screen(manager, zone, 8)
    assert zone.downgrade_proposed_on == day(8)
    assert actions(zone).count("propose") == 2


def test_a_manual_downgrade_ends_the_proposal(proposed, manager):
    zone = zone_services.zone_downgrade(actor=manager, zone=proposed, on_date=day(7), reason="x")
    assert (zone.level, zone.downgrade_proposed_on) == ("controlled", None)


# --- who may --------------------------------------------------------------------------------


def test_confirm_and_decline_need_zone_manage_and_the_zone_in_scope(proposed, make_user, tree):
    staff = make_user(Role.TOWN_STAFF, tree.town_a, "town-a-staff")
    other_town = make_user(Role.COMMAND, tree.town_b, "command-town-b")
    for service in (zone_services.zone_proposal_confirm, zone_services.zone_proposal_decline):
        with pytest.raises(PermissionDenied):
            service(actor=staff, zone=proposed, reason="x")
        with pytest.raises(NotFound):
            service(actor=other_town, zone=proposed, reason="x")
    proposed.refresh_from_db()
    assert (proposed.level, proposed.downgrade_proposed_on) == ("sealed", day(7))


def _login(client, user):
    client.force_login(user)
    return client


def test_pages_confirm_403_for_a_wrong_role_and_404_for_another_town(
    client, proposed, make_user, tree
):
    url = reverse("areas:zone_action", args=[proposed.pk, "confirm"])
    staff = make_user(Role.TOWN_STAFF, tree.town_a, "town-a-staff")
    assert _login(client, staff).post(url, {"reason": ""}).status_code == 403
    other_town = make_user(Role.COMMAND, tree.town_b, "command-town-b")
    assert _login(client, other_town).post(url, {"reason": ""}).status_code == 404
    api = f"/api/areas/zones/{proposed.pk}/proposal/confirm"
    assert (
        _login(client, other_town)
        .post(api, {"reason": ""}, content_type="application/json")
        .status_code
        == 404
    )
    proposed.refresh_from_db()
    assert proposed.level == "sealed"


def test_zone_page_shows_the_proposal_and_confirms_it(client, proposed, manager):
    _login(client, manager)
    page = client.get(reverse("areas:zone_detail", args=[proposed.pk])).content.decode()
    assert 'data-testid="zone-proposal"' in page and "系统建议：降级为管控区" in page
    assert 'data-action="propose"' in page
    r = client.post(reverse("areas:zone_action", args=[proposed.pk, "confirm"]), {"reason": ""})
    assert r.status_code == 302
    proposed.refresh_from_db()
    assert proposed.level == "controlled"
    page = client.get(reverse("areas:zone_detail", args=[proposed.pk])).content.decode()
    assert 'data-testid="zone-proposal"' not in page
    assert "确认系统降级建议" in page


@pytest.mark.parametrize(
    ("action", "reason", "level"),
    [("confirm", "", "controlled"), ("decline", "仍有风险", "sealed")],
)
def test_zone_page_proposal_decision_redirects_to_the_zone_page(
    client, proposed, manager, action, reason, level
):
    """Confirm and decline follow POST-redirect-GET, from htmx as from a plain form: the
    page is loaded afresh, its heading shows the new level."""
    _login(client, manager)
    url = reverse("areas:zone_action", args=[proposed.pk, action])
    detail = reverse("areas:zone_detail", args=[proposed.pk])
    r = client.post(url, {"reason": reason}, HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Redirect"] == detail and not r.content
    proposed.refresh_from_db()
    assert (proposed.level, proposed.downgrade_proposed_on) == (level, None)
    page = client.get(detail).content.decode()
    heading = page.split("<h1>")[1].split("</h1>")[0]
    assert ("管控区" if level == "controlled" else "封控区") in heading


def test_zone_page_decline_without_a_reason_is_refused_in_place(client, proposed, manager):
    _login(client, manager)
    r = client.post(
        reverse("areas:zone_action", args=[proposed.pk, "decline"]),
        {"reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and 'data-error-code="reason_required"' in r.content.decode()
    proposed.refresh_from_db()
    assert proposed.downgrade_proposed_on == day(7)


def test_zones_list_shows_proposals_first(client, proposed, make_zone, manager, tree):
    make_zone(
        level="sealed", name="永越村封控区", members=[tree.community_b], jurisdiction=tree.town_b
    )
    _login(client, manager)
    page = client.get(reverse("areas:zone_list")).content.decode()
    box = page.index('data-testid="zone-proposals"')
    assert page.index("虹桥村封控区", box) < page.index('data-testid="zone-table"')
    assert "待确认降级" in page


def test_zone_markers_carry_counter_and_proposal(client, proposed, manager, tree):
    from fangkong.areas.services.areas import jurisdiction_set_geometry

    square = {
        "type": "Polygon",
        "coordinates": [
            [[120.5, 30.6], [120.6, 30.6], [120.6, 30.7], [120.5, 30.7], [120.5, 30.6]]
        ],
    }
    jurisdiction_set_geometry(actor=_admin(), jurisdiction=tree.community_a, geojson=square)
    _login(client, manager)
    data = client.get("/api/areas/zones.geojson").json()
    (feature,) = data["features"]
    assert feature["properties"]["proposed_on"] == day(7).isoformat()
    assert (feature["properties"]["no_case_days"], feature["properties"]["required_days"]) == (7, 7)
    assert feature["geometry"]["type"] == "Point"


def _admin():
    from fangkong.testkit.actors import actor_or_admin

    return actor_or_admin(None)
