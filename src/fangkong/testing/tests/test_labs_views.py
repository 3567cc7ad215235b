"""Labs pages: packing, receiving, results import report, tube result, rechecks, holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.testing.models import BoxState, Recheck, TransportBox, Tube, TubeResult
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import results as result_services
from fangkong.testkit import testing
from fangkong.testkit.jobs import job_of, started
from fangkong.testkit.worlds.labs import World, build_world, received_tube, results_csv

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_sampler_packs_and_hands_over_on_the_page(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:5], barcode="TA1")
    testing.tube(world.round, world.point, world.persons_a[5:], barcode="TA2")
    c = _client(world.sampler)
    r = c.post(reverse("testing:box_list"), {"barcode": "BOX7", "lab": world.lab.pk})
    box = TransportBox.objects.get(barcode="BOX7")
    assert r.status_code == 302 and r.url == reverse("testing:box_detail", args=[box.pk])
    testing.tube(world.round, world.point, world.persons_a[:1], barcode="TA3")
    r = c.post(r.url, {"action": "add", "barcodes": "TA1\nTA2"}, follow=True)
    # Tubes scanned again are mentioned only when there are some.
    assert "已装箱 2 管" in r.content.decode() and "已在箱内" not in r.content.decode()
    r = c.post(r.request["PATH_INFO"], {"action": "add", "barcodes": "TA1\nTA3"}, follow=True)
    assert "已装箱 1 管，另 1 管原已在箱内" in r.content.decode()
    r = c.post(reverse("testing:box_detail", args=[box.pk]), {"action": "hand_over"}, follow=True)
    assert TransportBox.objects.get(pk=box.pk).state == BoxState.HANDED_OVER
    page = c.get(reverse("testing:box_list")).content.decode()
    assert "BOX7" in page


def test_scan_of_another_points_tube_is_a_message(world: World) -> None:
    testing.tube(world.round, world.point_b, world.persons_b[:5], barcode="TB1")
    box = box_services.box_create(actor=world.sampler, barcode="BOX7", lab=world.lab)
    c = _client(world.sampler)
    r = c.post(reverse("testing:box_detail", args=[box.pk]), {"barcodes": "TB1"}, follow=True)
    assert "试管不存在或不属于本采样点" in r.content.decode()
    assert Tube.objects.get(barcode="TB1").box_id is None
    assert (
        _client(world.sampler_b).get(reverse("testing:box_detail", args=[box.pk])).status_code
        == 404
    )


def test_packing_page_packs_the_good_tubes_and_keeps_the_bad_barcodes(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:5], barcode="TA1")
    testing.tube(world.round, world.point, world.persons_a[5:], barcode="TA2")
    box = box_services.box_create(actor=world.sampler, barcode="BOX7", lab=world.lab)
    url = reverse("testing:box_detail", args=[box.pk])
    r = _client(world.sampler).post(url, {"barcodes": "ta1\nTA-TYPO\nTA2\n"})
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-code="tube_not_found"' in page and "TA-TYPO" in page
    assert ">TA-TYPO</textarea>" in page  # kept to correct and scan again
    assert set(Tube.objects.filter(box=box).values_list("barcode", flat=True)) == {"TA1", "TA2"}
    r = _client(world.sampler).post(url, {"barcodes": "TA-TYPO"})
    assert r.status_code == 404 and ">TA-TYPO</textarea>" in r.content.decode()


def test_lab_receives_on_the_page(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:5], barcode="TA1")
    box = box_services.box_create(actor=world.sampler, barcode="BOX7", lab=world.lab)
    box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TA1"])
    box_services.box_hand_over(actor=world.sampler, box=box)
    page = _client(world.lab_user_b).get(reverse("testing:box_receive")).content.decode()
    assert "BOX7" not in page
    r = _client(world.lab_user_b).post(
        reverse("testing:box_receive"), {"barcode": "BOX7"}, follow=True
    )
    assert "转运箱不存在或不是送往本机构的" in r.content.decode()
    c = _client(world.lab_user)
    assert "BOX7" in c.get(reverse("testing:box_receive")).content.decode()
    r = c.post(reverse("testing:box_receive"), {"barcode": "BOX7"}, follow=True)
    assert "已接收转运箱 BOX7，共 1 管" in r.content.decode()
    assert Tube.objects.get(barcode="TA1").state == "received"
    assert _client(world.sampler).get(reverse("testing:box_receive")).status_code == 403


def test_results_page_reports_bad_lines_and_then_the_positive(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    c = _client(world.lab_user)
    bad = results_csv([("TAPOS", "阳性", 28, 29, T), ("NOPE", "阴性", "", "", T)])
    r = c.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("b.csv", bad)})
    assert job_of(r).state == "failed"  # 303 to the page with ?job=
    page = started(c, r).content.decode()
    assert 'data-line="3"' in page and "试管条码不存在" in page
    assert TubeResult.objects.count() == 0
    good = results_csv([("TAPOS", "阳性", 28, 29, T)])
    r = c.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("g.csv", good)})
    r = started(c, r)
    assert r.status_code == 200
    page = r.content.decode()
    assert "导入完成" in page and 'data-figure="holds"' in page
    r = c.post(reverse("testing:lab_results"), {"file": SimpleUploadedFile("g.csv", good)})
    assert "该文件已导入过，未作任何修改" in started(c, r).content.decode()
    r = c.get(reverse("testing:lab_results"), {"tube": "TAPOS"})
    assert r.status_code == 302
    page = c.get(r.url).content.decode()
    assert "阳性" in page and 'data-testid="corrections"' in page
    assert _client(world.community_a).get(reverse("testing:lab_results")).status_code == 403


def test_recheck_list_scoped_masked_and_sample_recorded(
    world: World, town_a_user: Any, town_b_user: Any
) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    data = results_csv([("TAPOS", "阳性", 28, 29, T)])
    result_services.results_import_file(actor=world.lab_user, data=data, filename="p.csv")
    c = _client(world.community_a)
    page = c.get(reverse("testing:recheck_list")).content.decode()
    assert page.count('data-testid="recheck-row"') == 10
    assert "甲0号" not in page and "甲*号" in page
    assert 'class="countdown"' in page
    assert (
        _client(town_a_user)
        .get(reverse("testing:recheck_list"))
        .content.decode()
        .count('data-testid="recheck-row"')
        == 10
    )
    for other in (world.community_b, town_b_user):
        assert (
            'data-testid="recheck-row"'
            not in _client(other).get(reverse("testing:recheck_list")).content.decode()
        )
    recheck = Recheck.objects.order_by("pk").first()
    assert recheck is not None
    r = _client(world.community_b).post(
        reverse("testing:recheck_sample", args=[recheck.pk]), {"barcode": "R1"}
    )
    assert r.status_code == 404
    r = c.post(reverse("testing:recheck_sample", args=[recheck.pk]), {"barcode": "R1"}, follow=True)
    assert "已登记复核采样" in r.content.decode()
    recheck.refresh_from_db()
    assert recheck.status == "sampled"
    holds = c.get(reverse("testing:hold_list")).content.decode()
    assert holds.count('data-testid="hold-row"') == 10
    assert (
        'data-testid="hold-row"'
        not in _client(world.community_b).get(reverse("testing:hold_list")).content.decode()
    )
    assert _client(world.sampler).get(reverse("testing:hold_list")).status_code == 403


def test_recheck_and_hold_lists_do_not_query_per_row(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    received_tube(world, world.persons_a[:3], barcode="TAPOS")
    result_services.results_import_file(
        actor=world.lab_user, data=results_csv([("TAPOS", "阳性", 28, 29, T)]), filename="1.csv"
    )
    c = _client(world.community_a)
    counts = []
    for url in (reverse("testing:recheck_list"), reverse("testing:hold_list")):
        with CaptureQueriesContext(connection) as few:
            assert c.get(url).status_code == 200
        counts.append(len(few.captured_queries))
    received_tube(world, world.persons_a[3:], barcode="TAPOS2")
    result_services.results_import_file(
        actor=world.lab_user, data=results_csv([("TAPOS2", "阳性", 28, 29, T)]), filename="2.csv"
    )
    for url, before in zip(
        (reverse("testing:recheck_list"), reverse("testing:hold_list")), counts, strict=True
    ):
        with CaptureQueriesContext(connection) as many:
            page = c.get(url).content.decode()
        assert page.count('-row"') == 10
        assert len(many.captured_queries) == before


def test_command_does_not_pack_receive_or_import_for_labs(client: Any, command_user: Any) -> None:
    # Boxes and results are the work of a point's and a lab's own staff: command has
    # neither the pages in its menu nor the right to post to them.
    client.force_login(command_user)
    for url in ("/testing/boxes/", "/testing/lab/receive/", "/testing/lab/results/"):
        assert client.get(url).status_code == 403
    response = client.post(
        "/api/testing/results",
        data={"results": [{"barcode": "T1", "result": "negative", "tested_at": "2022-07-11"}]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
