"""`fangkong periodic` runs every periodic job once (immediate backend in tests)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from fangkong.testkit import people, tracing
from fangkong.tracing.models import Case

pytestmark = pytest.mark.django_db


def test_periodic_escalates_an_overdue_case_once(tree: Any, command_user: Any):
    person = people.person(tree.community_a, name="孙小红", actor=command_user)
    case = tracing.reported_case(
        person, actor=command_user, reported_at=timezone.now() - dt.timedelta(hours=30)
    )

    out = StringIO()
    call_command("periodic", stdout=out)
    first = Case.objects.get(pk=case.pk).escalated_at
    call_command("periodic", stdout=StringIO())

    assert "cases_escalate_overdue" in out.getvalue()
    assert "zones_close_day" in out.getvalue()
    assert "rechecks_escalate_overdue" in out.getvalue()
    assert first is not None
    assert Case.objects.get(pk=case.pk).escalated_at == first
