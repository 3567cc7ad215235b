"""The care pages: the site day, alerts, home list, certificate; scoping negatives."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.quarantine.models import PlacementTest
from fangkong.quarantine.services import care
from fangkong.testkit import quarantine as qkit
from fangkong.testkit import quarantine_care as kit
from fangkong.testkit import testing as tkit

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def site(tree):
    return qkit.site_with_rooms(tree.community_a, rooms=4)


def test_site_day_shows_arrivals_and_checks_in(tree, site, django_assert_max_num_queries):
    placement = qkit.placed_contact(tree.community_a, site=site)
    c = client_for(kit.site_staff(site))
    with django_assert_max_num_queries(60):
        page = c.get(reverse("quarantine:site_day"))
    assert page.status_code == 200
    assert 'data-testid="arrival-row"' in page.content.decode()
    done = c.post(reverse("quarantine:check_in", args=[placement.pk]))
    assert done.status_code == 302
    placement.refresh_from_db()
    assert placement.status == "active"
    page = c.get(reverse("quarantine:site_day")).content.decode()
    assert 'data-testid="check-row"' in page


def test_other_sites_staff_get_404_and_wrong_role_403(tree, site, make_user):
    placement = qkit.placed_contact(tree.community_a, site=site)
    other = qkit.site_with_rooms(tree.community_a, rooms=1)
    c = client_for(kit.site_staff(other))
    assert c.post(reverse("quarantine:check_in", args=[placement.pk])).status_code == 404
    assert (
        c.post(
            reverse("quarantine:health_check", args=[placement.pk]),
            {"slot": "am", "temperature": "36.5"},
        ).status_code
        == 404
    )
    worker = client_for(make_user("community_worker", tree.community_a))
    assert worker.get(reverse("quarantine:site_day")).status_code == 403
    assert worker.get(reverse("quarantine:alert_list")).status_code == 403
    sampler = client_for(make_user("sampler", tree.community_a))
    assert sampler.get(reverse("quarantine:home_list")).status_code == 403


def test_health_check_page_post_and_alert_list(tree, site):
    placement = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    c = client_for(kit.site_staff(site))
    r = c.post(
        reverse("quarantine:health_check", args=[placement.pk]),
        {"slot": "am", "temperature": "38.1"},
    )
    assert r.status_code == 302
    alerts = c.get(reverse("quarantine:alert_list")).content.decode()
    assert 'data-testid="alert-row"' in alerts
    bad = c.post(
        reverse("quarantine:health_check", args=[placement.pk]),
        {"slot": "pm", "temperature": "50"},
        follow=True,
    )
    assert "34" in bad.content.decode()


def test_home_list_own_community_and_check_in(tree):
    placement = kit.home_placement(tree.community_a)
    own = client_for(kit.community_worker(tree.community_a))
    page = own.get(reverse("quarantine:home_list")).content.decode()
    assert 'data-testid="home-row"' in page
    other = client_for(kit.community_worker(tree.community_b))
    assert (
        'data-testid="home-row"' not in other.get(reverse("quarantine:home_list")).content.decode()
    )
    assert other.post(reverse("quarantine:home_checkin", args=[placement.pk])).status_code == 404
    assert (
        own.post(
            reverse("quarantine:home_checkin", args=[placement.pk]), {"temperature": "36.6"}
        ).status_code
        == 302
    )
    assert placement.home_checkins.count() == 1


def test_certificate_page_after_release(tree, site):
    placement = kit.checked_in(kit.placed_since(site, days_ago=8))
    lab = tkit.lab(tree.city)
    tests = list(PlacementTest.objects.filter(placement=placement))
    kit.site_results(dict.fromkeys(tests, "negative"), lab=lab)
    staff = kit.site_staff(site)
    care.placement_release(actor=staff, placement=placement)
    placement.refresh_from_db()
    page = client_for(staff).get(reverse("quarantine:certificate", args=[placement.pk]))
    assert page.status_code == 200
    assert placement.certificate_number in page.content.decode()
    other = qkit.site_with_rooms(tree.community_a, rooms=1)
    assert (
        client_for(kit.site_staff(other))
        .get(reverse("quarantine:certificate", args=[placement.pk]))
        .status_code
        == 404
    )


def test_site_day_of_a_place_that_is_no_site_yet_says_so(tree):
    from fangkong.accounts.services import user_create
    from fangkong.testkit.actors import PASSWORD
    from fangkong.testkit.areas import place

    where = place(tree.community_a, "quarantine_site", "未启用的隔离点")
    user = user_create(
        username="site-without",
        password=PASSWORD,
        role="site_staff",
        jurisdiction=tree.community_a,
        place=where,
    )
    page = client_for(user).get(reverse("quarantine:site_day"))
    assert page.status_code == 200
    assert 'data-testid="no-site"' in page.content.decode()


def test_certificate_shows_the_name_to_a_role_that_may_reveal_it_audited(tree, site, make_user):
    from fangkong.accounts.models import AuditEvent

    placement = kit.checked_in(kit.placed_since(site, days_ago=8))
    lab = tkit.lab(tree.city)
    tests = list(PlacementTest.objects.filter(placement=placement))
    kit.site_results(dict.fromkeys(tests, "negative"), lab=lab)
    care.placement_release(actor=kit.site_staff(site), placement=placement)
    staff_page = client_for(kit.site_staff(site)).get(
        reverse("quarantine:certificate", args=[placement.pk])
    )
    assert placement.person.name not in staff_page.content.decode()
    command = make_user("command", tree.city)
    page = client_for(command).get(reverse("quarantine:certificate", args=[placement.pk]))
    assert placement.person.name in page.content.decode()
    assert AuditEvent.objects.filter(action="placement.certificate", actor=command).exists()


def test_site_day_queries_do_not_grow_with_the_persons(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site = qkit.site_with_rooms(tree.community_a, rooms=12)
    c = client_for(kit.site_staff(site))

    def add(n):
        for _ in range(n):
            close = kit.checked_in(kit.placed_since(site, days_ago=9))
            kit.checked_in(kit.placed_since(site, days_ago=8, source=close))
            care.health_check_record(
                actor=kit.site_staff(site), placement=close, slot="am", temperature="38.0"
            )

    add(1)
    with CaptureQueriesContext(connection) as few:
        assert c.get(reverse("quarantine:site_day")).status_code == 200
    add(3)
    with CaptureQueriesContext(connection) as many:
        page = c.get(reverse("quarantine:site_day"))
    assert page.content.decode().count('data-testid="release-row"') == 8
    assert len(many.captured_queries) == len(few.captured_queries) <= 60


def test_site_day_of_a_demo_sized_site_stays_small_and_pages_each_section(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site = qkit.site_with_rooms(tree.community_a, rooms=1)
    kit.placed_bulk(site, 20)
    kit.placed_bulk(site, 5, status="planned", with_test=False)
    c = client_for(kit.site_staff(site))
    with CaptureQueriesContext(connection) as few:
        assert c.get(reverse("quarantine:site_day")).status_code == 200
    kit.placed_bulk(site, 300)
    kit.placed_bulk(site, 40, status="planned", with_test=False)
    with CaptureQueriesContext(connection) as many:
        page = c.get(reverse("quarantine:site_day"))
    html = page.content.decode()
    assert len(page.content) < 200 * 1024
    assert len(many.captured_queries) == len(few.captured_queries) <= 60
    # Each section: its count and its first rows, with a link to the whole list.
    for row in ("arrival-row", "check-row", "test-row", "release-row"):
        assert html.count(f'data-testid="{row}"') == 20
    for section in ("arrivals", "checks", "tests", "releases"):
        assert f'data-testid="more-{section}"' in html
    assert "（320）" in html and "（45）" in html
    # The whole list of a section, keyset-paged with its total.
    url = reverse("quarantine:site_day_section", args=["checks"])
    first = c.get(url).content.decode()
    assert first.count('data-testid="check-row"') == 50
    assert 'data-testid="list-total"' in first and "320" in first
    cursor = re.search(r'\?cursor=([^"&]+)"', first).group(1)
    second = c.get(url, {"cursor": cursor}).content.decode()
    assert second.count('data-testid="check-row"') == 50
    seen = set(re.findall(r'data-placement="(\d+)"', first))
    assert seen.isdisjoint(re.findall(r'data-placement="(\d+)"', second))
    # A check recorded from the section's page goes back to it; the person goes after
    # those still due.
    pk = int(sorted(seen, key=int)[0])
    for slot in ["am"] if care.slot_now() == "am" else ["am", "pm"]:
        done = c.post(
            reverse("quarantine:health_check", args=[pk]),
            {"slot": slot, "temperature": "36.5", "section": "checks"},
        )
        assert done.status_code == 302 and done["Location"] == url
    after = c.get(url).content.decode()
    assert f'data-placement="{pk}"' not in after
    day = c.get(reverse("quarantine:site_day")).content.decode()
    assert re.search(r'data-testid="checks-due">319<', day)


def test_site_day_section_unknown_is_404_and_needs_care(tree, make_user):
    site = qkit.site_with_rooms(tree.community_a, rooms=1)
    c = client_for(kit.site_staff(site))
    assert c.get(reverse("quarantine:site_day_section", args=["nope"])).status_code == 404
    other = client_for(make_user("community_worker", tree.community_a))
    url = reverse("quarantine:site_day_section", args=["checks"])
    assert other.get(url).status_code == 403


def test_home_check_ins_are_due_from_the_day_after_the_placement(tree):
    import datetime as dt

    from django.utils import timezone

    from fangkong.quarantine.models import HomeCheckIn
    from fangkong.quarantine.selectors import care as care_selectors

    today = timezone.localdate()
    worker = kit.community_worker(tree.community_a)
    placed_today = kit.home_placement(tree.community_a, start_on=today)
    _page, rows = care_selectors.home_list(user=worker)
    row = next(r for r in rows if r.placement.pk == placed_today.pk)
    assert row.missed_days == 0 and not row.due_today
    page = client_for(worker).get(reverse("quarantine:home_list")).content.decode()
    assert 'data-testid="not-due-today"' in page
    # Placed three days ago: due the day after and yesterday (2 days), today open.
    earlier = kit.home_placement(tree.community_a, start_on=today - dt.timedelta(days=3))
    # A check-in on the day of placement does not stand for a due day.
    HomeCheckIn.objects.create(
        placement=earlier,
        on_date=earlier.start_on,
        temperature="36.5",
        checked_at=timezone.now(),
        checked_by=worker,
    )
    rows = care_selectors.home_list(user=worker)[1]
    row = next(r for r in rows if r.placement.pk == earlier.pk)
    assert row.missed_days == 2 and row.due_today
    HomeCheckIn.objects.create(
        placement=earlier,
        on_date=today - dt.timedelta(days=1),
        temperature="36.5",
        checked_at=timezone.now(),
        checked_by=worker,
    )
    rows = care_selectors.home_list(user=worker, missed_only=True)[1]
    assert [r.missed_days for r in rows if r.placement.pk == earlier.pk] == [1]


def test_site_day_fever_check_is_a_warning_and_due_count_drops(tree, site):
    first = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    second = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    c = client_for(kit.site_staff(site))
    slot = care.slot_now()
    day = c.get(reverse("quarantine:site_day")).content.decode()
    assert re.search(r'data-testid="checks-due">2<', day)
    c.post(
        reverse("quarantine:health_check", args=[first.pk]),
        {"slot": slot, "temperature": "37.8", "symptoms": ["cough"]},
    )
    c.post(
        reverse("quarantine:health_check", args=[second.pk]),
        {"slot": slot, "temperature": "36.5"},
    )
    for url in (
        reverse("quarantine:site_day"),
        reverse("quarantine:site_day_section", args=["checks"]),
    ):
        html = c.get(url).content.decode()
        badges = re.findall(
            r'<span class="badge ([\w-]+)" data-testid="check-done"[^>]*>([^<]*)', html
        )
        assert len(badges) == 2, badges
        warn = [text for cls, text in badges if "37.8" in text]
        assert warn and "发热" in warn[0] and "症状" in warn[0]
        assert {t: c_ for c_, t in badges}[warn[0]] == "badge-sealed"
        ok = [cls for cls, text in badges if "36.5" in text]
        assert ok == ["badge-ok"]
    day = c.get(reverse("quarantine:site_day")).content.decode()
    assert re.search(r'data-testid="checks-due">0<', day)


def test_site_day_tests_mark_overdue_rows_first(tree, site):
    import datetime as dt

    from django.utils import timezone

    placement = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    PlacementTest.objects.filter(placement=placement).delete()
    today = timezone.localdate()
    due_today = PlacementTest.objects.create(placement=placement, kind="scheduled", due_on=today)
    late = PlacementTest.objects.create(
        placement=placement, kind="scheduled", due_on=today - dt.timedelta(days=3)
    )
    c = client_for(kit.site_staff(site))
    for url in (
        reverse("quarantine:site_day"),
        reverse("quarantine:site_day_section", args=["tests"]),
    ):
        html = c.get(url).content.decode()
        assert "应检（含逾期）" in html and "今日应检" not in html
        assert html.count('data-testid="test-overdue"') == 1
        assert "逾期 3 天" in html
        first = html.index(reverse("quarantine:test_sample", args=[late.pk]))
        assert first < html.index(reverse("quarantine:test_sample", args=[due_today.pk]))


def test_hospital_transfer_departs_before_it_arrives(tree, site):
    from fangkong.quarantine.models import Transfer

    placement = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    staff = kit.site_staff(site)
    care.health_check_record(actor=staff, placement=placement, slot="am", temperature="38.2")
    transfer = Transfer.objects.get(placement=placement, kind="to_hospital")
    c = client_for(staff)
    day = c.get(reverse("quarantine:site_day")).content.decode()
    assert reverse("quarantine:hospital_depart", args=[transfer.pk]) in day
    assert reverse("quarantine:hospital_arrive", args=[transfer.pk]) not in day
    early = c.post(reverse("quarantine:hospital_arrive", args=[transfer.pk]), follow=True)
    assert "请先登记转运出发" in early.content.decode()
    c.post(reverse("quarantine:hospital_depart", args=[transfer.pk]), {"vehicle": "沪A1234"})
    transfer.refresh_from_db()
    assert transfer.status == "en_route" and transfer.vehicle == "沪A1234"
    day = c.get(reverse("quarantine:site_day")).content.decode()
    assert reverse("quarantine:hospital_arrive", args=[transfer.pk]) in day
    c.post(reverse("quarantine:hospital_arrive", args=[transfer.pk]))
    placement.refresh_from_db()
    assert placement.status == "hospital"
    other = client_for(kit.site_staff(qkit.site_with_rooms(tree.community_a, rooms=1)))
    assert other.post(reverse("quarantine:hospital_depart", args=[transfer.pk])).status_code == 404


def test_placement_detail_release_button_for_own_site_staff_and_certificate_link(tree, site):
    early = kit.checked_in(qkit.placed_contact(tree.community_a, site=site))
    staff = kit.site_staff(site)
    c = client_for(staff)
    url = reverse("quarantine:placement_detail", args=[early.pk])
    html = c.get(url).content.decode()
    assert reverse("quarantine:release", args=[early.pk]) in html
    refused = c.post(reverse("quarantine:release", args=[early.pk]), {"back": "detail"})
    assert refused.status_code == 302 and refused["Location"] == url
    shown = c.get(url).content.decode()
    assert f"未到解除日期（{early.quarantine_end_on.isoformat()}）" in shown
    # Another site's staff: no button (and no page).
    other = client_for(kit.site_staff(qkit.site_with_rooms(tree.community_a, rooms=1)))
    other_page = other.get(url)
    assert reverse("quarantine:release", args=[early.pk]) not in other_page.content.decode()
    # Released: a link to the certificate, no release button.
    done = kit.checked_in(kit.placed_since(site, days_ago=8))
    kit.site_results(
        dict.fromkeys(PlacementTest.objects.filter(placement=done), "negative"),
        lab=tkit.lab(tree.city),
    )
    care.placement_release(actor=staff, placement=done)
    html = c.get(reverse("quarantine:placement_detail", args=[done.pk])).content.decode()
    assert reverse("quarantine:certificate", args=[done.pk]) in html
    assert reverse("quarantine:release", args=[done.pk]) not in html
