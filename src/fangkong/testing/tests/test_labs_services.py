"""Labs services: boxes, results import (idempotent, all-or-nothing, audited
corrections), positive pools → holds and rechecks, rechecks → release or a case."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.models import AuditEvent
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.testing.models import (
    BoxState,
    Hold,
    HoldState,
    Recheck,
    RecheckStatus,
    ResultImport,
    TransportBox,
    Tube,
    TubeResult,
    TubeResultCorrection,
    TubeState,
)
from fangkong.testing.services import boxes as box_services
from fangkong.testing.services import rechecks as recheck_services
from fangkong.testing.services import results as result_services
from fangkong.testkit import testing
from fangkong.testkit.clock import at
from fangkong.testkit.worlds.labs import (
    World,
    build_world,
    received_tube,
    results_csv,
    results_xlsx,
)
from fangkong.tracing.models import Case

pytestmark = pytest.mark.django_db

T = "2022-07-10 14:00"


@pytest.fixture
def world(tree: Any, make_user: Any) -> World:
    return build_world(tree, make_user)


# --- boxes ------------------------------------------------------------------------------


def test_box_flow_packs_hands_over_and_receives(world: World) -> None:
    t1 = testing.tube(world.round, world.point, world.persons_a[:5], barcode="TA1")
    t2 = testing.tube(world.round, world.point, world.persons_a[5:], barcode="TA2")
    box = box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    report = box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TA1", "TA2"])
    assert report.added == ["TA1", "TA2"]
    again = box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TA1"])
    assert again.unchanged == ["TA1"] and again.added == []
    assert set(Tube.objects.filter(box=box).values_list("state", flat=True)) == {"packed"}
    box_services.box_hand_over(actor=world.sampler, box=box)
    received = box_services.box_receive(actor=world.lab_user, box=box)
    assert received.state == BoxState.RECEIVED and received.received_by == world.lab_user
    assert received.received_at is not None and received.handed_over_at is not None
    for t in (t1, t2):
        t.refresh_from_db()
        assert t.state == TubeState.RECEIVED
    actions = set(
        AuditEvent.objects.filter(object_type="transport_box").values_list("action", flat=True)
    )
    assert actions == {"box.create", "box.pack", "box.hand_over", "box.receive"}


def test_box_barcode_unique(world: World) -> None:
    box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    with pytest.raises(Conflict) as exc:
        box_services.box_create(actor=world.sampler_b, barcode="BOX1", lab=world.lab)
    assert exc.value.code == "box_barcode_taken"


def test_box_packs_the_good_tubes_and_lists_each_rejected_barcode(world: World) -> None:
    # Barcodes as a phone stores them (upper case).
    testing.tube(world.round, world.point_b, world.persons_b[:3], barcode="TB1")
    testing.tube(world.round, world.point, world.persons_a[:3], barcode="TA-OPEN", closed=False)
    testing.tube(world.round, world.point, world.persons_a[3:6], barcode="TA-OK")
    testing.tube(world.round, world.point, world.persons_a[6:9], barcode="TA-OK2")
    other = box_services.box_create(actor=world.sampler, barcode=" box0 ", lab=world.lab)
    assert other.barcode == "BOX0"  # trimmed and upper-cased like a tube's
    box_services.box_add_tubes(actor=world.sampler, box=other, barcodes=["TA-OK2"])
    box = box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    report = box_services.box_add_tubes(
        actor=world.sampler,
        box=box,
        barcodes=[" ta-ok ", "TB1", "TA-OPEN", "NOPE", "TA-OK2"],
    )
    assert report.added == ["TA-OK"]
    assert [(r.barcode, r.code) for r in report.rejected] == [
        ("TB1", "tube_not_found"),
        ("TA-OPEN", "tube_not_closed"),
        ("NOPE", "tube_not_found"),
        ("TA-OK2", "tube_in_other_box"),
    ]
    assert Tube.objects.get(barcode="TA-OK").box_id == box.pk
    assert Tube.objects.get(barcode="TA-OPEN").box_id is None
    assert Tube.objects.get(barcode="TA-OK2").box_id == other.pk
    pack = AuditEvent.objects.get(action="box.pack", object_id=box.pk)
    assert pack.detail["rejected"] == ["TB1", "TA-OPEN", "NOPE", "TA-OK2"]


def test_box_refuses_a_scan_of_only_bad_barcodes_and_writes_nothing(world: World) -> None:
    testing.tube(world.round, world.point_b, world.persons_b[:3], barcode="TB1")
    testing.tube(world.round, world.point, world.persons_a[:3], barcode="TA-OPEN", closed=False)
    box = box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    with pytest.raises(NotFound) as exc:
        box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TB1", "TA-OPEN"])
    assert exc.value.code == "tube_not_found" and exc.value.detail["barcode"] == "TB1"
    assert [r["code"] for r in exc.value.detail["rejected"]] == [
        "tube_not_found",
        "tube_not_closed",
    ]
    with pytest.raises(Conflict) as exc2:
        box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TA-OPEN"])
    assert exc2.value.code == "tube_not_closed"
    assert not Tube.objects.filter(box=box).exists()
    assert not AuditEvent.objects.filter(action="box.pack").exists()


def test_sampler_of_another_point_cannot_touch_the_box(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:3], barcode="TA1")
    box = box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    with pytest.raises(NotFound):
        box_services.box_add_tubes(actor=world.sampler_b, box=box, barcodes=["TA1"])
    with pytest.raises(NotFound):
        box_services.box_hand_over(actor=world.sampler_b, box=box)
    with pytest.raises(PermissionDenied):  # wrong role
        box_services.box_create(actor=world.lab_user, barcode="BOX2", lab=world.lab)


def test_other_lab_cannot_receive_and_box_must_be_handed_over(world: World) -> None:
    testing.tube(world.round, world.point, world.persons_a[:3], barcode="TA1")
    box = box_services.box_create(actor=world.sampler, barcode="BOX1", lab=world.lab)
    box_services.box_add_tubes(actor=world.sampler, box=box, barcodes=["TA1"])
    with pytest.raises(Conflict) as exc:
        box_services.box_receive(actor=world.lab_user, box=box)
    assert exc.value.code == "box_not_handed_over"
    box_services.box_hand_over(actor=world.sampler, box=box)
    with pytest.raises(NotFound):
        box_services.box_receive(actor=world.lab_user_b, box=box)
    with pytest.raises(PermissionDenied):
        box_services.box_receive(actor=world.sampler, box=box)
    assert TransportBox.objects.get(pk=box.pk).state == BoxState.HANDED_OVER
    box_services.box_receive(actor=world.lab_user, box=box)
    with pytest.raises(Conflict) as exc2:
        box_services.box_receive(actor=world.lab_user, box=box)
    assert exc2.value.code == "box_already_received"


# --- results import ----------------------------------------------------------------------


def _negative_world(world: World) -> bytes:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_a[5:], barcode="TA2")
    return results_csv([("TA1", "阴性", "", "", T), ("TA2", "negative", "", "", T)])


def test_import_is_idempotent_same_file_twice(world: World) -> None:
    data = _negative_world(world)
    first = result_services.results_import_file(actor=world.lab_user, data=data, filename="r.csv")
    assert first.ok and first.applied == 2 and not first.duplicate
    second = result_services.results_import_file(actor=world.lab_user, data=data, filename="r.csv")
    assert second.duplicate and second.applied == 0 and second.import_id == first.import_id
    assert TubeResult.objects.count() == 2
    assert ResultImport.objects.count() == 1
    assert set(Tube.objects.values_list("state", flat=True)) == {TubeState.RESULTED}


def test_same_rows_in_another_file_are_unchanged(world: World) -> None:
    data = _negative_world(world)
    result_services.results_import_file(actor=world.lab_user, data=data, filename="r.csv")
    other = data + b"\n"  # another file (another hash), same rows
    report = result_services.results_import_file(
        actor=world.lab_user, data=other, filename="r2.csv"
    )
    assert not report.duplicate and report.unchanged == 2 and report.applied == 0
    assert report.corrected == 0 and TubeResultCorrection.objects.count() == 0


def test_changed_result_is_an_audited_correction(world: World) -> None:
    data = _negative_world(world)
    result_services.results_import_file(actor=world.lab_user, data=data, filename="r.csv")
    fix = results_csv([("TA1", "无效", "", "", "2022-07-10 15:00")])
    report = result_services.results_import_file(actor=world.lab_user, data=fix, filename="fix.csv")
    assert report.corrected == 1 and report.applied == 0
    result = TubeResult.objects.get(tube__barcode="TA1")
    assert result.result == "invalid" and result.revision == 2
    correction = TubeResultCorrection.objects.get(tube_result=result)
    assert (correction.old_result, correction.new_result) == ("negative", "invalid")
    assert correction.actor == world.lab_user
    event = AuditEvent.objects.get(action="result.correct")
    assert event.object_id == str(result.pk) and event.detail["old"] == "negative"


def test_bad_rows_reported_by_line_and_nothing_applied(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    received_tube(world, world.persons_b[:5], barcode="TB1", lab=world.lab_b, point=world.point_b)
    testing.tube(world.round, world.point, world.persons_a[5:], barcode="TA-notrec")
    data = results_csv(
        [
            ("TA1", "阴性", "", "", T),  # line 2: good
            ("NOPE", "阴性", "", "", T),  # 3: unknown tube (the same answer as 4 and 5)
            ("TB1", "阴性", "", "", T),  # 4: received by another lab
            ("TA-notrec", "阴性", "", "", T),  # 5: not received
            ("TA1", "阳性", 25, 26, T),  # 6: duplicate in the file
            ("TA1", "maybe", "", "", T),  # 7: bad word
            ("TA1", "阴性", "", "", "yesterday"),  # 8: bad time
            ("TA1", "阳性", "abc", "", T),  # 9: bad Ct
        ]
    )
    report = result_services.results_import_file(
        actor=world.lab_user, data=data, filename="bad.csv"
    )
    got = [(e.line, e.code) for e in report.errors]
    assert got == [
        (3, "tube_not_received"),
        (4, "tube_not_received"),
        (5, "tube_not_received"),
        (6, "row_duplicate"),
        (7, "result_invalid"),
        (8, "tested_at_invalid"),
        (9, "ct_invalid"),
    ]
    # An unknown barcode and another lab's tube cannot be told apart by the lab.
    assert report.errors[0].message == report.errors[1].message == report.errors[2].message
    assert TubeResult.objects.count() == 0 and ResultImport.objects.count() == 0
    assert Tube.objects.get(barcode="TA1").state == TubeState.RECEIVED


def test_excel_file_is_read_with_english_words(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    data = results_xlsx(
        [("TA1", "Negative", None, None, "2022-07-10 14:00")],
        header=["tube_barcode", "result", "ct_orf1ab", "ct_n", "tested_at"],
    )
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="r.xlsx")
    assert report.ok and report.applied == 1
    assert TubeResult.objects.get().result == "negative"


def test_missing_header_is_refused(world: World) -> None:
    with pytest.raises(DomainError) as exc:
        result_services.results_import_file(
            actor=world.lab_user, data=b"a,b\n1,2\n", filename="x.csv"
        )
    assert exc.value.code == "import_header_missing"


def test_import_needs_a_lab_user(world: World) -> None:
    data = _negative_world(world)
    with pytest.raises(PermissionDenied):
        result_services.results_import_file(actor=world.sampler, data=data)
    with pytest.raises(PermissionDenied):
        result_services.results_import_file(actor=world.community_a, data=data)
    assert TubeResult.objects.count() == 0


# --- positive pools ---------------------------------------------------------------------------


def _positive_pool(world: World) -> Tube:
    tube = received_tube(world, world.persons_a, barcode="TAPOS")
    received_tube(world, world.persons_b, barcode="TBNEG")
    data = results_csv([("TAPOS", "阳性", 28.5, 30.1, T), ("TBNEG", "阴性", "", "", T)])
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="p.csv")
    assert report.ok and report.positives == 1
    assert report.holds == 10 and report.rechecks == 10
    return tube


def test_positive_pool_holds_every_member_with_one_recheck_each(world: World) -> None:
    tube = _positive_pool(world)
    held = set(
        Hold.objects.filter(tube=tube, state=HoldState.HELD).values_list("person_id", flat=True)
    )
    assert held == {p.pk for p in world.persons_a}
    rechecks = list(Recheck.objects.filter(source_tube=tube))
    assert len(rechecks) == 10
    assert {r.person_id for r in rechecks} == held
    for r in rechecks:
        assert r.status == RecheckStatus.PENDING
        assert r.jurisdiction_path == world.tree.community_a.path
        hours = (r.due_at - r.created_at).total_seconds() / 3600
        assert hours == world.round.ruleset.recheck_hours
    assert not Hold.objects.filter(person__in=world.persons_b).exists()


def test_positive_pool_is_set_based(world: World) -> None:
    received_tube(world, world.persons_a, barcode="TAPOS")
    received_tube(world, world.persons_b, barcode="TBPOS")
    data = results_csv([("TAPOS", "阳性", 28, 30, T), ("TBPOS", "阳性", 27, 29, T)])
    with CaptureQueriesContext(connection) as ctx:
        report = result_services.results_import_file(
            actor=world.lab_user, data=data, filename="p.csv"
        )
    assert report.holds == 20
    # a bounded number of statements, not one per person
    assert len(ctx.captured_queries) < 40


def test_reimporting_a_positive_pool_creates_no_more_holds(world: World) -> None:
    _positive_pool(world)
    data = results_csv([("TAPOS", "阳性", 28.5, 30.1, T), ("TBNEG", "阴性", "", "", T)])
    again = result_services.results_import_file(
        actor=world.lab_user, data=data + b"\n", filename="p2.csv"
    )
    assert again.unchanged == 2 and again.holds == 0
    assert Hold.objects.count() == 10 and Recheck.objects.count() == 10


def test_recheck_negative_releases_the_hold(world: World) -> None:
    tube = _positive_pool(world)
    recheck = Recheck.objects.filter(source_tube=tube).order_by("pk").first()
    assert recheck is not None
    recheck_services.recheck_record_sample(
        actor=world.community_a, recheck=recheck, barcode="RC0001", sampled_at=at(10, 9)
    )
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.SAMPLED and recheck.recheck_tube is not None
    box = TransportBox.objects.get(barcode="RC-RC0001")
    assert box.lab == world.lab and box.state == BoxState.HANDED_OVER
    box_services.box_receive(actor=world.lab_user, box=box, at=at(10, 10))
    data = results_csv([("RC0001", "阴性", "", "", T)])
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="rc.csv")
    assert report.rechecks_resolved == 1 and report.holds == 0
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.NEGATIVE
    hold = Hold.objects.get(pk=recheck.hold_id)
    assert hold.state == HoldState.RELEASED and hold.released_at is not None
    assert Hold.objects.filter(state=HoldState.HELD).count() == 9


def test_recheck_positive_makes_a_case_in_tracing(world: World) -> None:
    tube = _positive_pool(world)
    recheck = Recheck.objects.filter(source_tube=tube).order_by("pk").first()
    assert recheck is not None
    recheck_services.recheck_record_sample(
        actor=world.community_a, recheck=recheck, barcode="RC0002", sampled_at=at(10, 9)
    )
    box_services.box_receive(
        actor=world.lab_user, box=TransportBox.objects.get(barcode="RC-RC0002"), at=at(10, 10)
    )
    data = results_csv([("RC0002", "阳性", 24, 25, T)])
    report = result_services.results_import_file(actor=world.lab_user, data=data, filename="rc.csv")
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.POSITIVE
    case = Case.objects.get(person_id=recheck.person_id)
    assert recheck.case == case and report.cases == [case.pk]
    assert case.created_by is not None and case.created_by.username == "system-330483"
    assert not case.created_by.has_usable_password()
    assert AuditEvent.objects.filter(action="case.create", object_id=str(case.pk)).exists()
    # a recheck tube does not hold its own "pool" again
    assert Hold.objects.count() == 10


def test_recheck_sample_scoped_to_the_community(world: World) -> None:
    tube = _positive_pool(world)
    recheck = Recheck.objects.filter(source_tube=tube).first()
    assert recheck is not None
    with pytest.raises(NotFound):
        recheck_services.recheck_record_sample(
            actor=world.community_b, recheck=recheck, barcode="X1"
        )
    with pytest.raises(PermissionDenied):
        recheck_services.recheck_record_sample(actor=world.lab_user, recheck=recheck, barcode="X1")
    recheck_services.recheck_record_sample(actor=world.community_a, recheck=recheck, barcode="X1")
    with pytest.raises(Conflict) as exc:
        recheck_services.recheck_record_sample(
            actor=world.community_a, recheck=recheck, barcode="X2"
        )
    assert exc.value.code == "recheck_not_pending"


def test_results_by_api_batch_idempotent(world: World) -> None:
    received_tube(world, world.persons_a[:5], barcode="TA1")
    batch = [{"barcode": "TA1", "result": "阴性", "tested_at": T}]
    first = result_services.results_submit(actor=world.lab_user, results=batch)
    second = result_services.results_submit(actor=world.lab_user, results=batch)
    assert first.applied == 1 and second.duplicate
    assert TubeResult.objects.count() == 1


def test_overdue_rechecks_escalate_once_and_show_as_overdue(
    world: World, command_user: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from fangkong.testing.selectors import labs as selectors

    tube = _positive_pool(world)
    later = timezone.now() + dt.timedelta(hours=7)  # v9: recheck within 6 h
    first = recheck_services.rechecks_escalate_overdue(now=later)
    assert len(first) == 10
    assert recheck_services.rechecks_escalate_overdue(now=later) == []
    assert AuditEvent.objects.filter(action="recheck.escalate").count() == 10
    assert all(r.escalated_at == later for r in Recheck.objects.filter(source_tube=tube))
    # command sees them city-wide; a community of another town sees none
    assert len(selectors.rechecks(user=command_user).items) == 10
    assert selectors.rechecks(user=world.community_b).items == []
