"""The care API: the site's lists, actions, alerts, home list; scoping negatives."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.testkit import quarantine as qkit
from fangkong.testkit import quarantine_care as kit

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_site_api_check_in_health_check_and_lists(tree):
    site = qkit.site_with_rooms(tree.community_a, rooms=3)
    placement = qkit.placed_contact(tree.community_a, site=site)
    c = client_for(kit.site_staff(site))
    arrivals = c.get("/api/quarantine/site/arrivals").json()
    assert [a["placement_id"] for a in arrivals["items"]] == [placement.pk]
    r = c.post(f"/api/quarantine/placements/{placement.pk}/check-in")
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = c.post(
        f"/api/quarantine/placements/{placement.pk}/health-checks",
        {"slot": "am", "temperature": "38.0"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["alert_raised"] is True
    r = c.post(
        f"/api/quarantine/placements/{placement.pk}/health-checks",
        {"slot": "pm", "temperature": "44.0"},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["code"] == "temperature_implausible"
    checks = c.get("/api/quarantine/site/checks").json()["items"]
    assert checks[0]["done"] == ["am"]
    alerts = c.get("/api/quarantine/alerts?state=open").json()["items"]
    assert alerts and alerts[0]["kind"] == "fever"
    handled = c.post(
        f"/api/quarantine/alerts/{alerts[0]['id']}/handle",
        {"outcome": "已送医"},
        content_type="application/json",
    )
    assert handled.status_code == 200 and handled.json()["state"] == "handled"
    from fangkong.quarantine.models import Transfer

    transfer = Transfer.objects.get(placement=placement, kind="to_hospital")
    early = c.post(f"/api/quarantine/site/transfers/{transfer.pk}/hospital-arrive")
    assert early.status_code == 409 and early.json()["code"] == "transfer_not_en_route"
    gone = c.post(
        f"/api/quarantine/site/transfers/{transfer.pk}/hospital-depart",
        {"vehicle": "救护车"},
        content_type="application/json",
    )
    assert gone.status_code == 200
    arrived = c.post(f"/api/quarantine/site/transfers/{transfer.pk}/hospital-arrive")
    assert arrived.status_code == 200 and arrived.json()["status"] == "hospital"
    assert c.get("/api/quarantine/site/tests").json()["items"] == []  # gone to hospital
    releases = c.get("/api/quarantine/site/releases").json()
    assert releases["items"] == []


def test_api_scoping(tree, make_user):
    site = qkit.site_with_rooms(tree.community_a, rooms=2)
    placement = qkit.placed_contact(tree.community_a, site=site)
    other = client_for(kit.site_staff(qkit.site_with_rooms(tree.community_a, rooms=1)))
    assert other.post(f"/api/quarantine/placements/{placement.pk}/check-in").status_code == 404
    assert other.get("/api/quarantine/site/arrivals").json()["items"] == []
    worker = client_for(make_user("community_worker", tree.community_a))
    assert worker.get("/api/quarantine/site/arrivals").status_code == 403
    assert worker.get("/api/quarantine/alerts").status_code == 403
    home = kit.home_placement(tree.community_a)
    own = client_for(kit.community_worker(tree.community_a))
    items = own.get("/api/quarantine/home").json()["items"]
    assert [i["placement_id"] for i in items] == [home.pk]
    r = own.post(
        f"/api/quarantine/home/{home.pk}/check-ins",
        {"temperature": "36.5"},
        content_type="application/json",
    )
    assert r.status_code == 201
    stranger = client_for(kit.community_worker(tree.community_b))
    assert stranger.get("/api/quarantine/home").json()["items"] == []
    assert (
        stranger.post(
            f"/api/quarantine/home/{home.pk}/check-ins", {}, content_type="application/json"
        ).status_code
        == 404
    )


def test_other_sites_staff_cannot_release_sample_or_handle_alerts(tree):
    from fangkong.quarantine.models import HealthAlert, PlacementTest
    from fangkong.quarantine.services import care

    site = qkit.site_with_rooms(tree.community_a, rooms=2)
    placement = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    care.health_check_record(
        actor=kit.site_staff(site), placement=placement, slot="am", temperature="39.0"
    )
    alert = HealthAlert.objects.get(placement=placement)
    test = PlacementTest.objects.filter(placement=placement).first()
    other = client_for(kit.site_staff(qkit.site_with_rooms(tree.community_a, rooms=1)))
    assert other.post(f"/api/quarantine/placements/{placement.pk}/release").status_code == 404
    assert (
        other.post(
            f"/api/quarantine/alerts/{alert.pk}/handle",
            {"outcome": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.get("/api/quarantine/alerts").json()["items"] == []
    assert (
        other.post(
            f"/api/quarantine/placement-tests/{test.pk}/sample",
            {"barcode": "GLX1"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.get(f"/api/quarantine/placements/{placement.pk}/certificate").status_code == 404
