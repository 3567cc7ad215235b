"""Concurrent escalations and completions (PostgreSQL): an overdue rectification escalates
exactly once however many periodic runs overlap, and completes once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.core.errors import Conflict
from fangkong.quarantine.choices import RectificationStatus
from fangkong.quarantine.models import Rectification
from fangkong.quarantine.services import inspections as services
from fangkong.testkit import quarantine_inspections as kit
from fangkong.testkit.concurrency import race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_periodic_runs_escalate_once(tree: Any, command_user: Any) -> None:
    site = kit.site(tree.community_a)
    past = timezone.now() - dt.timedelta(days=3)
    kit.inspection(
        site, failed={"B01": "共用卫生间", "E02": "医废未封扎"}, now=past, actor=command_user
    )

    results, errors = race(*(services.rectifications_escalate for _ in range(4)))

    assert errors == []
    assert sorted(results) == [0, 0, 0, 2]
    assert AuditEvent.objects.filter(action="rectification.escalate").count() == 2
    assert not Rectification.objects.filter(escalated_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_completions_one_wins(tree: Any, command_user: Any) -> None:
    site = kit.site(tree.community_a)
    kit.inspection(site, failed={"C01": "门磁损坏"}, actor=command_user)
    staff = kit.site_staff(site)

    def complete() -> Any:
        rect = Rectification.objects.select_related("site").get()
        return services.rectification_complete(actor=staff, rectification=rect, note="已更换")

    results, errors = race(complete, complete)

    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    assert errors[0].code == "rectification_done"
    assert Rectification.objects.get().status == RectificationStatus.DONE
    assert AuditEvent.objects.filter(action="rectification.complete").count() == 1
