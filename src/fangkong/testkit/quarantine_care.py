"""The care of placed persons built through `fangkong.quarantine.services.care` (and
testing's real box and results services for the site tests' results).

    site_staff(site)                        -> the site's staff account (bound to its place)
    community_worker(jurisdiction)          -> a community worker of that community
    checked_in(placement)                   -> the placement checked in by its site's staff
    placed_since(site, days_ago=8, source=None) -> a close (or, `source` given, a
                                               secondary) contact placed the day after
                                               its exposure `days_ago` days ago
    sampled(test, barcode=None)             -> the test sampled at the site (a single tube)
    site_results({test: "negative"}, lab=)  -> the tests' tubes handed to `lab` in a box,
                                               received, and their results submitted by
                                               the lab (results_submit: the real import)
    home_placement(jurisdiction)            -> a person under home monitoring
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from django.utils import timezone

from .actors import PASSWORD, actor_or_admin

_serial = itertools.count(1)


def site_staff(site: Any, *, username: str | None = None) -> Any:
    """The first site_staff account bound to the site's place, else a new one."""
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create

    place = site.place
    if username is None:
        found = User.objects.filter(place=place, role=Role.SITE_STAFF).order_by("pk").first()
        if found is not None:
            return found
    return user_create(
        username=username or f"tk-site-{place.pk}-{uuid.uuid4().hex[:6]}",
        password=PASSWORD,
        role=Role.SITE_STAFF,
        jurisdiction=place.jurisdiction,
        place=place,
    )


def community_worker(jurisdiction: Any, *, username: str | None = None) -> Any:
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import user_create

    return user_create(
        username=username or f"tk-cw-{uuid.uuid4().hex[:8]}",
        password=PASSWORD,
        role=Role.COMMUNITY_WORKER,
        jurisdiction=jurisdiction,
    )


def checked_in(placement: Any) -> Any:
    from fangkong.quarantine.services.care import placement_check_in

    return placement_check_in(actor=site_staff(placement.site), placement=placement)


def placed_since(
    site: Any,
    *,
    days_ago: int = 8,
    jurisdiction: Any = None,
    classification: str = "close",
    source: Any = None,
    actor: Any = None,
) -> Any:
    """A contact last exposed `days_ago` days ago and placed at `site` the day after
    (its first free room), so its scheduled tests from then on are due by today. A
    close contact of a new case, or (`source`: a close contact's placement) a secondary
    contact of that close contact."""
    from fangkong.quarantine.services.placements import placement_create

    from .people import person
    from .quarantine import close_contact, free_room
    from .tracing import contact

    exposed_on = timezone.localdate() - dt.timedelta(days=days_ago)
    where = jurisdiction or site.place.jurisdiction
    if source is None:
        found = close_contact(
            where, classification=classification, exposed_on=exposed_on, actor=actor
        )
    else:
        found = contact(
            person(where, f"次密接{next(_serial)}"),
            source_contact=source.contact,
            classification="secondary",
            exposed_on=exposed_on,
            actor=actor,
        )
    return placement_create(
        actor=actor_or_admin(actor),
        person=found.person,
        contact=found,
        measure="centralised",
        site=site,
        room=free_room(site),
        start_on=exposed_on + dt.timedelta(days=1),
    )


def sampled(test: Any, *, barcode: str | None = None) -> Any:
    from fangkong.quarantine.services.care import placement_test_sample

    test.refresh_from_db()
    staff = site_staff(test.placement.site)
    return placement_test_sample(
        actor=staff, test=test, barcode=barcode or f"GLT{next(_serial):08d}"
    )


def site_results(values: dict[Any, str], *, lab: Any, tested_at: dt.datetime | None = None) -> Any:
    """Each test sampled at its site if not yet, the site's tubes handed to `lab` in one
    box per site (`site_tubes_dispatch`), the box received by the lab (`box_receive`) and
    the results submitted by the lab through `results_submit`. Returns the report."""
    from fangkong.quarantine.services.care import site_tubes_dispatch
    from fangkong.testing.services import boxes
    from fangkong.testing.services import results as result_services

    from .testing import lab_user

    tests = []
    for test in values:
        test.refresh_from_db()
        if test.tube_id is None:
            test = sampled(test)
        tests.append(test)
    sites = {t.placement.site_id: t.placement.site for t in tests}
    boxed = []
    for site in sites.values():
        staff = site_staff(site)
        from fangkong.testing.models import Tube

        if Tube.objects.filter(point__place=site.place, state="closed", box=None).exists():
            boxed.append(
                site_tubes_dispatch(actor=staff, lab=lab, box_barcode=f"GLB{next(_serial):08d}")
            )
    for box in boxed:
        boxes.box_receive(actor=lab_user(lab), box=box)
    when = tested_at or timezone.now()
    rows = [
        {"barcode": t.tube.barcode, "result": value, "tested_at": when}
        for t, value in zip(tests, values.values(), strict=True)
    ]
    report = result_services.results_submit(actor=lab_user(lab), results=rows)
    if report.errors:
        raise AssertionError(f"the kit's results were refused: {report.errors}")
    return report


def home_placement(
    jurisdiction: Any,
    *,
    name: str | None = None,
    start_on: dt.date | None = None,
    actor: Any = None,
) -> Any:
    """A person of `jurisdiction` placed under home health monitoring."""
    from fangkong.quarantine.services.placements import placement_create

    from .people import person

    who = person(jurisdiction, name or f"居家{next(_serial)}")
    return placement_create(
        actor=actor_or_admin(actor),
        person=who,
        measure="monitoring",
        source="arrival",
        start_on=start_on,
    )


def placed_bulk(
    site: Any, count: int, *, days_ago: int = 14, status: str = "active", with_test: bool = True
) -> list[Any]:
    """`count` persons placed at `site` in a few bulk inserts (no service call per
    person, no room): a demo-sized site for page size and query count tests. Started
    `days_ago` days ago, their quarantine ending today (release due), each with a
    scheduled test due today when `with_test`. Returns the Placement rows."""
    from fangkong.protocol import selectors as protocol_selectors
    from fangkong.quarantine.models import Placement, PlacementTest

    from .people import persons_bulk

    where = site.place.jurisdiction
    today = timezone.localdate()
    start = today - dt.timedelta(days=days_ago)
    ruleset = protocol_selectors.ruleset_for(on_date=start, path=where.path)
    ids = persons_bulk(where, count, name="隔离人员")
    arrived = timezone.now() - dt.timedelta(days=days_ago)
    rows = [
        Placement(
            person_id=pid,
            jurisdiction_path=where.path,
            source="other",
            classification="close",
            measure="centralised",
            status=status,
            site=site,
            ruleset=ruleset,
            start_on=start,
            quarantine_end_on=today,
            monitoring_end_on=today + dt.timedelta(days=7),
            checked_in_at=arrived if status == "active" else None,
            created_by=actor_or_admin(None),
        )
        for pid in ids
    ]
    Placement.objects.bulk_create(rows, batch_size=500)
    if with_test:
        PlacementTest.objects.bulk_create(
            [PlacementTest(placement=p, kind="scheduled", due_on=today) for p in rows],
            batch_size=500,
        )
    return rows
