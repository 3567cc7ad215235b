"""Chains API: links, clusters, graph, stops, scan imports (permissions and scope)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangkong.scans.models import ScanImport, VenueScan
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import TZ as SH
from fangkong.tracing.models import Case, CaseLink

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_link_create_delete_and_errors(tree: Any, investigator: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_b)
    api = client_for(investigator)
    created = api.post(
        "/api/tracing/case-links",
        {"infector": a.pk, "infectee": b.pk, "evidence": "同餐"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["infectee_number"] == b.number
    again = api.post(
        "/api/tracing/case-links",
        {"infector": a.pk, "infectee": b.pk},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "link_exists")
    cycle = api.post(
        "/api/tracing/case-links",
        {"infector": b.pk, "infectee": a.pk},
        content_type="application/json",
    )
    assert (cycle.status_code, cycle.json()["code"]) == (409, "link_cycle")
    unknown = api.post(
        "/api/tracing/case-links",
        {"infector": 999999, "infectee": a.pk},
        content_type="application/json",
    )
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_case")
    link_id = created.json()["id"]
    assert api.delete(f"/api/tracing/case-links/{link_id}").status_code == 204
    assert not CaseLink.objects.exists()


def test_town_staff_cannot_link(tree: Any, town_a_user: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    response = client_for(town_a_user).post(
        "/api/tracing/case-links",
        {"infector": a.pk, "infectee": b.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not CaseLink.objects.exists()


def test_clusters_and_graph(tree: Any, investigator: Any, town_b_user: Any) -> None:
    api = client_for(investigator)
    created = api.post(
        "/api/tracing/clusters", {"name": "乌镇酒店"}, content_type="application/json"
    )
    assert created.status_code == 201
    cluster_id = created.json()["id"]
    a = tracing.case_in(tree.community_a)
    added = api.post(
        f"/api/tracing/clusters/{cluster_id}/cases",
        {"case": a.pk},
        content_type="application/json",
    )
    assert added.status_code == 200 and Case.objects.get(pk=a.pk).cluster_id == cluster_id
    listed = api.get("/api/tracing/clusters").json()["items"]
    assert [(c["name"], c["cases"]) for c in listed] == [("乌镇酒店", 1)]
    graph = api.get(f"/api/tracing/graph?cluster={cluster_id}").json()
    assert [n["case_id"] for n in graph["nodes"]] == [a.pk]
    # Town B sees neither the cluster (no case of theirs) nor the case.
    town_b = client_for(town_b_user)
    assert town_b.get("/api/tracing/clusters").json()["items"] == []
    assert town_b.get(f"/api/tracing/graph?cluster={cluster_id}").status_code == 404
    assert town_b.get(f"/api/tracing/graph?case={a.pk}").status_code == 404
    assert town_b.get("/api/tracing/graph").json()["nodes"] == []


def test_source_unknown_endpoint(tree: Any, investigator: Any) -> None:
    case = tracing.case_in(tree.community_a)
    response = client_for(investigator).post(
        f"/api/tracing/cases/{case.pk}/source-unknown",
        {"unknown": True},
        content_type="application/json",
    )
    assert response.json() == {"case": case.pk, "source_unknown": True}


def test_stops_geojson_endpoint(tree: Any, investigator: Any, town_b_user: Any) -> None:
    case = tracing.case_in(tree.community_a)
    tracing.stop(
        case,
        areas.place(tree.community_a, "venue", "酒店", venue_code="V9", lat=30.74, lon=120.49),
        dt.datetime(2022, 7, 3, 8, tzinfo=SH),
    )
    response = client_for(investigator).get(f"/api/tracing/cases/{case.pk}/stops.geojson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert response.json()["features"][0]["properties"]["place"] == "酒店"
    denied = client_for(town_b_user).get(f"/api/tracing/cases/{case.pk}/stops.geojson")
    assert denied.status_code == 404


def test_scan_import_upload_and_history(
    tmp_path: Path, tree: Any, investigator: Any, town_a_user: Any
) -> None:
    number = people.ric(501)
    people.person(tree.community_a, "扫码人", id_number=number)
    areas.place(tree.community_a, "venue", "超市", venue_code="W1", lat=30.74, lon=120.49)
    body = (
        "id_number,venue_code,scanned_at\n"
        f"{number},W1,2022-07-03T08:00:00+08:00\n"
        f"{number},ZZ,2022-07-03T09:00:00+08:00\n"
    )
    upload = SimpleUploadedFile("scans.csv", body.encode(), content_type="text/csv")
    denied = client_for(town_a_user).post("/api/tracing/scan-imports", {"file": upload})
    assert denied.status_code == 403
    upload.seek(0)
    api = client_for(investigator)
    response = api.post("/api/tracing/scan-imports", {"file": upload})
    # A background job (in-process in tests): 202, the report is the job's result
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "done"
    report = response.json()["result"]
    assert api.get(f"/api/jobs/{response.json()['id']}").json()["result"] == report
    assert (report["added"], report["bad"]) == (1, 1)
    assert report["bad_rows"][0]["line"] == 3 and report["bad_rows"][0]["code"] == "unknown_venue"
    upload.seek(0)
    strict = api.post(
        "/api/tracing/scan-imports",
        {"file": SimpleUploadedFile("other.csv", body.encode() + b"\n"), "strict": "true"},
    )
    assert (strict.status_code, strict.json()["state"]) == (202, "failed")
    assert strict.json()["error_code"] == "import_bad_rows"
    history = api.get("/api/tracing/scan-imports").json()["items"]
    assert [h["name"] for h in history] == ["scans.csv"]
    assert client_for(town_a_user).get("/api/tracing/scan-imports").status_code == 403
    assert VenueScan.objects.count() == 1 and ScanImport.objects.count() == 1
