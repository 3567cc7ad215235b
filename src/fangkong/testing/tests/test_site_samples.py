"""Tests taken at a quarantine site: single closed tubes in the city's standing round of
purpose quarantine, at the site's own point; kept out of mass-testing lists; handed to a
lab in a box; their results stored by the normal import, told to the apps above by a
signal, and a positive one holds no pool."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Conflict, NotFound, PermissionDenied
from fangkong.testing.models import Hold, Round, RoundPurpose, SamplingPoint
from fangkong.testing.selectors import points as point_selectors
from fangkong.testing.selectors import rounds as round_selectors
from fangkong.testing.services import boxes, results
from fangkong.testing.services.site_samples import site_sample_record, site_tubes_hand_over
from fangkong.testing.signals import tube_results_stored
from fangkong.testkit import people
from fangkong.testkit import testing as tkit
from fangkong.testkit.areas import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_place(tree):
    return place(tree.community_a, "quarantine_site", "隔离酒店")


@pytest.fixture
def staff(site_place):
    from fangkong.accounts.services import user_create
    from fangkong.testkit.actors import PASSWORD

    return user_create(
        username="site-staff-t",
        password=PASSWORD,
        role="site_staff",
        jurisdiction=site_place.jurisdiction,
        place=site_place,
    )


def test_a_site_sample_is_a_closed_single_tube_in_the_standing_round(tree, site_place, staff):
    person = people.person(tree.community_a, "隔离甲")
    tube = site_sample_record(actor=staff, site_place=site_place, person=person, barcode=" gl1 ")
    assert tube.barcode == "GL1" and tube.pool_size == 1 and tube.state == "closed"
    assert tube.round.purpose == RoundPurpose.QUARANTINE and tube.round.status == "closed"
    again = site_sample_record(actor=staff, site_place=site_place, person=person, barcode="GL2")
    assert again.round_id == tube.round_id and again.point_id == tube.point_id
    assert Round.objects.filter(purpose=RoundPurpose.QUARANTINE).count() == 1
    with pytest.raises(Conflict) as err:
        site_sample_record(actor=staff, site_place=site_place, person=person, barcode="gl1")
    assert err.value.code == "tube_barcode_taken"


def test_only_the_sites_own_staff(tree, site_place, staff, make_user):
    person = people.person(tree.community_a, "隔离乙")
    other = place(tree.community_a, "quarantine_site", "另一隔离点")
    with pytest.raises(NotFound):
        site_sample_record(actor=staff, site_place=other, person=person, barcode="GL9")
    with pytest.raises(PermissionDenied):
        site_sample_record(
            actor=make_user("sampler", tree.community_a),
            site_place=site_place,
            person=person,
            barcode="GL9",
        )


def test_kept_out_of_mass_testing_lists(tree, site_place, staff, make_user):
    person = people.person(tree.community_a, "隔离丙")
    site_sample_record(actor=staff, site_place=site_place, person=person, barcode="GL3")
    command = make_user("command", tree.city)
    assert not round_selectors.rounds(user=command).filter(purpose="quarantine").exists()
    site_point = SamplingPoint.objects.get(place=site_place)
    assert site_point.pk not in {p.pk for p in point_selectors.points(user=command)}


def test_results_arrive_by_the_import_and_a_positive_holds_no_pool(tree, site_place, staff):
    lab = tkit.lab(tree.city)
    a = people.person(tree.community_a, "隔离丁")
    b = people.person(tree.community_a, "隔离戊")
    ta = site_sample_record(actor=staff, site_place=site_place, person=a, barcode="GL4")
    tb = site_sample_record(actor=staff, site_place=site_place, person=b, barcode="GL5")
    box = site_tubes_hand_over(actor=staff, site_place=site_place, lab=lab, box_barcode="GLB1")
    assert box.state == "handed_over" and set(box.tubes.values_list("pk", flat=True)) == {
        ta.pk,
        tb.pk,
    }
    received = boxes.box_receive(actor=tkit.lab_user(lab), box=box)
    told: list[dict[int, str]] = []

    def listen(sender, *, outcomes, **kwargs):
        told.append(dict(outcomes))

    tube_results_stored.connect(listen, dispatch_uid="test-site-samples")
    try:
        report = results.results_submit(
            actor=tkit.lab_user(lab),
            results=[
                {"barcode": "GL4", "result": "positive", "tested_at": received.received_at},
                {"barcode": "GL5", "result": "negative", "tested_at": received.received_at},
            ],
        )
    finally:
        tube_results_stored.disconnect(dispatch_uid="test-site-samples")
    assert not report.errors
    assert told == [{ta.pk: "positive", tb.pk: "negative"}]
    assert report.holds == 0 and not Hold.objects.exists()
