"""Chains pages: the graph page, the case fragments, clusters, the scan-import page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.testkit import areas, people, tracing
from fangkong.testkit.jobs import job_of, started
from fangkong.tracing.models import CaseLink, Cluster

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def graph_config(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('id="chain-config"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_graph_page_is_scoped(tree: Any, investigator: Any, town_b_user: Any) -> None:
    a = tracing.case_in(tree.community_a, "赵大")
    tracing.contact(people.person(tree.community_a, "李密"), case=a)
    page = client_for(investigator).get(reverse("tracing:chain_graph"))
    assert page.status_code == 200
    config = graph_config(page)
    assert config["graph"]["counts"]["case"] == 1 and config["graph"]["counts"]["close"] == 1
    assert "赵大" not in page.content.decode()
    town_b = client_for(town_b_user).get(reverse("tracing:chain_graph"))
    assert graph_config(town_b)["graph"]["nodes"] == []
    missing = client_for(town_b_user).get(reverse("tracing:chain_graph") + f"?number={a.number}")
    assert graph_config(missing)["graph"]["nodes"] == []
    no_contacts = client_for(investigator).get(reverse("tracing:chain_graph") + "?number=&cluster=")
    assert graph_config(no_contacts)["graph"]["counts"]["close"] == 0


def test_case_chain_fragment_links_by_number(tree: Any, investigator: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    api = client_for(investigator)
    fragment = api.get(reverse("tracing:case_chain", args=[b.pk]))
    assert fragment.status_code == 200 and b'data-testid="link-form"' in fragment.content
    linked = api.post(
        reverse("tracing:case_chain_action", args=[b.pk, "link"]),
        {"infector": a.number, "evidence": "同住"},
    )
    assert linked.status_code == 200
    assert a.number in linked.content.decode()
    assert CaseLink.objects.filter(infector=a, infectee=b).exists()
    self_link = api.post(
        reverse("tracing:case_chain_action", args=[b.pk, "link"]), {"infector": b.number}
    )
    assert self_link.status_code == 400 and b'data-testid="chain-error"' in self_link.content
    flagged = api.post(
        reverse("tracing:case_chain_action", args=[a.pk, "source_unknown"]), {"unknown": "1"}
    )
    assert b'data-testid="source-unknown"' in flagged.content


def test_case_chain_fragment_for_town_staff(tree: Any, town_a_user: Any, town_b_user: Any) -> None:
    case = tracing.case_in(tree.community_a)
    fragment = client_for(town_a_user).get(reverse("tracing:case_chain", args=[case.pk]))
    assert fragment.status_code == 200 and b"link-form" not in fragment.content
    refused = client_for(town_a_user).post(
        reverse("tracing:case_chain_action", args=[case.pk, "source_unknown"]), {"unknown": "1"}
    )
    assert refused.status_code == 403
    other = client_for(town_b_user).get(reverse("tracing:case_chain", args=[case.pk]))
    assert other.status_code == 404
    assert (
        client_for(town_b_user).get(reverse("tracing:case_map", args=[case.pk])).status_code == 404
    )


def test_case_map_fragment(tree: Any, investigator: Any) -> None:
    case = tracing.case_in(tree.community_a)
    fragment = client_for(investigator).get(reverse("tracing:case_map", args=[case.pk]))
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert f"/api/tracing/cases/{case.pk}/stops.geojson" in html
    assert "vendor/leaflet/leaflet.js" in html and "http" not in html.split("leaflet.js")[0][-80:]


def test_clusters_pages(tree: Any, investigator: Any, town_a_user: Any) -> None:
    api = client_for(investigator)
    created = api.post(reverse("tracing:cluster_list"), {"name": "乌镇酒店聚集"})
    cluster = Cluster.objects.get()
    assert created.status_code == 302
    case = tracing.case_in(tree.community_a)
    added = api.post(reverse("tracing:cluster_detail", args=[cluster.pk]), {"number": case.number})
    assert added.status_code == 302
    detail = api.get(reverse("tracing:cluster_detail", args=[cluster.pk]))
    assert case.number in detail.content.decode()
    assert api.post(reverse("tracing:cluster_list"), {"name": ""}).status_code == 400
    town = client_for(town_a_user)
    assert "乌镇酒店聚集" in town.get(reverse("tracing:cluster_list")).content.decode()
    assert town.post(reverse("tracing:cluster_list"), {"name": "x"}).status_code == 403


def test_scan_import_page(tree: Any, investigator: Any, town_a_user: Any) -> None:
    number = people.ric(601)
    people.person(tree.community_a, "扫码人", id_number=number)
    areas.place(tree.community_a, "venue", "超市", venue_code="P1", lat=30.74, lon=120.49)
    body = f"id_number,venue_code,scanned_at\n{number},P1,2022-07-03 08:00\n{number},P1,bad\n"
    assert client_for(town_a_user).get(reverse("tracing:scan_import")).status_code == 403
    api = client_for(investigator)
    assert api.get(reverse("tracing:scan_import")).status_code == 200
    page = api.post(
        reverse("tracing:scan_import"),
        {"file": SimpleUploadedFile("day.csv", body.encode(), content_type="text/csv")},
    )
    page = started(api, page)  # 303 to the page with ?job=
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="import-added">1<' in html
    assert 'data-line="3"' in html
    wrong = api.post(
        reverse("tracing:scan_import"),
        {"file": SimpleUploadedFile("wrong.csv", b"a,b\n1,2\n", content_type="text/csv")},
    )
    assert job_of(wrong).state == "failed"
    refused = started(api, wrong).content.decode()
    assert 'data-testid="import-error"' in refused
    # A refusal of the file: the failure, no half bar, no re-run (it would fail alike)
    assert 'data-testid="job-progress"' not in refused and "0 / 1" not in refused
    assert 'data-testid="job-rerun"' not in refused
