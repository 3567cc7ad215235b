"""Areas pages: rendering, htmx actions with their messages, permissions, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.areas import selectors
from fangkong.areas.models import Zone, ZoneTransition
from fangkong.areas.services import areas as area_services
from fangkong.areas.services import zones as zone_services
from fangkong.areas.tests.conftest import DAY0, day

HX = {"HTTP_HX_REQUEST": "true"}


def test_zone_list_shows_badges_and_counters(client, manager, make_zone, tree):
    zone = make_zone()
    zone_services.zone_close_day(zone=zone, day=day(1))
    make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    client.force_login(manager)
    r = client.get(reverse("areas:zone_list"))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="badge badge-sealed"' in html and "badge-precaution" in html
    assert "1 / 7 天" in html
    assert "乌镇镇防范区" in html and reverse("areas:zone_create") in html
    r = client.get(reverse("areas:zone_list") + "?level=precaution")
    assert "乌镇镇防范区" in r.content.decode()
    assert "虹桥村封控区" not in r.content.decode()


def test_zone_list_counter_without_target_and_ruleset_in_words(client, manager, make_zone, tree):
    # v9: a precaution zone has no day target (precaution_lift_days 0: it lifts with the
    # zones it surrounds), so its counter has no "/ 0"; the rule set reads by its name.
    precaution = make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    zone_services.zone_close_day(zone=precaution, day=day(1))
    client.force_login(manager)
    url = reverse("areas:zone_list")
    with CaptureQueriesContext(connection) as one:
        html = client.get(url).content.decode()
    assert "1 天" in html and "/ 0 天" not in html
    assert "防控方案（第九版）" in html and ">v9<" not in html
    detail = client.get(reverse("areas:zone_detail", args=[precaution.pk])).content.decode()
    assert "连续无新增 1 天" in detail and "/ 0 天" not in detail
    for n in range(3):
        make_zone(name=f"封控区{n}")
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).content.decode().count("防控方案（第九版）") == 4
    assert len(four) == len(one)  # the rule set comes with the zones, not one query a row


def test_zone_list_for_town_staff_has_no_create_link(client, town_a_user, make_zone):
    make_zone()
    client.force_login(town_a_user)
    html = client.get(reverse("areas:zone_list")).content.decode()
    assert "虹桥村封控区" in html  # public city-wide
    assert reverse("areas:zone_create") not in html


def test_zone_detail_page(client, manager, make_zone, tree):
    zone = make_zone()
    client.force_login(manager)
    r = client.get(reverse("areas:zone_detail", args=[zone.pk]))
    html = r.content.decode()
    assert "连续无新增 0 / 7 天" in html
    assert "防控方案（第九版）" in html and "虹桥村" in html and "发现阳性病例" in html
    assert ">v9<" not in html  # the rule set in words, not its version code
    assert 'data-testid="form-downgrade"' in html and 'data-testid="form-record_case"' in html


def test_zone_detail_has_no_actions_for_town_staff(client, town_a_user, make_zone):
    zone = make_zone()
    client.force_login(town_a_user)
    html = client.get(reverse("areas:zone_detail", args=[zone.pk])).content.decode()
    assert "虹桥村封控区" in html
    assert 'data-testid="zone-actions"' not in html


def test_zone_detail_unknown_is_404(client, manager, ruleset):
    client.force_login(manager)
    assert client.get(reverse("areas:zone_detail", args=[98765])).status_code == 404


def test_htmx_action_shows_the_refusal_message(client, manager, make_zone):
    zone = make_zone()
    client.force_login(manager)
    url = reverse("areas:zone_action", args=[zone.pk, "downgrade"])
    r = client.post(url, {"on_date": day(1).isoformat(), "reason": "试降级"}, **HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-error-code="zone_downgrade_not_eligible"' in html
    assert "不满足降级条件" in html
    assert html.lstrip().startswith('<div id="zone-main">')
    zone.refresh_from_db()
    assert zone.level == "sealed"


def test_htmx_action_records_a_case(client, manager, make_zone):
    zone = make_zone(level="controlled")
    client.force_login(manager)
    url = reverse("areas:zone_action", args=[zone.pk, "record_case"])
    r = client.post(url, {"on_date": day(2).isoformat(), "reason": "新增阳性"}, **HX)
    # Done: the browser is sent to the zone page (its heading's level changed too).
    assert r.status_code == 204
    assert r["HX-Redirect"] == reverse("areas:zone_detail", args=[zone.pk])
    zone.refresh_from_db()
    assert zone.level == "sealed"
    row = ZoneTransition.objects.filter(zone=zone).last()
    assert (row.action, row.actor, row.reason) == ("escalate", manager, "新增阳性")


def test_plain_post_redirects_after_success(client, manager, make_zone):
    zone = make_zone()
    client.force_login(manager)
    url = reverse("areas:zone_action", args=[zone.pk, "screening"])
    r = client.post(url, {"on_date": day(0).isoformat(), "all_negative": "1"})
    assert r.status_code == 302
    zone.refresh_from_db()
    assert zone.last_negative_screening_on == day(0)


def test_action_bad_date_writes_nothing(client, manager, make_zone):
    zone = make_zone()
    client.force_login(manager)
    url = reverse("areas:zone_action", args=[zone.pk, "record_case"])
    r = client.post(url, {"on_date": "not-a-date", "reason": "x"}, **HX)
    assert 'data-error-code="invalid_input"' in r.content.decode()
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


def test_a_refused_action_keeps_the_reason_and_names_the_date(client, manager, make_zone):
    zone = make_zone()
    client.force_login(manager)
    url = reverse("areas:zone_action", args=[zone.pk, "record_case"])
    r = client.post(url, {"on_date": "2022-02-30", "reason": "新增阳性 3 例"}, **HX)
    html = r.content.decode()
    assert "日期格式无效，应为 YYYY-MM-DD" in html
    record = html.split('data-testid="form-record_case"')[1].split("</form>")[0]
    assert 'value="新增阳性 3 例"' in record and 'value="2022-02-30"' in record
    # The other forms keep their blank defaults.
    lift = html.split('data-testid="form-screening"')[1].split("</form>")[0]
    assert "新增阳性 3 例" not in lift
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


@pytest.mark.parametrize("role", [Role.TOWN_STAFF, Role.LAB])
def test_action_forbidden_without_zone_manage(client, make_user, make_zone, tree, role):
    user = make_user(role, tree.town_a)
    zone = make_zone()
    client.force_login(user)
    url = reverse("areas:zone_action", args=[zone.pk, "record_case"])
    r = client.post(url, {"on_date": day(1).isoformat(), "reason": "x"})
    assert r.status_code == 403
    assert client.get(reverse("areas:zone_create")).status_code == 403
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


def test_action_on_another_towns_zone_is_404(client, make_user, make_zone, tree):
    town_b_admin = make_user(Role.ADMIN, tree.town_b)
    zone = make_zone()
    client.force_login(town_b_admin)
    url = reverse("areas:zone_action", args=[zone.pk, "record_case"])
    assert client.post(url, {"on_date": day(1).isoformat(), "reason": "x"}).status_code == 404
    assert ZoneTransition.objects.filter(zone=zone).count() == 1


def test_zone_create_page(client, manager, tree, ruleset):
    client.force_login(manager)
    r = client.get(reverse("areas:zone_create") + f"?jurisdiction={tree.town_a.pk}")
    html = r.content.decode()
    members = html.split('data-testid="member-checklist"')[1].split('id="place-options"')[0]
    assert r.status_code == 200 and "虹桥村" in members and "永越村" not in members
    # The checklist groups the town's communities with their grids.
    assert f'value="{tree.grid_a.pk}"' in members and "虹桥村第一网格" in members
    r = client.post(
        reverse("areas:zone_create"),
        {
            "name": "虹桥村封控区",
            "level": "sealed",
            "jurisdiction": tree.town_a.pk,
            "member_jurisdictions": [tree.community_a.pk],
            "started_on": DAY0.isoformat(),
            "reason": "发现阳性病例",
        },
    )
    zone = Zone.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("areas:zone_detail", args=[zone.pk])
    assert list(zone.members.values_list("jurisdiction_id", flat=True)) == [tree.community_a.pk]


def test_zone_create_page_says_what_is_wrong_in_the_house_words(client, manager, tree, ruleset):
    client.force_login(manager)
    r = client.post(
        reverse("areas:zone_create"),
        {
            "name": "名" * 250,
            "level": "sealed",
            "jurisdiction": tree.town_a.pk,
            "member_jurisdictions": [tree.community_a.pk],
            "started_on": "2022-13-01",
            "reason": "",
        },
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "名称不能超过 200 字" in html
    assert "划定日期格式无效，应为 YYYY-MM-DD" in html
    assert "请填写原因" in html
    for stock in ("这个字段是必填项", "输入一个有效的日期", "确保该变量包含不超过"):
        assert stock not in html
    assert Zone.objects.count() == 0


def test_zone_create_page_shows_the_domain_error(client, manager, tree, ruleset):
    client.force_login(manager)
    r = client.post(
        reverse("areas:zone_create"),
        {
            "name": "空区",
            "level": "sealed",
            "jurisdiction": tree.town_a.pk,
            "started_on": DAY0.isoformat(),
            "reason": "x",
        },
    )
    assert r.status_code == 400
    assert 'data-error-code="zone_members_required"' in r.content.decode()
    assert Zone.objects.count() == 0


def test_place_list_filters_and_pages(client, tree, make_user):
    admin = make_user(Role.ADMIN, tree.city)
    for n in range(55):
        area_services.place_create(
            actor=admin,
            kind="venue",
            name=f"乌镇商铺{n}",
            jurisdiction=tree.community_a,
            venue_code=f"WZ{n:04d}",
        )
    area_services.place_create(
        actor=admin, kind="school", name="濮院小学", jurisdiction=tree.town_b
    )
    client.force_login(admin)
    r = client.get(reverse("areas:place_list"))
    html = r.content.decode()
    assert html.count("<tr>") == 51  # header + 50
    assert 'data-testid="next-page"' in html
    r = client.get(reverse("areas:place_list") + f"?town={tree.town_b.pk}")
    assert "濮院小学" in r.content.decode() and "乌镇商铺" not in r.content.decode()
    r = client.get(reverse("areas:place_list") + "?q=WZ0007", **HX)
    assert "乌镇商铺7" in r.content.decode() and "<html" not in r.content.decode()
    r = client.get(reverse("areas:place_list") + "?cursor=%%%")
    assert 'data-error-code="invalid_cursor"' in r.content.decode()


def test_jurisdiction_tree_counts_places(client, tree, make_user):
    admin = make_user(Role.ADMIN, tree.city)
    area_services.place_create(actor=admin, kind="venue", name="甲", jurisdiction=tree.grid_a)
    area_services.place_create(actor=admin, kind="venue", name="乙", jurisdiction=tree.community_a)
    client.force_login(admin)
    r = client.get(reverse("areas:jurisdiction_list"))
    html = r.content.decode()
    assert "乌镇镇" in html and "虹桥村" in html and "虹桥村第一网格" not in html
    rows = {
        row.node.path: row.places for row in selectors.jurisdiction_tree(user=admin, max_depth=3)
    }
    assert rows[tree.city.path] == 2 and rows[tree.town_a.path] == 2
    assert rows[tree.grid_a.path] == 1 and rows[tree.town_b.path] == 0


def test_zone_detail_query_count_does_not_grow(manager, make_zone, tree):
    parent = make_zone(level="precaution", members=[tree.town_a], name="乌镇镇防范区")
    zone = make_zone(parent=parent)
    with CaptureQueriesContext(connection) as few:
        z = selectors.zone_detail(user=manager, pk=parent.pk)
        list(z.members.all()), list(z.children.all()), [t.actor for t in z.transitions.all()]
    for n in range(1, 10):
        zone_services.zone_close_day(zone=parent, day=day(n))
        make_zone(parent=parent, name=f"子区{n}")
    zone_services.zone_record_case(actor=manager, zone=zone, on_date=day(10), reason="x")
    with CaptureQueriesContext(connection) as many:
        z = selectors.zone_detail(user=manager, pk=parent.pk)
        members, children = list(z.members.all()), list(z.children.all())
        actors = [(t.actor, t.ruleset) for t in z.transitions.all()]
        _ = [m.jurisdiction for m in members], z.jurisdiction, z.ruleset, z.parent
    assert len(children) == 10 and len(actors) == 10
    assert len(many) == len(few) == 4


def test_zone_detail_page_query_count_is_bounded(client, manager, make_zone, tree):
    zone = make_zone()
    client.force_login(manager)
    url = reverse("areas:zone_detail", args=[zone.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(1, 12):
        zone_services.zone_close_day(zone=zone, day=day(n))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_zone_detail_in_english(client, manager, make_zone):
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compile_catalogs")
    trans_real._translations = {}  # reload the catalogues just compiled
    trans_real._default = None
    zone = make_zone()
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("areas:zone_detail", args=[zone.pk])).content.decode()
    assert "0 / 7 days without a new case" in html
    assert "Sealed zone" in html and "History" in html
