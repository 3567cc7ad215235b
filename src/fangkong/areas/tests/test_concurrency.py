"""Zone services under concurrent requests: the row lock serialises them (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from fangkong.areas.models import Zone, ZoneTransition
from fangkong.areas.services import zones as zone_services
from fangkong.areas.tests.conftest import day
from fangkong.core.errors import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(n, fn):
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_close_day_counts_the_day_once(make_zone):
    zone = make_zone()
    errors = run_concurrently(6, lambda: zone_services.zone_close_day(zone=zone.pk, day=day(1)))
    assert errors == []
    zone.refresh_from_db()
    assert zone.no_case_days == 1
    assert ZoneTransition.objects.filter(zone=zone, action="close_day").count() == 1


def test_concurrent_downgrades_step_down_once(make_zone, manager):
    zone = make_zone()
    for n in range(1, 8):
        zone_services.zone_close_day(zone=zone, day=day(n))
    zone_services.zone_record_screening(actor=manager, zone=zone, on_date=day(7), all_negative=True)

    def downgrade():
        zone_services.zone_downgrade(actor=manager, zone=zone.pk, on_date=day(7), reason="满7天")

    errors = run_concurrently(4, downgrade)
    # One succeeds; the others find a controlled zone with a fresh counter and are refused.
    assert len(errors) == 3
    assert all(isinstance(e, DomainError) for e in errors)
    assert {e.code for e in errors} == {"zone_downgrade_not_eligible"}
    zone = Zone.objects.get(pk=zone.pk)
    assert zone.level == "controlled"
    assert ZoneTransition.objects.filter(zone=zone, action="downgrade").count() == 1
