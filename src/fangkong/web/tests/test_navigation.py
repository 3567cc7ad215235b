"""Navigation by role: each entry appears only for the roles whose capability it needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.web.context_processors import navigation

# Command's pages (the readiness menu): the situation at a glance, the overdue board, the
# tasks, the towns' reports and the daily report.
COMMAND_PAGES = {"dashboard", "overdue", "tasks", "town_reports", "daily_report"}
TRACING = {"cases", "contacts", "pushes", "chains", "scan_import"}
TESTING = {"rounds", "points", "supplies", "coverage"}
LABS = {"boxes", "box_receive", "lab_results", "rechecks"}
# Quarantine: sites and placements to see; bulk placement and transfers to manage.
SITES = {"quarantine_sites", "placements"}
PLACING = SITES | {"placement_bulk", "transfers"}
ALL_PAGES = {
    "people",
    "zones",
    "places",
    "jurisdictions",
    "protocol",
    "audit",
    "lookup_alerts",
    "tokens",
}

# What each role sees once every app has wired its pages (written out, not derived from
# ROLE_CAPABILITIES, so that a change of either shows up here). urls_wired serves
# command's real pages, so command's entries are here too; the inbox is not (below).
EXPECTED = {
    Role.COMMAND: COMMAND_PAGES | ALL_PAGES | TRACING | TESTING | PLACING | {"rechecks", "sampler"},
    # Packing and receiving boxes and importing results work at the user's own point or
    # lab: an administrator (no place) does not get entries that would answer 403.
    Role.ADMIN: COMMAND_PAGES | ALL_PAGES | TRACING | TESTING | PLACING | {"rechecks", "sampler"},
    # An investigator sees the situation and what is overdue; tasks and reports are not theirs.
    Role.INVESTIGATOR: {"dashboard", "overdue"}
    | {"people", "zones", "places", "jurisdictions", "protocol"}
    | TRACING
    | SITES
    | {"rounds", "coverage", "rechecks"},
    # A town's staff: all of command's pages, for their own town.
    Role.TOWN_STAFF: COMMAND_PAGES
    | {"people", "zones", "places", "jurisdictions", "protocol"}
    | {"cases", "contacts", "pushes", "chains"}
    | TESTING
    | PLACING
    | {"rechecks"},
    # A community answers the tasks it is given.
    Role.COMMUNITY_WORKER: {"tasks"}
    | {"people", "zones", "places", "jurisdictions", "contacts"}
    | SITES
    | {"rounds", "coverage", "rechecks"},
    # A site's staff see their own items past due.
    Role.SITE_STAFF: {"overdue"} | {"people", "zones", "places", "jurisdictions"} | SITES,
    Role.HOTLINE: {"people", "zones", "places", "jurisdictions"},
    Role.PUBLICITY: {"zones", "places", "jurisdictions"},
    # A department: the tasks it is given and its own tasks past due.
    Role.DEPARTMENT: {"overdue", "tasks"} | {"zones", "places", "jurisdictions"},
    Role.SAMPLER: {"places", "jurisdictions", "points", "supplies", "sampler", "boxes", "tokens"},
    Role.LAB: {"places", "jurisdictions"} | {"box_receive", "lab_results"},
}

# Quarantine care: the site's day at the site, alerts to the site and command, the
# community's home list (their pages are not in urls_wired: only the real project).
IN_THE_REAL_PROJECT: dict[str, set[str]] = {
    Role.COMMAND: {"care_alerts", "home_list"},
    Role.ADMIN: {"care_alerts", "home_list"},
    Role.TOWN_STAFF: {"home_list"},
    Role.COMMUNITY_WORKER: {"home_list"},
    Role.SITE_STAFF: {"site_day", "care_alerts"},
}

LABELS = {
    "dashboard": "指挥大屏",
    "tasks": "交办任务",
    "town_reports": "镇街日报",
    "daily_report": "疫情日报",
    "people": "人员",
    "zones": "风险区",
    "places": "场所",
    "jurisdictions": "辖区",
    "protocol": "防控方案",
    "audit": "审计日志",
    "lookup_alerts": "查询预警",
    "tokens": "接口令牌",
    "admin": "管理后台",
    "cases": "病例",
    "contacts": "接触者",
    "pushes": "推送核查",
    "overdue": "超时督办",
    "chains": "传播链",
    "scan_import": "扫码数据",
    "rounds": "全员核酸",
    "points": "采样点",
    "supplies": "核酸物资",
    "coverage": "核酸覆盖",
    "sampler": "采样登记",
    "boxes": "转运箱",
    "box_receive": "转运箱接收",
    "lab_results": "结果导入",
    "rechecks": "单管复核",
    "quarantine_sites": "隔离点",
    "placements": "隔离管控",
    "placement_bulk": "批量隔离",
    "transfers": "转运",
}


def _nav(user: Any, path: str = "/") -> list[dict[str, Any]]:
    request = RequestFactory().get(path)
    request.user = user
    return navigation(request)["nav_items"]


@pytest.mark.urls("fangkong.web.tests.urls_wired")
@pytest.mark.parametrize("role", list(EXPECTED))
def test_fully_wired_project_shows_each_role_exactly_its_entries(
    role: str, tree: Any, make_user: Any
) -> None:
    user = make_user(role, tree.town_a)

    items = _nav(user)

    assert {item["key"] for item in items} == EXPECTED[role]
    for item in items:
        assert item["label"] == LABELS[item["key"]]
        assert item["url"].startswith("/")


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_command_sees_audit_town_staff_does_not(
    command_user: Any, town_a_user: Any, client: Any
) -> None:
    client.force_login(command_user)
    command_page = client.get("/").content.decode()
    client.force_login(town_a_user)
    town_page = client.get("/").content.decode()

    assert 'data-nav="audit"' in command_page and "审计日志" in command_page
    assert 'data-nav="audit"' not in town_page and "审计日志" not in town_page
    assert 'data-nav="people"' in town_page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_lab_sees_neither_people_nor_dashboard(tree: Any, make_user: Any, client: Any) -> None:
    lab = make_user(Role.LAB, tree.town_a)
    client.force_login(lab)

    page = client.get("/").content.decode()

    assert 'data-nav="people"' not in page
    assert 'data-nav="dashboard"' not in page
    assert "指挥大屏" not in page
    assert 'data-nav="places"' in page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_admin_entry_only_for_staff_accounts(tree: Any, make_user: Any) -> None:
    plain = make_user(Role.ADMIN, tree.city)
    staff = make_user(Role.LAB, tree.city)
    staff.is_staff = True
    staff.save()

    assert "admin" not in {i["key"] for i in _nav(plain)}
    staff_items = {i["key"]: i for i in _nav(staff)}
    assert staff_items["admin"]["url"] == "/admin/"
    assert "people" not in staff_items  # staff flag grants the admin entry, not capabilities


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_active_flag_marks_the_current_section(command_user: Any) -> None:
    items = {i["key"]: i for i in _nav(command_user, "/people/list/")}

    assert items["people"]["active"] is True
    assert items["dashboard"]["active"] is False
    assert items["zones"]["active"] is False
    dashboard = {i["key"]: i for i in _nav(command_user, "/command/")}
    assert [k for k, i in dashboard.items() if i["active"]] == ["dashboard"]
    # The dashboard's URL holds command's other pages: the page's own entry is the
    # current one, not the dashboard as well.
    for key, path in [("overdue", "/command/overdue/"), ("tasks", "/command/tasks/1/")]:
        assert [i["key"] for i in _nav(command_user, path) if i["active"]] == [key]


@pytest.mark.urls("fangkong.web.tests.urls_partial")
def test_entries_whose_page_is_not_wired_are_skipped_not_500(
    command_user: Any, client: Any
) -> None:
    keys = {i["key"] for i in _nav(command_user)}
    assert keys == COMMAND_PAGES | {"zones"}  # people, audit, tracing, the inbox ... are not

    client.force_login(command_user)
    response = client.get("/")
    assert response.status_code == 200
    assert 'data-nav="zones"' in response.content.decode()


def test_anonymous_and_inactive_users_get_no_entries(command_user: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _nav(AnonymousUser()) == []
    command_user.is_active = False
    assert _nav(command_user) == []


# Quarantine's pages (wired in the real project, not in urls_wired): sites and placements
# for site.view, bulk placement and transfers for placement.manage, and the inspection
# pages (the site's own rectifications and staff for site staff).
_SITES = {"quarantine_sites", "placements", "inspections"}
_PLACING = {"placement_bulk", "transfers"}
# And care's: the site's day for its staff, alerts for those who care, the list of
# persons at home for those who check on them.
_CARE = {"care_alerts", "home_list"}
QUARANTINE = {
    Role.COMMAND: _SITES | _PLACING | {"rectifications", "staff_roster"} | _CARE,
    Role.ADMIN: _SITES | _PLACING | {"rectifications", "staff_roster"} | _CARE,
    Role.INVESTIGATOR: _SITES,
    Role.TOWN_STAFF: _SITES | _PLACING | {"home_list"},
    Role.COMMUNITY_WORKER: _SITES | {"home_list"},
    Role.SITE_STAFF: _SITES
    | {"site_rectifications", "site_staff_roster", "site_day", "care_alerts"},
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_in_the_real_project_every_entry_is_wired_and_shown_to_its_roles(
    role: str, tree: Any, make_user: Any, client: Any
) -> None:
    """The project's own URLconf: every page the navigation names exists, and each role's
    rendered shell links exactly its entries (and everyone their inbox)."""
    from fangkong.web.navigation import NAV_ENTRIES, resolve

    user = make_user(role, tree.town_a)
    client.force_login(user)
    response = client.get("/")

    assert [e.key for e in NAV_ENTRIES if resolve(e.url_name) is None] == []
    assert response.status_code == 200
    nav = response.content.decode().split('data-testid="main-nav"', 1)[1].split("</nav>", 1)[0]
    expected = (
        EXPECTED[role]
        | IN_THE_REAL_PROJECT.get(role, set())
        | QUARANTINE.get(role, set())
        | {"inbox"}
    )
    assert set(re.findall(r'data-nav="(\w+)"', nav)) == expected


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_a_samplers_and_a_labs_main_tasks_lead_their_menu(tree: Any, make_user: Any) -> None:
    sampler = make_user(Role.SAMPLER, tree.town_a)
    lab = make_user(Role.LAB, tree.town_a)
    command = make_user(Role.COMMAND, tree.city)

    assert [i["key"] for i in _nav(sampler)][:2] == ["sampler", "boxes"]
    assert [i["key"] for i in _nav(lab)][:2] == ["box_receive", "lab_results"]
    assert _nav(command)[0]["key"] == "dashboard"
    # The leads are links beside the menus, not again inside them.
    request = RequestFactory().get("/")
    request.user = sampler
    shell = navigation(request)
    assert [i["key"] for i in shell["nav_leads"]] == ["sampler", "boxes"]
    in_menus = {i["key"] for g in shell["nav_groups"] for i in g["items"]}
    assert not in_menus & {"sampler", "boxes"} and "points" in in_menus
    assert [i["key"] for i in navigation_for(command)["nav_leads"]] == []


# --- Groups: the menus follow what the user does ------------------------------------------


def navigation_for(user: Any, path: str = "/") -> dict[str, Any]:
    request = RequestFactory().get(path)
    request.user = user
    return navigation(request)


def test_every_entry_belongs_to_a_declared_group() -> None:
    from fangkong.web.navigation import GROUP_KEYS, NAV_ENTRIES, NAV_GROUPS, Group

    assert [e.key for e in NAV_ENTRIES if e.group not in GROUP_KEYS] == []
    assert len({g.key for g in NAV_GROUPS}) == len(NAV_GROUPS)
    # The seed's eight musts, in their order, and the settings last.
    assert [g.key for g in NAV_GROUPS] == [
        Group.READINESS,
        Group.QUARANTINE,
        Group.TRACING,
        Group.TESTING,
        Group.PUBLICITY,
        Group.NEEDS,
        Group.SOCIETY,
        Group.REVIEW,
        Group.SYSTEM,
    ]


GROUPS_OF = {
    Role.COMMAND: ["readiness", "quarantine", "tracing", "testing", "society", "review", "system"],
    Role.ADMIN: ["readiness", "quarantine", "tracing", "testing", "society", "review", "system"],
    Role.TOWN_STAFF: ["readiness", "quarantine", "tracing", "testing", "society", "system"],
    Role.SAMPLER: ["testing", "society", "system"],
    Role.LAB: ["society"],
    Role.PUBLICITY: ["society"],
    Role.HOTLINE: ["society"],
}


@pytest.mark.urls("fangkong.web.tests.urls_wired")
@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_only_groups_with_an_entry_it_may_open(
    role: str, tree: Any, make_user: Any
) -> None:
    from fangkong.web.navigation import NAV_GROUPS

    user = make_user(role, tree.town_a)

    shell = navigation_for(user)

    groups = shell["nav_groups"]
    assert all(g["items"] for g in groups)
    # Exactly the groups of the entries it may open (leads stand beside the menus).
    menu_entries = {i["group"] for i in shell["nav_items"] if not i["lead"]}
    assert {g["key"] for g in groups} == menu_entries
    order = [g.key for g in NAV_GROUPS]
    assert [g["key"] for g in groups] == sorted((g["key"] for g in groups), key=order.index)
    # Public information and residents' needs have no pages yet: nobody sees them.
    assert not {g["key"] for g in groups} & {"publicity", "needs"}
    if role in GROUPS_OF:
        assert [g["key"] for g in groups] == GROUPS_OF[role]


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_the_menus_are_rendered_as_disclosures_each_with_its_entries(
    command_user: Any, town_a_user: Any, client: Any
) -> None:
    client.force_login(town_a_user)
    page = client.get("/command/").content.decode()
    nav = page.split('data-testid="main-nav"', 1)[1].split("</nav>", 1)[0]

    groups = re.findall(r'<details class="nav-group" data-nav-group="(\w+)">', nav)
    assert groups == GROUPS_OF[Role.TOWN_STAFF]
    society = nav.split('data-nav-group="society"', 1)[1].split("</details>", 1)[0]
    readiness = nav.split('data-nav-group="readiness"', 1)[1].split("</details>", 1)[0]
    assert 'data-nav="people"' in society and 'aria-current="page"' not in society
    assert 'data-nav="dashboard"' in readiness and 'aria-current="page"' in readiness
    # The group of the current page is marked, the others not.
    assert '<summary class="active"' in readiness and '<summary class="active"' not in society
    assert "审计日志" not in nav and "复盘" not in nav
    assert '<summary class="nav-drawer-toggle">' in nav


# The readiness menu in the real project: command's pages in the order of the work (the
# situation, what is overdue, the tasks, the towns' reports, the daily report) and the
# inbox, each role its own.
READINESS_MENU = {
    Role.COMMAND: ["dashboard", "overdue", "tasks", "town_reports", "daily_report", "inbox"],
    Role.TOWN_STAFF: ["dashboard", "overdue", "tasks", "town_reports", "daily_report", "inbox"],
    Role.INVESTIGATOR: ["dashboard", "overdue", "inbox"],
    Role.COMMUNITY_WORKER: ["tasks", "inbox"],
    Role.DEPARTMENT: ["overdue", "tasks", "inbox"],
    Role.SITE_STAFF: ["overdue", "inbox"],
    Role.HOTLINE: ["inbox"],
    Role.LAB: ["inbox"],
}
URLS = {
    "dashboard": "/command/",
    "overdue": "/command/overdue/",
    "tasks": "/command/tasks/",
    "town_reports": "/command/town-reports/",
    "daily_report": "/command/reports/daily/",
    "inbox": "/notices/",
}


@pytest.mark.parametrize("role", list(READINESS_MENU))
def test_the_readiness_menu_holds_commands_pages_and_the_inbox(
    role: str, tree: Any, make_user: Any
) -> None:
    user = make_user(role, tree.town_a if role != Role.COMMAND else tree.city)

    shell = navigation_for(user)

    readiness = next(g for g in shell["nav_groups"] if g["key"] == "readiness")
    assert [i["key"] for i in readiness["items"]] == READINESS_MENU[role]
    for item in readiness["items"]:
        assert item["url"] == URLS[item["key"]]
    # One entry each: no page of these is linked twice anywhere in the menus.
    urls = [i["url"] for i in shell["nav_items"]]
    assert all(urls.count(URLS[key]) == 1 for key in READINESS_MENU[role])


def test_the_kept_menus_are_each_accounts_own_and_follow_page_and_language(
    tree: Any, make_user: Any, client: Any
) -> None:
    """The rendered menus are kept per kind of account, current section and language
    (base.html's nav cache): a second account of another role on the same page gets its
    own menus, another page marks its own section, English gets English."""

    def nav(path: str) -> str:
        page = client.get(path).content.decode()
        return page.split('data-testid="main-nav"', 1)[1].split("</nav>", 1)[0]

    client.force_login(make_user(Role.COMMAND, tree.city, "nav-keep-command"))
    command_nav = nav("/command/")
    assert 'data-nav="audit"' in command_nav and 'data-nav="scan_import"' in command_nav
    client.force_login(make_user(Role.COMMUNITY_WORKER, tree.community_a, "nav-keep-community"))
    community_nav = nav(reverse("command:task_list"))
    assert 'data-nav="audit"' not in community_nav
    assert 'data-nav="scan_import"' not in community_nav
    assert re.search(r'data-nav="tasks"[^>]*aria-current="page"', community_nav)
    people_nav = nav(reverse("people:list"))
    assert re.search(r'data-nav="people"[^>]*aria-current="page"', people_nav)
    assert not re.search(r'data-nav="tasks"[^>]*aria-current="page"', people_nav)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = nav(reverse("people:list"))
    assert re.search(r'data-nav="people"[^>]*>People</a>', english)
    assert ">人员</a>" in people_nav
