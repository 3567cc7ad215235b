"""Chain selectors: generations, the graph (scoped, masked, bounded), a case's stops."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fangkong.accounts.roles import Role
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import TZ as SH
from fangkong.tracing.selectors.chains import (
    case_chain,
    case_generation,
    case_stops_geojson,
    chain_graph,
)
from fangkong.tracing.services.chains import case_link_create, cluster_add_case, cluster_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(tree: Any, investigator: Any) -> dict[str, Any]:
    """a (town A) → b (town B) → c (town A); a has a close contact in each town, the
    town-A close contact has a secondary contact."""
    a = tracing.case_in(tree.community_a, "赵大")
    b = tracing.case_in(tree.community_b, "钱二")
    c = tracing.case_in(tree.community_a, "孙三")
    case_link_create(actor=investigator, infector=a, infectee=b)
    case_link_create(actor=investigator, infector=b, infectee=c)
    close_a = tracing.contact(people.person(tree.community_a, "李密"), case=a)
    close_b = tracing.contact(people.person(tree.community_b, "周密"), case=a)
    secondary = tracing.contact(
        people.person(tree.community_a, "吴次"), source_contact=close_a, classification="secondary"
    )
    return {"a": a, "b": b, "c": c, "close_a": close_a, "close_b": close_b, "sec": secondary}


def test_generation_over_the_whole_chain(chain: dict[str, Any]) -> None:
    assert case_generation(chain["a"]) == 1
    assert case_generation(chain["b"]) == 2
    assert case_generation(chain["c"]) == 3


def test_graph_of_a_case_has_cases_contacts_and_edges(
    chain: dict[str, Any], investigator: Any
) -> None:
    graph = chain_graph(user=investigator, case=chain["c"])
    ids = {n["id"] for n in graph["nodes"]}
    a, b, c = chain["a"], chain["b"], chain["c"]
    assert {f"case-{a.pk}", f"case-{b.pk}", f"case-{c.pk}"} <= ids
    assert graph["counts"] == {"case": 3, "close": 2, "secondary": 1, "other": 0}
    gens = {n["id"]: n.get("generation") for n in graph["nodes"] if n["kind"] == "case"}
    assert gens[f"case-{c.pk}"] == 3
    kinds = {(e["source"], e["target"]): e["kind"] for e in graph["edges"]}
    assert kinds[(f"case-{a.pk}", f"case-{b.pk}")] == "infection"
    assert kinds[(f"contact-{chain['close_a'].pk}", f"contact-{chain['sec'].pk}")] == "exposure"
    labels = {n["label"] for n in graph["nodes"]}
    assert f"{a.number} 赵*" in labels and "李*" in labels
    assert not any("赵大" in label for label in labels)  # masked


def test_town_user_sees_only_nodes_of_its_town(chain: dict[str, Any], town_a_user: Any) -> None:
    graph = chain_graph(user=town_a_user, case=chain["a"])
    ids = {n["id"] for n in graph["nodes"]}
    assert f"case-{chain['b'].pk}" not in ids
    assert f"contact-{chain['close_b'].pk}" not in ids
    assert f"case-{chain['c'].pk}" in ids
    # generations still count the hidden case
    gens = {n["id"]: n["generation"] for n in graph["nodes"] if n["kind"] == "case"}
    assert gens[f"case-{chain['c'].pk}"] == 3
    for edge in graph["edges"]:
        assert edge["source"] in ids and edge["target"] in ids
    with pytest.raises(NotFound):
        chain_graph(user=town_a_user, case=chain["b"])


def test_graph_without_filter_for_town_b(chain: dict[str, Any], town_b_user: Any) -> None:
    graph = chain_graph(user=town_b_user)
    # close_b lives in town B but was exposed to case a (town A), which is not drawn.
    assert {n["id"] for n in graph["nodes"]} == {f"case-{chain['b'].pk}"}
    assert graph["edges"] == []


def test_graph_by_cluster_and_limit(chain: dict[str, Any], investigator: Any) -> None:
    cluster = cluster_create(actor=investigator, name="聚集1")
    cluster_add_case(actor=investigator, cluster=cluster, case=chain["a"])
    graph = chain_graph(user=investigator, cluster=cluster, limit=2)
    assert len(graph["nodes"]) == 2
    assert graph["truncated"] is True
    full = chain_graph(user=investigator, cluster=cluster, include_contacts=False)
    assert full["counts"]["case"] == 3 and full["counts"]["close"] == 0
    cluster_node = next(n for n in full["nodes"] if n["case_id"] == chain["a"].pk)
    assert cluster_node["cluster"] == "聚集1"


def test_graph_queries_are_bounded(
    tree: Any, investigator: Any, django_assert_max_num_queries: Any
) -> None:
    root = tracing.case_in(tree.community_a)
    for i in range(30):
        case = tracing.case_in(tree.community_a)
        case_link_create(actor=investigator, infector=root, infectee=case)
        tracing.contact(people.person(tree.community_a, f"密{i}"), case=case)
    with django_assert_max_num_queries(8):
        graph = chain_graph(user=investigator, case=root)
    assert graph["counts"]["case"] == 31 and graph["counts"]["close"] == 30


def test_case_chain_hides_other_towns(chain: dict[str, Any], town_a_user: Any) -> None:
    view = case_chain(user=town_a_user, case=chain["c"])
    assert view.generation == 3
    assert view.infected_by == [] and view.hidden == 1


def test_stops_geojson(tree: Any, investigator: Any, town_b_user: Any) -> None:
    case = tracing.case_in(tree.community_a)
    hotel = areas.place(
        tree.community_a, "venue", "乌镇某酒店", venue_code="V001", lat=30.74, lon=120.49
    )
    market = areas.place(tree.community_a, "venue", "菜市场", venue_code="V002", lat=None)
    tracing.stop(case, market, dt.datetime(2022, 7, 3, 12, 0, tzinfo=SH))
    tracing.stop(case, hotel, dt.datetime(2022, 7, 3, 8, 0, tzinfo=SH))
    tracing.stop(case, None, dt.datetime(2022, 7, 3, 18, 0, tzinfo=SH))
    geo = case_stops_geojson(user=investigator, case=case)
    assert geo["type"] == "FeatureCollection"
    [feature] = geo["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [120.49, 30.74]}
    assert feature["properties"]["seq"] == 1
    assert feature["properties"]["place"] == "乌镇某酒店"
    assert feature["properties"]["start"] == "2022-07-03T08:00+08:00"
    assert [s["seq"] for s in geo["unlocated"]] == [2, 3]
    with pytest.raises(NotFound):
        case_stops_geojson(user=town_b_user, case=case)


def test_graph_needs_case_view(tree: Any, make_user: Any) -> None:
    lab = make_user(Role.LAB, tree.city, "lab")
    with pytest.raises(PermissionDenied):
        chain_graph(user=lab)
