"""A result time before the box's receipt, or in the future, is refused on the page, by
the API and in a file, with nothing written; turnaround reads as hours and minutes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.testing.models import Hold, ResultImport, TubeResult, TubeState
from fangkong.testing.templatetags.testing_tags import duration
from fangkong.testkit.jobs import job_of, started
from fangkong.testkit.worlds.labs import World, build_world, received_tube, results_csv

pytestmark = pytest.mark.django_db

EARLY = "2022-07-10 06:59"  # the kit's box reached the lab at 07:00
GOOD = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _nothing_written() -> None:
    assert TubeResult.objects.count() == 0
    assert ResultImport.objects.count() == 0 and Hold.objects.count() == 0


def test_api_batch_refuses_a_result_before_the_receipt_and_one_in_the_future(
    world: World,
) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_a[5:], barcode="TA2")
    lab = _client(world.lab_user)
    body = {
        "results": [
            {"barcode": "TA1", "result": "阳性", "tested_at": GOOD},
            {"barcode": "TA2", "result": "阴性", "tested_at": EARLY},
        ]
    }
    r = lab.post("/api/testing/results", json.dumps(body), content_type="application/json")
    assert r.status_code == 400, r.content
    payload = r.json()
    assert payload["code"] == "import_rows_invalid"
    errors = payload["detail"]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(2, "tested_before_received")]
    assert "早于转运箱接收时间 2022-07-10 07:00:00" in errors[0]["message"]
    _nothing_written()  # the good row is not half-written either

    body = {"results": [{"barcode": "TA1", "result": "阴性", "tested_at": "2099-01-01 08:00"}]}
    r = lab.post("/api/testing/results", json.dumps(body), content_type="application/json")
    assert r.status_code == 400
    assert [e["code"] for e in r.json()["detail"]["errors"]] == ["tested_at_future"]
    _nothing_written()


def test_file_import_by_api_refuses_a_result_before_the_receipt(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    data = results_csv([("TA1", "阴性", "", "", EARLY)])
    r = _client(world.lab_user).post(
        "/api/testing/results/import", {"file": SimpleUploadedFile("r.csv", data)}
    )
    body = r.json()
    assert body["state"] == "failed" and body["error_code"] == "import_rows_invalid"
    assert [(e["line"], e["code"]) for e in body["error_detail"]["errors"]] == [
        (2, "tested_before_received")
    ]
    _nothing_written()


def test_page_upload_shows_the_refusal_and_then_the_turnaround_in_hours(world: World) -> None:
    tube = received_tube(world, world.persons_a[:5], barcode="TA1")
    c = _client(world.lab_user)
    bad = results_csv([("TA1", "阴性", "", "", EARLY)])
    r = c.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("b.csv", bad)})
    assert job_of(r).state == "failed"
    page = started(c, r).content.decode()
    assert 'data-line="2"' in page and "早于转运箱接收时间" in page
    _nothing_written()
    tube.refresh_from_db()
    assert tube.state == TubeState.RECEIVED

    good = results_csv([("TA1", "阴性", "", "", "2022-07-10 12:04")])
    r = c.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("g.csv", good)})
    assert "导入完成" in started(c, r).content.decode()
    page = c.get(reverse("testing:tube_result", args=["TA1"])).content.decode()
    assert "5小时04分" in page and "（分钟）" not in page
    listing = c.get(reverse("testing:lab_results")).content.decode()
    assert "5小时04分" in listing and "304.0" not in listing


def test_duration_reads_hours_and_minutes() -> None:
    assert duration(1024.5) == "17小时04分"  # rounds half to even: 1024
    assert duration(45.4) == "45分钟"
    assert duration(60) == "1小时00分"
    assert duration(None) == "—"
