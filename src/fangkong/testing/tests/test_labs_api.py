"""Labs API: boxes, results batch and file, tube results with corrections, rechecks and
holds — with the permission and scope negatives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangkong.testing.models import Hold, Recheck, TubeResult
from fangkong.testkit import testing
from fangkong.testkit.worlds.labs import (
    World,
    build_world,
    received_tube,
    results_csv,
    results_xlsx,
)

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c: Client, url: str, body: Any) -> Any:
    return c.post(url, data=json.dumps(body), content_type="application/json")


def test_box_flow_by_api(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:5], barcode="TA1")
    sampler = _client(world.sampler)
    r = _post(sampler, "/api/testing/boxes", {"barcode": "BOX9", "lab_id": world.lab.pk})
    assert r.status_code == 201, r.content
    box_id = r.json()["id"]
    r = _post(sampler, f"/api/testing/boxes/{box_id}/tubes", {"barcodes": ["NOPE"]})
    assert r.status_code == 404 and r.json()["code"] == "tube_not_found"
    assert r.json()["detail"]["rejected"][0]["barcode"] == "NOPE"
    r = _post(sampler, f"/api/testing/boxes/{box_id}/tubes", {"barcodes": ["ta1", "NOPE"]})
    assert r.status_code == 200 and r.json()["added"] == ["TA1"]
    assert [(x["barcode"], x["code"]) for x in r.json()["rejected"]] == [("NOPE", "tube_not_found")]
    r = sampler.post(f"/api/testing/boxes/{box_id}/hand-over")
    assert r.status_code == 200 and r.json()["state"] == "handed_over"
    other_lab = _client(world.lab_user_b)
    r = _post(other_lab, "/api/testing/boxes/receive", {"barcode": "BOX9"})
    assert r.status_code == 404
    lab = _client(world.lab_user)
    assert [b["barcode"] for b in lab.get("/api/testing/boxes").json()["items"]] == ["BOX9"]
    assert other_lab.get("/api/testing/boxes").json()["items"] == []
    r = _post(lab, "/api/testing/boxes/receive", {"barcode": "BOX9"})
    assert r.status_code == 200 and r.json()["state"] == "received"
    r = _post(lab, "/api/testing/boxes/receive", {"barcode": "BOX9"})
    assert r.status_code == 409 and r.json()["code"] == "box_already_received"


def test_other_point_sampler_gets_404_on_the_box(world: World) -> None:
    r = _post(
        _client(world.sampler), "/api/testing/boxes", {"barcode": "BOX9", "lab_id": world.lab.pk}
    )
    box_id = r.json()["id"]
    other = _client(world.sampler_b)
    assert other.get(f"/api/testing/boxes/{box_id}").status_code == 404
    assert other.post(f"/api/testing/boxes/{box_id}/hand-over").status_code == 404
    community = _client(world.community_a)
    assert (
        _post(community, "/api/testing/boxes", {"barcode": "X", "lab_id": world.lab.pk}).status_code
        == 403
    )


def test_results_batch_and_file_by_api(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    received_tube(world, world.persons_b[:5], barcode="TB1")
    lab = _client(world.lab_user)
    r = _post(
        lab,
        "/api/testing/results",
        {"results": [{"barcode": "TAPOS", "result": "positive", "ct_orf1ab": 30, "tested_at": T}]},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["applied"] == 1 and body["holds"] == 10 and body["rechecks"] == 10
    data = results_xlsx([("TB1", "阴性", None, None, T)])
    upload = SimpleUploadedFile("r.xlsx", data)
    r = lab.post("/api/testing/results/import", {"file": upload})
    # A background job (run in-process in tests): 202, the report is the job's result.
    assert r.status_code == 202 and r.json()["state"] == "done"
    assert r.json()["result"]["applied"] == 1
    assert lab.get(f"/api/jobs/{r.json()['id']}").json()["result"]["applied"] == 1
    upload = SimpleUploadedFile("r.xlsx", data)
    r = lab.post("/api/testing/results/import", {"file": upload})
    assert r.status_code == 202 and r.json()["result"]["duplicate"] is True
    assert TubeResult.objects.count() == 2


def test_bad_file_by_api_is_400_with_lines(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    lab = _client(world.lab_user)
    data = results_csv([("TA1", "阴性", "", "", T), ("ZZZ", "阴性", "", "", T)])
    r = lab.post("/api/testing/results/import", {"file": SimpleUploadedFile("r.csv", data)})
    assert r.status_code == 202
    body = r.json()  # the job failed with the refusal the synchronous import answered
    assert body["state"] == "failed" and body["error_code"] == "import_rows_invalid"
    errors = body["error_detail"]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(3, "tube_not_received")]
    assert TubeResult.objects.count() == 0


def test_results_api_refuses_other_roles(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    body = {"results": [{"barcode": "TA1", "result": "阴性", "tested_at": T}]}
    assert _post(_client(world.sampler), "/api/testing/results", body).status_code == 403
    # the other lab did not receive it: a bad row, nothing written
    r = _post(_client(world.lab_user_b), "/api/testing/results", body)
    assert r.status_code == 400 and r.json()["detail"]["errors"][0]["code"] == "tube_not_received"
    assert TubeResult.objects.count() == 0


def test_tube_result_with_corrections(world: World, town_a_user: Any, town_b_user: Any) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    lab = _client(world.lab_user)
    _post(
        lab,
        "/api/testing/results",
        {"results": [{"barcode": "TA1", "result": "阴性", "tested_at": T}]},
    )
    _post(
        lab,
        "/api/testing/results",
        {"results": [{"barcode": "TA1", "result": "无效", "tested_at": T}]},
    )
    r = lab.get("/api/testing/tubes/TA1/result")
    assert r.status_code == 200
    body = r.json()
    assert body["result"] == "invalid" and body["revision"] == 2
    assert [(c["old_result"], c["new_result"]) for c in body["corrections"]] == [
        ("negative", "invalid")
    ]
    assert body["received_to_resulted_minutes"] is not None
    assert _client(town_a_user).get("/api/testing/tubes/TA1/result").status_code == 200
    assert _client(town_b_user).get("/api/testing/tubes/TA1/result").status_code == 404
    assert _client(world.lab_user_b).get("/api/testing/tubes/TA1/result").status_code == 404


def test_rechecks_and_holds_scoped(world: World, town_a_user: Any, town_b_user: Any) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    _post(
        _client(world.lab_user),
        "/api/testing/results",
        {"results": [{"barcode": "TAPOS", "result": "阳性", "tested_at": T}]},
    )
    for user, expected in (
        (world.community_a, 10),
        (town_a_user, 10),
        (world.community_b, 0),
        (town_b_user, 0),
    ):
        c = _client(user)
        page = c.get("/api/testing/rechecks").json()
        assert len(page["items"]) == expected
        assert len(c.get("/api/testing/holds").json()["items"]) == expected
    item = _client(world.community_a).get("/api/testing/rechecks").json()["items"][0]
    assert "*" in item["name_masked"] and item["status"] == "pending"
    assert _client(world.community_b).get(f"/api/testing/rechecks/{item['id']}").status_code == 404
    assert _client(world.sampler).get("/api/testing/rechecks").status_code == 403
    r = _post(
        _client(world.community_b), f"/api/testing/rechecks/{item['id']}/sample", {"barcode": "R1"}
    )
    assert r.status_code == 404
    r = _post(
        _client(world.community_a), f"/api/testing/rechecks/{item['id']}/sample", {"barcode": "R1"}
    )
    assert r.status_code == 200 and r.json()["status"] == "sampled"
    assert Recheck.objects.get(pk=item["id"]).recheck_tube is not None
    assert Hold.objects.count() == 10


def test_turnaround_per_lab(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_a[5:], barcode="TA2")
    lab = _client(world.lab_user)
    _post(
        lab,
        "/api/testing/results",
        {
            "results": [
                {"barcode": "TA1", "result": "阴性", "tested_at": "2022-07-10 09:00"},
                {"barcode": "TA2", "result": "阴性", "tested_at": "2022-07-10 11:00"},
            ]
        },
    )
    rows = lab.get("/api/testing/labs/turnaround").json()["items"]
    assert len(rows) == 1
    # tubes closed at 07:00 (round start 06:00 + 1 h): 120 and 240 minutes
    assert rows[0]["sampled_to_resulted"]["tubes"] == 2
    assert rows[0]["sampled_to_resulted"]["median_minutes"] == 180.0
    assert rows[0]["sampled_to_resulted"]["p90_minutes"] == 228.0
