"""Closed-loop staff: shifts, their own tests, who may record them, and the roster's flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.quarantine.models import StaffShift, StaffTest
from fangkong.quarantine.rules.inspections import staff_standing
from fangkong.quarantine.selectors import inspections as selectors
from fangkong.quarantine.services import staff as services
from fangkong.testkit import quarantine_inspections as kit

D = dt.date(2022, 7, 10)


@pytest.mark.parametrize(
    ("today", "last", "result", "flags"),
    [
        (D, None, None, ()),  # first day, no test yet: fine
        (D + dt.timedelta(days=1), None, None, ("test_overdue",)),
        (D + dt.timedelta(days=3), D + dt.timedelta(days=1), "negative", ()),
        (D + dt.timedelta(days=4), D + dt.timedelta(days=1), "negative", ("test_overdue",)),
        (D + dt.timedelta(days=15), D + dt.timedelta(days=13), "negative", ("loop_ended",)),
        (D + dt.timedelta(days=2), D + dt.timedelta(days=2), "positive", ("positive",)),
        (D - dt.timedelta(days=1), None, None, ()),
    ],
)
def test_staff_standing(today: dt.date, last: Any, result: Any, flags: tuple[str, ...]) -> None:
    standing = staff_standing(
        today=today,
        starts_on=D,
        ends_on=D + dt.timedelta(days=14),
        last_test_on=last,
        last_result=result,
    )
    assert standing.flags == flags
    assert standing.flagged == bool(flags)


@pytest.fixture
def sites(tree: Any, db: None) -> Any:
    return {"a": kit.site(tree.community_a), "b": kit.site(tree.community_b)}


@pytest.mark.django_db
def test_shift_and_tests(sites: Any, command_user: Any) -> None:
    site = sites["a"]
    today = timezone.localdate()
    shift = kit.shift(
        site,
        name="王医生",
        post="doctor",
        starts_on=today - dt.timedelta(days=5),
        actor=command_user,
    )
    staff = kit.site_staff(site)
    services.staff_test_record(
        actor=staff, shift=shift, tested_on=today - dt.timedelta(days=4), result="negative"
    )
    row = selectors.staff_shifts(user=staff).get()
    assert row.last_test_on == today - dt.timedelta(days=4)
    assert staff_standing(
        today=today,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        last_test_on=row.last_test_on,
        last_result=row.last_result,
    ).flags == ("test_overdue",)
    # Same day again corrects, never duplicates.
    services.staff_test_record(actor=command_user, shift=shift, tested_on=today, result="pending")
    services.staff_test_record(actor=staff, shift=shift, tested_on=today, result="negative")
    assert StaffTest.objects.filter(shift=shift).count() == 2
    row = selectors.staff_shifts(user=command_user).get()
    assert (row.last_test_on, row.last_result) == (today, "negative")
    assert AuditEvent.objects.filter(action="staff_test.record").count() == 3
    assert AuditEvent.objects.filter(action="staff_shift.create").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": " "}, "name_required"),
        ({"post": "chef"}, "post_invalid"),
        ({"ends_on": dt.date(2022, 7, 1)}, "shift_dates_invalid"),
        ({"ends_on": dt.date(2022, 12, 1)}, "shift_too_long"),
    ],
)
def test_bad_shifts_refused(sites: Any, command_user: Any, kwargs: Any, code: str) -> None:
    base = {
        "name": "王医生",
        "post": "doctor",
        "starts_on": dt.date(2022, 7, 5),
        "ends_on": dt.date(2022, 7, 19),
    }
    with pytest.raises(InvalidInput) as exc:
        services.staff_shift_create(actor=command_user, site=sites["a"], **{**base, **kwargs})
    assert exc.value.code == code
    assert StaffShift.objects.count() == 0


@pytest.mark.django_db
def test_shift_user_must_be_site_staff_of_the_site(sites: Any, command_user: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        kit.shift(sites["a"], user=kit.site_staff(sites["b"]), actor=command_user)
    assert exc.value.code == "user_not_site_staff"


@pytest.mark.django_db
def test_who_may_record(sites: Any, command_user: Any, town_a_user: Any) -> None:
    today = timezone.localdate()
    shift = kit.shift(sites["a"], actor=command_user)
    with pytest.raises(PermissionDenied):
        kit.shift(sites["a"], actor=town_a_user)
    with pytest.raises(PermissionDenied):
        services.staff_test_record(
            actor=town_a_user, shift=shift, tested_on=today, result="negative"
        )
    with pytest.raises(NotFound):
        services.staff_test_record(
            actor=kit.site_staff(sites["b"]), shift=shift, tested_on=today, result="negative"
        )
    with pytest.raises(InvalidInput) as exc:
        services.staff_test_record(
            actor=command_user,
            shift=shift,
            tested_on=today + dt.timedelta(days=1),
            result="negative",
        )
    assert exc.value.code == "tested_on_future"
    with pytest.raises(InvalidInput) as bad:
        services.staff_test_record(actor=command_user, shift=shift, tested_on=today, result="x")
    assert bad.value.code == "result_invalid"
    assert StaffTest.objects.count() == 0


@pytest.mark.django_db
def test_roster_scoping(sites: Any, command_user: Any, town_a_user: Any, town_b_user: Any) -> None:
    a = kit.shift(sites["a"], actor=command_user)
    b = kit.shift(sites["b"], actor=command_user)

    def seen(user: Any) -> set[int]:
        return set(selectors.staff_shifts(user=user).values_list("pk", flat=True))

    assert seen(command_user) == {a.pk, b.pk}
    assert seen(town_a_user) == {a.pk}
    assert seen(town_b_user) == {b.pk}
    assert seen(kit.site_staff(sites["b"])) == {b.pk}
    with pytest.raises(NotFound):
        selectors.staff_shift_get(user=kit.site_staff(sites["a"]), pk=b.pk)
