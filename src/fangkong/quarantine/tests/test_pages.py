"""The pages of sites and placements: what each role sees, scoping (404 out of scope,
403 wrong role), the bulk page placing a case's contacts with one button."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.areas.models import Place
from fangkong.core.paths import town_of
from fangkong.quarantine.models import Placement, Transfer
from fangkong.testkit import people as kit_people
from fangkong.testkit import quarantine as kit
from fangkong.testkit import tracing as kit_tracing

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def world(tree: Any, make_user: Any) -> dict[str, Any]:
    site = kit.site_with_rooms(tree.town_b, rooms=6, floors=2, name="濮院隔离酒店")
    other = kit.site_with_rooms(tree.town_b, rooms=2, name="备用酒店")
    a = kit.placed_contact(tree.community_a, site=site, name="张三丰")
    b = kit.placed_contact(tree.community_b, site=site, name="李四光")
    c = kit.placed_contact(tree.community_b, site=other, name="王五一")
    staff = make_user(Role.SITE_STAFF, tree.town_b)
    staff.place = Place.objects.get(pk=site.place_id)
    staff.save()
    return {
        "site": site,
        "other": other,
        "a": a,
        "b": b,
        "c": c,
        "staff": staff,
        "worker_a": make_user(Role.COMMUNITY_WORKER, tree.community_a),
        "sampler": make_user(Role.SAMPLER, tree.town_a),
    }


def test_site_list_shows_occupancy_reserve_and_forecast(world: Any, command_user: Any) -> None:
    r = _client(command_user).get(reverse("quarantine:site_list"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "濮院隔离酒店" in html and "备用酒店" in html
    assert 'data-testid="reserve"' in html and 'data-testid="forecast"' in html


def test_site_staff_see_their_site_only(world: Any) -> None:
    c = _client(world["staff"])
    html = c.get(reverse("quarantine:site_list")).content.decode()
    assert "濮院隔离酒店" in html and "备用酒店" not in html
    assert c.get(reverse("quarantine:site_board", args=[world["other"].pk])).status_code == 404
    html = c.get(reverse("quarantine:placement_list")).content.decode()
    assert "张*丰" in html and "李*光" in html and "王*一" not in html
    detail = reverse("quarantine:placement_detail", args=[world["c"].pk])
    assert c.get(detail).status_code == 404
    assert c.get(reverse("quarantine:placement_bulk")).status_code == 403
    assert c.get(reverse("quarantine:transfer_list")).status_code == 403


def test_board_shows_initials_of_visible_occupants_only(world: Any, town_a_user: Any) -> None:
    url = reverse("quarantine:site_board", args=[world["site"].pk])
    html = _client(world["staff"]).get(url).content.decode()
    assert '<span class="room-who">张' in html and '<span class="room-who">李' in html
    html = _client(town_a_user).get(url).content.decode()
    assert '<span class="room-who">张' in html
    assert '<span class="room-who">李' not in html
    assert "+1" in html


def test_a_town_sees_its_residents_wherever_placed(world: Any, town_a_user: Any) -> None:
    c = _client(town_a_user)
    html = c.get(reverse("quarantine:placement_list")).content.decode()
    assert "张*丰" in html and "李*光" not in html
    ok = c.get(reverse("quarantine:placement_detail", args=[world["a"].pk]))
    assert ok.status_code == 200
    assert "依据：" in ok.content.decode()
    assert c.get(reverse("quarantine:placement_detail", args=[world["b"].pk])).status_code == 404


def test_a_community_sees_its_own(world: Any) -> None:
    c = _client(world["worker_a"])
    html = c.get(reverse("quarantine:placement_list")).content.decode()
    assert "张*丰" in html and "李*光" not in html
    assert c.get(reverse("quarantine:placement_detail", args=[world["b"].pk])).status_code == 404
    assert c.get(reverse("quarantine:placement_bulk")).status_code == 403


def test_wrong_role_gets_403(world: Any) -> None:
    c = _client(world["sampler"])
    assert c.get(reverse("quarantine:site_list")).status_code == 403
    assert c.get(reverse("quarantine:placement_list")).status_code == 403


def test_bulk_page_places_a_cases_contacts(tree: Any, town_a_user: Any) -> None:
    kit.site_with_rooms(tree.town_a, rooms=5)
    case = kit_tracing.reported_case(kit_people.person(tree.community_b, "病例乙"))
    for _ in range(3):
        kit.close_contact(tree.community_a, case=case)
    kit.close_contact(tree.community_b, case=case)  # another town's resident
    c = _client(town_a_user)
    page = c.get(reverse("quarantine:placement_bulk"), {"case": case.number})
    assert page.status_code == 200
    assert "全部安排隔离（3 人）" in page.content.decode()
    r = c.post(reverse("quarantine:placement_bulk"), {"case": case.number})
    assert r.status_code == 200
    assert 'data-testid="placed-count">3<' in r.content.decode()
    assert Placement.objects.filter(room__isnull=False).count() == 3


def test_transfer_from_the_placement_page(world: Any, town_a_user: Any) -> None:
    c = _client(town_a_user)
    placement = world["a"]
    r = c.post(reverse("quarantine:transfer_create", args=[placement.pk]), {"vehicle": "浙F1"})
    assert r.status_code == 302
    transfer = Transfer.objects.get(placement=placement)
    html = c.get(reverse("quarantine:transfer_list")).content.decode()
    assert "浙F1" in html
    c.post(reverse("quarantine:transfer_depart", args=[transfer.pk]))
    c.post(reverse("quarantine:transfer_arrive", args=[transfer.pk]))
    transfer.refresh_from_db()
    assert transfer.status == "arrived"
    other = _client(world["worker_a"])
    assert other.post(reverse("quarantine:transfer_create", args=[placement.pk])).status_code == 403


def test_manual_room_change_from_the_page(world: Any, command_user: Any) -> None:
    placement = world["a"]
    room = kit.free_room(world["site"])
    r = _client(command_user).post(
        reverse("quarantine:placement_assign", args=[placement.pk]), {"room": room.pk}
    )
    assert r.status_code == 302
    placement.refresh_from_db()
    assert placement.room_id == room.pk


def test_command_makes_a_site_and_rooms_from_the_pages(tree: Any, command_user: Any) -> None:
    from fangkong.quarantine.models import Room, Site
    from fangkong.testkit import areas as kit_areas

    place = kit_areas.place(tree.community_a, "quarantine_site", "新隔离宾馆")
    c = _client(command_user)
    assert "新隔离宾馆" in c.get(reverse("quarantine:site_list")).content.decode()
    r = c.post(reverse("quarantine:site_create"), {"place": place.pk, "doctor_name": "周医生"})
    assert r.status_code == 302
    site = Site.objects.get(place=place)
    r = c.post(
        reverse("quarantine:rooms_create", args=[site.pk]),
        {"building": "A", "floors": 2, "rooms_per_floor": 5, "kind": "single"},
    )
    assert r.status_code == 302 and Room.objects.filter(site=site).count() == 10
    room = Room.objects.filter(site=site).first()
    r = c.post(
        reverse("quarantine:room_state", args=[site.pk]),
        {"room": room.pk, "state": "out_of_service"},
    )
    assert r.status_code == 302
    room.refresh_from_db()
    assert room.state == "out_of_service"


def test_site_staff_set_their_rooms_state_only(world: Any, town_b_user: Any) -> None:
    from fangkong.quarantine.models import Room

    staff = _client(world["staff"])
    room = kit.free_room(world["site"])
    url = reverse("quarantine:room_state", args=[world["site"].pk])
    assert staff.post(url, {"room": room.pk, "state": "disinfect"}).status_code == 302
    assert Room.objects.get(pk=room.pk).state == "disinfect"
    other = kit.free_room(world["other"])
    url_other = reverse("quarantine:room_state", args=[world["other"].pk])
    assert staff.post(url_other, {"room": other.pk, "state": "disinfect"}).status_code == 404
    assert staff.post(reverse("quarantine:site_create"), {"place": 1}).status_code == 403
    town = _client(town_b_user)
    assert town.post(url, {"room": room.pk, "state": "ready"}).status_code == 403


def test_reserve_is_the_citys_figure_not_a_towns(
    world: Any, command_user: Any, town_a_user: Any
) -> None:
    """The sites are all in town B; town A's residents go there: the city is checked,
    a town is never flagged short because its sites are elsewhere."""
    from fangkong.quarantine.selectors.sites import capacity_reserve

    reserve = capacity_reserve(user=command_user)
    assert reserve.city is not None and reserve.city.rooms == 14
    assert reserve.city.population == sum(t.population for t in reserve.towns)
    assert reserve.city.needed >= 1 and not reserve.city.short and not reserve.short
    town_a = next(t for t in reserve.towns if t.path == town_of(world["a"].jurisdiction_path))
    assert town_a.rooms == 0 and town_a.population >= 1
    html = _client(command_user).get(reverse("quarantine:site_list")).content.decode()
    assert 'data-testid="reserve-city"' in html and "缺 " not in html and "储备达标" in html
    # A town's page: its residents' share for information, no city row, no flag.
    mine = capacity_reserve(user=town_a_user)
    assert mine.city is None and [t.path for t in mine.towns] == [town_a.path]
    html = _client(town_a_user).get(reverse("quarantine:site_list")).content.decode()
    assert 'data-testid="reserve-towns"' in html and 'data-testid="reserve-city"' not in html
    assert "缺 " not in html and "储备不足" not in html


def test_reserve_short_city_wide(world: Any, command_user: Any) -> None:
    from fangkong.quarantine.models import Site

    Site.objects.update(active=False)
    from fangkong.quarantine.selectors.sites import capacity_reserve

    reserve = capacity_reserve(user=command_user)
    assert reserve.city is not None and reserve.city.rooms == 0 and reserve.short
    assert reserve.city.shortfall == reserve.city.needed
    html = _client(command_user).get(reverse("quarantine:site_list")).content.decode()
    assert "储备不足" in html and f"缺 {reserve.city.shortfall} 间" in html
    cap = _client(command_user).get("/api/quarantine/capacity").json()
    assert cap["short"] is True and cap["city_reserve"]["short"] is True
    assert all("short" not in t for t in cap["reserve"])


def test_detail_says_untested_until_sampled(world: Any) -> None:
    from django.utils import timezone

    from fangkong.quarantine.models import PlacementTest

    p = world["a"]
    PlacementTest.objects.filter(placement=p).delete()
    PlacementTest.objects.create(placement=p, kind="scheduled", due_on=timezone.localdate())
    url = reverse("quarantine:placement_detail", args=[p.pk])
    html = _client(world["staff"]).get(url).content.decode()
    assert "未采样" in html and "待出结果" not in html
    PlacementTest.objects.filter(placement=p).update(sampled_at=timezone.now())
    html = _client(world["staff"]).get(url).content.decode()
    assert "待出结果" in html and "未采样" not in html


def test_transfer_list_shows_hospital_and_overdue_wait(world: Any, town_a_user: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    p = world["a"]
    old = Transfer.objects.create(placement=p, kind="to_hospital", origin="濮院隔离酒店 1-101")
    Transfer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))
    Transfer.objects.create(
        placement=p, kind="to_hospital", destination="桐乡市第一人民医院", vehicle="浙F9"
    )
    html = _client(town_a_user).get(reverse("quarantine:transfer_list")).content.decode()
    assert "桐乡市第一人民医院" in html and ">医院<" in html
    assert html.count('data-testid="overdue"') == 1 and "已等待 3 小时" in html


def test_rooms_of_persons_not_arrived_are_reserved_not_occupied(
    world: Any, command_user: Any
) -> None:
    a, b = world["a"], world["b"]
    Placement.objects.filter(pk=a.pk).update(status="active")
    Placement.objects.filter(pk=b.pk).update(status="planned")
    c = _client(command_user)
    html = c.get(reverse("quarantine:site_board", args=[world["site"].pk])).content.decode()
    assert f'room room-occupied" data-room="{a.room.number}"' in html.replace(
        " room-accessible", ""
    )
    assert f'room room-reserved" data-room="{b.room.number}"' in html.replace(
        " room-accessible", ""
    )
    assert "已入住 <strong>1</strong>" in html and "已预留（待入住） <strong>1</strong>" in html
    html = c.get(reverse("quarantine:site_list")).content.decode()
    row = html.split(f'data-site="{world["site"].pk}"')[1].split("</tr>")[0]
    assert 'data-label="已入住">1<' in row and 'data-testid="reserved-rooms">1<' in row


def test_town_shares_add_up_to_the_citys_need_and_free_rooms_tile(
    world: Any, command_user: Any
) -> None:
    from fangkong.quarantine.selectors.sites import capacity_reserve, split_largest_remainder

    assert split_largest_remainder(40, [3, 3, 3]) == [14, 13, 13]
    assert sum(split_largest_remainder(40, [1234, 5678, 91011, 1])) == 40
    assert split_largest_remainder(5, [0, 0]) == [0, 0]
    reserve = capacity_reserve(user=command_user)
    assert reserve.city is not None
    assert sum(t.needed for t in reserve.towns) == reserve.city.needed
    html = _client(command_user).get(reverse("quarantine:site_list")).content.decode()
    # 14 rooms in service, 2 of them held by the two placements with a room at 濮院 and
    # one at 备用酒店: 11 free.
    assert "在用房间总数" in html and "可用房间总数" not in html
    free = html.split('data-figure="free"')[1].split("</div></div>")[0]
    assert "空闲房间" in free and free.endswith(">11")


def test_room_change_starts_with_no_room_chosen(world: Any, command_user: Any) -> None:
    placement = world["a"]
    c = _client(command_user)
    html = c.get(reverse("quarantine:placement_detail", args=[placement.pk])).content.decode()
    select = html.split('data-testid="assign-form"')[1].split("</select>")[0]
    assert '<option value="" selected>请选择房间</option>' in select
    assert select.count(" selected") == 1
    r = c.post(reverse("quarantine:placement_assign", args=[placement.pk]), {"room": ""})
    assert r.status_code == 400
    before = placement.room_id
    placement.refresh_from_db()
    assert placement.room_id == before
