"""Every role's home page in words: no capability code, and no duty promised that has no
page (issue 11, items 10 and 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fangkong.accounts.roles import (
    CITY_WIDE_ROLES,
    PLACE_ROLES,
    ROLE_CAPABILITIES,
    Capability,
    Role,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
CAPABILITY_CODE = re.compile("|".join(re.escape(c.value) for c in Capability))


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _section(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}".*?</(?:section|p)>', html, re.S)
    return match.group(0) if match else ""


def _user_for(role: str, tree: Any, make_user: Any, add_place: Any) -> Any:
    if role in CITY_WIDE_ROLES:
        return make_user(role, tree.city)
    if role == Role.TOWN_STAFF:
        return make_user(role, tree.town_a)
    user = make_user(role, tree.community_a)
    if role in PLACE_ROLES:
        user.place = add_place(tree.community_a, PLACE_ROLES[role], f"虹桥村{role}")
        user.save()
    if role == Role.SITE_STAFF:  # the place is a quarantine site with rooms
        from fangkong.testkit.quarantine import site_with_rooms

        site_with_rooms(user.place, rooms=2)
    return user


def test_every_capability_has_words() -> None:
    labels = [str(c.label) for c in Capability]
    assert all(CJK.search(label) for label in labels), labels
    assert len(set(labels)) == len(labels)  # two capabilities never read the same


@pytest.mark.parametrize("role", list(Role))
def test_no_role_meets_a_capability_code_at_home(
    role: str, tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    client.force_login(_user_for(role, tree, make_user, add_place))

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not CAPABILITY_CODE.findall(_visible_text(html))
    if 'data-testid="landing-can"' in html:  # the landing page: what the role may do, in words
        can = _section(html, "landing-can")
        for capability in ROLE_CAPABILITIES[role]:
            assert str(Capability(capability).label) in can


@pytest.mark.parametrize(
    ("role", "without_pages"),
    [
        (Role.HOTLINE, "受理群众诉求"),
        (Role.PUBLICITY, "发布权威通报"),
        (Role.COMMUNITY_WORKER, "上门排查"),
    ],
)
def test_a_duty_without_pages_is_said_to_have_none(
    role: str, without_pages: str, tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    client.force_login(_user_for(role, tree, make_user, add_place))

    html = client.get("/").content.decode()

    work, pending = _section(html, "landing-work"), _section(html, "landing-without-pages")
    assert work and without_pages not in work  # what the role does today has pages
    assert without_pages in pending and "暂无系统页面" in pending


def test_the_lab_is_told_its_rechecks_come_through_boxes_and_the_import(
    tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    """A lab has no recheck page (the recheck list is the towns' and communities', 403 to
    it): its landing says rechecks come through the boxes and the result import it has."""
    from django.urls import reverse

    client.force_login(_user_for(Role.LAB, tree, make_user, add_place))
    html = client.get("/").content.decode()

    work = _section(html, "landing-work")
    assert "单管复核" in work and "导入" in work
    assert 'data-testid="landing-without-pages"' not in html and "阳性复核" not in html
    assert client.get(reverse("testing:recheck_list")).status_code == 403


@pytest.mark.parametrize(
    "role",
    [Role.COMMUNITY_WORKER, Role.SITE_STAFF, Role.LAB, Role.HOTLINE, Role.PUBLICITY],
)
def test_every_link_of_a_landing_page_opens_for_its_role(
    role: str, tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    client.force_login(_user_for(role, tree, make_user, add_place))
    html = client.get("/").content.decode()
    content = html.split("<main", 1)[1]
    links = set(re.findall(r'<a (?:class="tile" )?href="(/[^"]*)"', content))

    assert links  # the page says what the role can do by links to it
    answers = {url: client.get(url).status_code for url in sorted(links)}
    assert all(status == 200 for status in answers.values()), answers


@pytest.mark.parametrize(
    ("role", "work", "page"),
    [
        (Role.SITE_STAFF, "入住登记", "quarantine:site_day"),
        (Role.COMMUNITY_WORKER, "居家隔离", "quarantine:home_list"),
    ],
)
def test_quarantine_duties_are_named_with_their_pages(
    role: str, work: str, page: str, tree: Any, make_user: Any, add_place: Any, client: Any
) -> None:
    """The quarantine pages exist: site staff and community workers are told so, and
    the landing no longer lists that work among the duties without pages."""
    from django.urls import reverse

    client.force_login(_user_for(role, tree, make_user, add_place))
    html = client.get("/").content.decode()

    assert work in _section(html, "landing-work")
    assert work not in _section(html, "landing-without-pages")
    assert reverse(page) in html  # in the menu and the tiles
    assert client.get(reverse(page)).status_code == 200


def test_site_staff_see_their_site_on_the_landing(tree: Any, make_user: Any, client: Any) -> None:
    from fangkong.testkit.quarantine import site_with_rooms

    site = site_with_rooms(tree.community_a, rooms=5, name="虹桥宾馆(集中隔离点)")
    other = site_with_rooms(tree.community_a, rooms=3, name="别处宾馆(集中隔离点)")
    user = make_user(Role.SITE_STAFF, tree.community_a)
    user.place = site.place
    user.save()
    client.force_login(user)

    html = client.get("/").content.decode()

    card = re.search(r'data-testid="landing-site".*?</section>', html, re.S).group(0)
    assert site.name in card and other.name not in html
    assert ">5<" in card.replace(" ", "")  # its rooms, all ready
    links = re.findall(r'href="(/[^"]*)"', card)
    assert len(links) == 2
    assert all(client.get(url).status_code == 200 for url in links)
