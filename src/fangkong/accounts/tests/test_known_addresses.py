"""Known addresses through the real login page, their purge by `fangkong periodic`, and
the upgrade that learns them from the `login.success` audit records."""

from __future__ import annotations

import datetime as dt
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import AuditEvent, KnownLoginAddress, LoginFailure
from fangkong.accounts.roles import Role

PW = "pw-Fangkong-2022"


@pytest.fixture
def command(tree):
    return services.user_create(
        username="command", password=PW, role=Role.COMMAND, jurisdiction=tree.city
    )


def _login(address: str, password: str = PW) -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("accounts:login"), {"username": "command", "password": password})
    return response.status_code


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10)
def test_the_login_page_lets_the_workstation_in_while_a_spread_guess_locks_new_addresses(
    command,
):
    assert _login("10.20.0.5") == 302
    for i in range(2):
        assert [_login(f"198.51.100.{i + 1}", "bad") for _ in range(5)] == [401] * 5
    assert _login("192.0.2.44") == 403
    assert _login("10.20.0.5") == 302


@override_settings(FANGKONG_LOGIN_LOCKOUT_MINUTES=15, FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS=30)
def test_periodic_purges_old_login_records(command):
    now = timezone.now()
    LoginFailure.objects.create(
        username="command", address="10.0.0.3", at=now - dt.timedelta(hours=1)
    )
    LoginFailure.objects.create(username="command", address="10.0.0.4", at=now)
    KnownLoginAddress.objects.create(
        username="command", address="10.0.0.1", last_success_at=now - dt.timedelta(days=40)
    )
    KnownLoginAddress.objects.create(username="command", address="10.0.0.2", last_success_at=now)

    out = StringIO()
    call_command("periodic", stdout=out)
    call_command("periodic", stdout=StringIO())

    assert "login_records_purge" in out.getvalue()
    assert list(LoginFailure.objects.values_list("address", flat=True)) == ["10.0.0.4"]
    assert list(KnownLoginAddress.objects.values_list("address", flat=True)) == ["10.0.0.2"]


@override_settings(FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS=30)
def test_the_upgrade_learns_known_addresses_from_recent_login_successes(command, tree):
    other = services.user_create(
        username="Alice", password=PW, role=Role.COMMAND, jurisdiction=tree.city
    )
    now = timezone.now()
    for user, ip, days in (
        (command, "10.20.0.5", 40),
        (command, "10.20.0.5", 7),
        (command, "10.20.0.5", 2),
        (command, "2001:db8:7:8::10", 3),
        (other, "10.30.0.1", 45),
        (other, "10.30.0.2", 1),
    ):
        AuditEvent.objects.create(
            actor=user,
            actor_username=user.username,
            action="login.success",
            object_type="user",
            object_id=str(user.pk),
            at=now - dt.timedelta(days=days),
            ip=ip,
        )
    migration = importlib.import_module("fangkong.accounts.migrations.0005_known_login_address")

    migration.known_from_audit(apps, None)

    known = {(k.username, k.address): k.last_success_at for k in KnownLoginAddress.objects.all()}
    assert set(known) == {
        ("command", "10.20.0.5"),
        ("command", "2001:db8:7:8::/64"),
        ("alice", "10.30.0.2"),
    }
    assert known[("command", "10.20.0.5")] == now - dt.timedelta(days=2)
