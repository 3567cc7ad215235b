"""User creation, login lockout and API tokens, through the services."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.test import override_settings
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import (
    AccessToken,
    AuditEvent,
    KnownLoginAddress,
    LoginFailure,
    User,
)
from fangkong.accounts.roles import Role
from fangkong.core.errors import DomainError

PW = "pw-Fangkong-2022"


# --- user_create ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "node"),
    [
        (Role.COMMAND, "city"),
        (Role.INVESTIGATOR, "city"),
        (Role.HOTLINE, "city"),
        (Role.PUBLICITY, "city"),
        (Role.ADMIN, "city"),
        (Role.TOWN_STAFF, "town_a"),
        (Role.COMMUNITY_WORKER, "community_a"),
        (Role.COMMUNITY_WORKER, "grid_a"),
    ],
)
def test_user_create_accepts_coherent_bindings(tree, role, node):
    jurisdiction = getattr(tree, node)
    user = services.user_create(
        username=f"u-{role}-{node}", password=PW, role=role, jurisdiction=jurisdiction
    )
    assert user.scope_path == jurisdiction.path
    assert user.check_password(PW)
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    ("role", "node"),
    [
        (Role.COMMAND, "town_a"),
        (Role.INVESTIGATOR, "community_a"),
        (Role.ADMIN, "grid_a"),
        (Role.TOWN_STAFF, "city"),
        (Role.TOWN_STAFF, "community_a"),
        (Role.COMMUNITY_WORKER, "town_a"),
        (Role.COMMUNITY_WORKER, "city"),
    ],
)
def test_user_create_refuses_level_mismatch(tree, role, node):
    with pytest.raises(DomainError) as err:
        services.user_create(username="x", password=PW, role=role, jurisdiction=getattr(tree, node))
    assert err.value.code == "jurisdiction_level_mismatch"
    assert not User.objects.filter(username="x").exists()


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.SITE_STAFF, "quarantine_site"),
        (Role.SAMPLER, "sampling_point"),
        (Role.LAB, "lab"),
    ],
)
def test_site_roles_are_bound_to_a_place_of_their_kind(tree, places, role, kind):
    place = places[kind]
    user = services.user_create(
        username=f"u-{role}", password=PW, role=role, jurisdiction=None, place=place
    )
    assert user.place == place
    assert user.jurisdiction_id == place.jurisdiction_id
    assert user.scope_path == place.jurisdiction_path


@pytest.mark.parametrize("role", [Role.SITE_STAFF, Role.SAMPLER, Role.LAB])
def test_site_roles_need_a_place(tree, role):
    with pytest.raises(DomainError) as err:
        services.user_create(username="x", password=PW, role=role, jurisdiction=tree.town_a)
    assert err.value.code == "place_required"


def test_site_role_with_wrong_kind_of_place_is_refused(tree, places):
    with pytest.raises(DomainError) as err:
        services.user_create(
            username="x", password=PW, role=Role.LAB, jurisdiction=None, place=places["venue"]
        )
    assert err.value.code == "place_kind_mismatch"


def test_site_role_in_another_jurisdiction_than_its_place_is_refused(tree, places):
    with pytest.raises(DomainError) as err:
        services.user_create(
            username="x",
            password=PW,
            role=Role.SITE_STAFF,
            jurisdiction=tree.town_b,
            place=places["quarantine_site"],
        )
    assert err.value.code == "place_jurisdiction_mismatch"


def test_place_on_a_non_site_role_is_refused(tree, places):
    with pytest.raises(DomainError) as err:
        services.user_create(
            username="x",
            password=PW,
            role=Role.TOWN_STAFF,
            jurisdiction=tree.town_a,
            place=places["lab"],
        )
    assert err.value.code == "place_not_allowed"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"role": "mayor"}, "role_invalid"),
        ({"role": ""}, "role_invalid"),
        ({"username": ""}, "username_invalid"),
        ({"username": "has space"}, "username_invalid"),
        ({"password": "short"}, "password_invalid"),
        ({"password": "password123"}, "password_invalid"),
        ({"jurisdiction": None}, "jurisdiction_required"),
    ],
)
def test_user_create_refuses_bad_input(tree, kwargs, code):
    args = {
        "username": "fine",
        "password": PW,
        "role": Role.TOWN_STAFF,
        "jurisdiction": tree.town_a,
        **kwargs,
    }
    with pytest.raises(DomainError) as err:
        services.user_create(**args)
    assert err.value.code == code
    assert User.objects.count() == 0


def test_username_taken_case_insensitively(tree):
    services.user_create(username="Wang", password=PW, role=Role.COMMAND, jurisdiction=tree.city)
    with pytest.raises(DomainError) as err:
        services.user_create(
            username="wang", password=PW, role=Role.COMMAND, jurisdiction=tree.city
        )
    assert err.value.code == "username_taken"
    assert err.value.status == 409


def test_only_user_managers_create_users(tree, command_user, make_user):
    with pytest.raises(DomainError) as err:
        services.user_create(
            actor=command_user,
            username="x",
            password=PW,
            role=Role.TOWN_STAFF,
            jurisdiction=tree.town_a,
        )
    assert err.value.status == 403
    admin = make_user(Role.ADMIN, tree.city, "boss")
    user = services.user_create(
        actor=admin, username="x", password=PW, role=Role.TOWN_STAFF, jurisdiction=tree.town_a
    )
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.actor == admin
    assert event.jurisdiction_path == tree.town_a.path


def test_staff_flag_only_for_admin(tree):
    with pytest.raises(DomainError) as err:
        services.user_create(
            username="x", password=PW, role=Role.COMMAND, jurisdiction=tree.city, staff=True
        )
    assert err.value.code == "staff_requires_admin"
    admin = services.user_create(
        username="a", password=PW, role=Role.ADMIN, jurisdiction=tree.city, staff=True
    )
    assert admin.is_staff and admin.is_superuser


def test_user_rebind_moves_the_scope(tree, make_user):
    admin = make_user(Role.ADMIN, tree.city, "boss")
    user = services.user_create(
        username="x", password=PW, role=Role.TOWN_STAFF, jurisdiction=tree.town_a
    )
    services.user_rebind(actor=admin, user=user, role=Role.TOWN_STAFF, jurisdiction=tree.town_b)
    user.refresh_from_db()
    assert user.scope_path == tree.town_b.path
    with pytest.raises(DomainError) as err:
        services.user_rebind(
            actor=admin, user=user, role=Role.TOWN_STAFF, jurisdiction=tree.community_b
        )
    assert err.value.code == "jurisdiction_level_mismatch"
    user.refresh_from_db()
    assert user.scope_path == tree.town_b.path


# --- login lockout --------------------------------------------------------------------


@pytest.fixture
def alice(tree):
    return services.user_create(
        username="alice", password=PW, role=Role.TOWN_STAFF, jurisdiction=tree.town_a
    )


def test_login_success_returns_the_user_and_audits(alice):
    user = services.login_attempt(username="alice", password=PW, ip="10.0.0.1")
    assert user == alice
    event = AuditEvent.objects.get(action="login.success")
    assert event.actor == alice and event.ip == "10.0.0.1"
    assert event.jurisdiction_path == alice.scope_path


def test_wrong_password_and_unknown_user_fail_alike(alice):
    with pytest.raises(DomainError) as wrong_pw:
        services.login_attempt(username="alice", password="nope", ip="10.0.0.1")
    with pytest.raises(DomainError) as unknown:
        services.login_attempt(username="nobody", password=PW, ip="10.0.0.1")
    assert wrong_pw.value.code == unknown.value.code == "login_failed"
    assert wrong_pw.value.message == unknown.value.message
    assert LoginFailure.objects.count() == 2
    assert AuditEvent.objects.filter(action="login.failure").count() == 2


def _fail(username: str, ip: str, times: int = 1, **kwargs) -> list[str]:
    """`times` wrong passwords for `username` from `ip`; the codes answered."""
    codes = []
    for _ in range(times):
        with pytest.raises(DomainError) as err:
            services.login_attempt(username=username, password="bad", ip=ip, **kwargs)
        codes.append(err.value.code)
    return codes


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=3, FANGKONG_LOGIN_LOCKOUT_MINUTES=15)
def test_lockout_refuses_even_the_right_password_then_lifts(alice):
    t0 = timezone.now()
    for i in range(3):
        _fail("alice", "10.0.0.1", now=t0 + dt.timedelta(minutes=i))
    with pytest.raises(DomainError) as err:
        services.login_attempt(
            username="alice", password=PW, ip="10.0.0.1", now=t0 + dt.timedelta(minutes=3)
        )
    assert err.value.code == "account_locked"
    assert err.value.status == 403
    # the lock lifts when the first failure leaves the 15-minute window (t0 + 15 min)
    local = timezone.localtime(t0 + dt.timedelta(minutes=15))
    assert local.strftime("%H:%M") in err.value.message
    locked = AuditEvent.objects.get(action="login.locked")
    assert locked.detail["lock"] == "account_address" and locked.ip == "10.0.0.1"
    # a locked attempt does not extend the lock
    assert LoginFailure.objects.filter(username="alice").count() == 3

    user = services.login_attempt(
        username="alice", password=PW, ip="10.0.0.1", now=t0 + dt.timedelta(minutes=15, seconds=1)
    )
    assert user == alice
    assert not LoginFailure.objects.filter(username="alice").exists()


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=3, FANGKONG_LOGIN_LOCKOUT_MINUTES=15)
def test_lock_lifts_when_old_failures_age_out(alice):
    _fail("alice", "10.0.0.1", times=3)
    LoginFailure.objects.update(at=timezone.now() - dt.timedelta(minutes=16))
    assert services.login_attempt(username="alice", password=PW, ip="10.0.0.1") == alice


def test_five_failures_for_one_user_do_not_stop_another_from_the_same_address(alice, tree):
    """The review's finding: behind one address (a proxy, an office's NAT) five wrong
    passwords for one user locked every other user out."""
    services.user_create(
        username="bob", password=PW, role=Role.TOWN_STAFF, jurisdiction=tree.town_b
    )
    assert _fail("bob", "203.0.113.7", times=6)[-1] == "account_locked"
    assert services.login_attempt(username="alice", password=PW, ip="203.0.113.7") == alice


def test_failures_for_an_account_from_one_address_do_not_lock_it_from_another(alice):
    """Anyone could keep `command` locked: now an attacker at X locks only X."""
    codes = _fail("alice", "198.51.100.66", times=30)
    assert codes[:5] == ["login_failed"] * 5
    assert set(codes[5:]) == {"account_locked"}
    assert services.login_attempt(username="alice", password=PW, ip="192.0.2.10") == alice
    # the attacker's address stays locked for alice, even with the right password
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="198.51.100.66")
    assert err.value.code == "account_locked"
    # refused attempts are audited but not counted: X added at most 5 failures
    assert LoginFailure.objects.filter(username="alice").count() == 5
    assert AuditEvent.objects.filter(action="login.locked").count() == 26


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=6)
def test_account_backstop_counts_failures_from_every_address(alice):
    for i in range(3):
        _fail("alice", f"10.1.0.{i}", times=2)
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="10.9.9.9")
    assert err.value.code == "account_locked"
    assert AuditEvent.objects.get(action="login.locked").detail["lock"] == "account"


@override_settings(FANGKONG_LOGIN_MAX_ADDRESS_FAILURES=8)
def test_one_address_spraying_usernames_is_stopped(alice):
    for name in ("a1", "a2", "a3", "a4"):
        assert _fail(name, "203.0.113.7", times=2) == ["login_failed"] * 2
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="203.0.113.7")
    assert err.value.code == "address_locked"
    assert err.value.status == 403
    assert AuditEvent.objects.get(action="login.locked").detail["lock"] == "address"
    # the same account from another address is not locked
    assert services.login_attempt(username="alice", password=PW, ip="198.51.100.1") == alice


def test_address_limit_is_higher_than_the_account_limit_by_default(alice):
    """Five failures from one address for each of several users lock none of the others."""
    for name in ("a1", "a2", "a3"):
        _fail(name, "203.0.113.7", times=5)
    assert services.login_attempt(username="alice", password=PW, ip="203.0.113.7") == alice


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=3)
def test_ipv6_addresses_of_one_network_count_together(alice):
    for host in ("1", "2", "3"):
        _fail("alice", f"2001:db8:5:6::{host}")
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="2001:db8:5:6:ffff::9")
    assert err.value.code == "account_locked"
    assert services.login_attempt(username="alice", password=PW, ip="2001:db8:5:7::1") == alice


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=3)
def test_username_case_does_not_escape_the_count(alice):
    for name in ("ALICE", "Alice", "alice"):
        _fail(name, "10.0.0.1")
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="10.0.0.1")
    assert err.value.code == "account_locked"


@override_settings(FANGKONG_LOGIN_MAX_FAILURES=3, FANGKONG_LOGIN_LOCKOUT_MINUTES=15)
def test_success_clears_only_this_accounts_failures_from_this_address(alice):
    _fail("alice", "10.0.0.1", times=2)
    _fail("alice", "10.0.0.9", times=2)
    _fail("bob", "10.0.0.2")
    services.login_attempt(username="alice", password=PW, ip="10.0.0.1")
    assert sorted(LoginFailure.objects.values_list("username", "address")) == [
        ("alice", "10.0.0.9"),
        ("alice", "10.0.0.9"),
        ("bob", "10.0.0.2"),
    ]


# --- addresses an account knows --------------------------------------------------------


@pytest.fixture
def command(tree):
    return services.user_create(
        username="command", password=PW, role=Role.COMMAND, jurisdiction=tree.city
    )


def _spread_guess(username: str, *, addresses: int, times: int = 5, now=None) -> list[str]:
    """`times` wrong passwords for `username` from each of `addresses` new addresses."""
    codes = []
    for i in range(addresses):
        codes += _fail(username, f"198.51.100.{i + 1}", times=times, now=now)
    return codes


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=100)
def test_a_spread_guess_locks_command_from_new_addresses_but_not_from_its_workstation(command):
    """The review's finding: 20 addresses x 5 failures locked `command` for everyone."""
    week_ago = timezone.now() - dt.timedelta(days=7)
    services.login_attempt(username="command", password=PW, ip="10.20.0.5", now=week_ago)

    codes = _spread_guess("command", addresses=20)
    assert codes.count("login_failed") == 100
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="192.0.2.44")
    assert err.value.code == "account_locked"
    assert AuditEvent.objects.get(action="login.locked").detail["lock"] == "account"
    # the workstation it signed in from last week still gets in, and stays known
    assert services.login_attempt(username="command", password=PW, ip="10.20.0.5") == command
    known = KnownLoginAddress.objects.get(username="command", address="10.20.0.5")
    assert known.last_success_at > week_ago


def test_the_account_limit_caps_a_spread_guess_by_default(command):
    """Guesses per account per window are capped at FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES
    (20 by default) whatever the number of addresses; refused attempts are not counted."""
    codes = _spread_guess("command", addresses=20)
    assert codes.count("login_failed") == 20
    assert set(codes[20:]) == {"account_locked"}
    assert LoginFailure.objects.filter(username="command").count() == 20


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10, FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS=30)
def test_an_address_not_signed_in_from_within_the_days_is_not_known(command):
    long_ago = timezone.now() - dt.timedelta(days=31)
    services.login_attempt(username="command", password=PW, ip="10.20.0.5", now=long_ago)
    _spread_guess("command", addresses=2)
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert err.value.code == "account_locked"


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10, FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS=0)
def test_known_days_zero_turns_the_exemption_off(command):
    services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    _spread_guess("command", addresses=2)
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert err.value.code == "account_locked"


def test_a_known_address_keeps_its_own_limit(command):
    """The exemption is from the account-wide limit only: five wrong passwords from the
    commander's own workstation still lock the account there."""
    services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert _fail("command", "10.20.0.5", times=6)[-1] == "account_locked"
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert err.value.code == "account_locked"
    assert AuditEvent.objects.filter(action="login.locked").last().detail["lock"] == (
        "account_address"
    )


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10, FANGKONG_LOGIN_MAX_ADDRESS_FAILURES=8)
def test_a_known_address_keeps_the_address_limit(command):
    services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    for name in ("a1", "a2", "a3", "a4"):
        _fail(name, "10.20.0.5", times=2)
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert err.value.code == "address_locked"


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10)
def test_an_ipv6_workstation_is_known_by_its_64(command):
    services.login_attempt(username="command", password=PW, ip="2001:db8:7:8::10")
    _spread_guess("command", addresses=2)
    assert services.login_attempt(username="command", password=PW, ip="2001:db8:7:8::99") == command
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="2001:db8:7:9::10")
    assert err.value.code == "account_locked"


@override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=10)
def test_a_known_address_of_one_account_does_not_exempt_another(command, alice):
    services.login_attempt(username="alice", password=PW, ip="10.20.0.5")
    _spread_guess("command", addresses=2)
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    assert err.value.code == "account_locked"


def test_a_failed_login_does_not_make_an_address_known(command):
    _fail("command", "10.20.0.5", times=2)
    _fail("command", "10.20.0.6", staff_only=True)
    assert not KnownLoginAddress.objects.exists()


def test_a_password_change_forgets_the_known_addresses(command, alice):
    services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    services.login_attempt(username="alice", password=PW, ip="10.20.0.5")
    services.user_password_changed(actor=None, user=command, via="command")
    assert list(KnownLoginAddress.objects.values_list("username", flat=True)) == ["alice"]


def test_the_lock_check_costs_one_query_per_lock_and_one_for_the_known_pair(
    command, django_assert_max_num_queries
):
    """The check costs one indexed lookup per lock (and one for the known pair)."""
    services.login_attempt(username="command", password=PW, ip="10.20.0.5")
    with override_settings(FANGKONG_LOGIN_MAX_ACCOUNT_FAILURES=2):
        _spread_guess("command", addresses=1, times=2)
        with django_assert_max_num_queries(4):
            assert (
                services._lock(username="command", address="10.20.0.5", now=timezone.now()) is None
            )


# --- purge -----------------------------------------------------------------------------


@override_settings(FANGKONG_LOGIN_LOCKOUT_MINUTES=15, FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS=30)
def test_purge_deletes_only_what_no_lock_reads_any_more(command):
    now = timezone.now()
    services.login_attempt(
        username="command", password=PW, ip="10.0.0.1", now=now - dt.timedelta(days=31)
    )
    services.login_attempt(
        username="command", password=PW, ip="10.0.0.2", now=now - dt.timedelta(days=29)
    )
    _fail("command", "10.0.0.3", now=now - dt.timedelta(minutes=16))
    _fail("command", "10.0.0.4", now=now - dt.timedelta(minutes=14))

    assert services.login_records_purge(now=now) == {"failures": 1, "known_addresses": 1}
    assert list(LoginFailure.objects.values_list("address", flat=True)) == ["10.0.0.4"]
    assert list(KnownLoginAddress.objects.values_list("address", flat=True)) == ["10.0.0.2"]
    # what it kept still counts, and a second run deletes nothing
    assert services.login_records_purge(now=now) == {"failures": 0, "known_addresses": 0}


# --- demo password in production ------------------------------------------------------


@pytest.fixture
def demo_account(tree):
    return services.user_create(
        username="command", password="fangkong-demo", role=Role.COMMAND, jurisdiction=tree.city
    )


@override_settings(PRODUCTION=True)
def test_demo_password_is_refused_in_production(demo_account):
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="command", password="fangkong-demo", ip="10.0.0.1")
    assert err.value.code == "demo_password_refused"
    assert err.value.status == 403
    event = AuditEvent.objects.get(action="login.refused")
    assert event.detail["reason"] == "demo_password"
    assert event.object_label == "command" and event.ip == "10.0.0.1"
    assert event.jurisdiction_path == demo_account.scope_path
    assert not AuditEvent.objects.filter(action="login.success").exists()
    # it counts towards the lockout, and an unknown account gets the same answer
    assert LoginFailure.objects.filter(username="command").count() == 1
    with pytest.raises(DomainError) as unknown:
        services.login_attempt(username="nobody", password="fangkong-demo", ip="10.0.0.1")
    assert unknown.value.code == "demo_password_refused"


@override_settings(PRODUCTION=True)
def test_production_accepts_a_real_password(alice):
    assert services.login_attempt(username="alice", password=PW, ip="10.0.0.1") == alice


def test_demo_password_logs_in_outside_production(demo_account):
    user = services.login_attempt(username="command", password="fangkong-demo", ip="10.0.0.1")
    assert user == demo_account


def test_inactive_user_cannot_log_in(alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(DomainError) as err:
        services.login_attempt(username="alice", password=PW, ip="10.0.0.1")
    assert err.value.code == "login_failed"


# --- tokens ---------------------------------------------------------------------------


def test_token_is_stored_hashed(command_user):
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    assert plaintext.startswith("fk_") and len(plaintext) > 40
    token.refresh_from_db()
    assert token.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.digest != plaintext
    assert plaintext.startswith(token.prefix) and len(token.prefix) < len(plaintext)
    stored = [str(v) for v in AccessToken.objects.values_list(flat=False).get(pk=token.pk)]
    assert not any(plaintext in v for v in stored)
    assert all(plaintext not in json.dumps(e.detail) for e in AuditEvent.objects.all())
    assert AuditEvent.objects.filter(action="token.create", object_id=str(token.pk)).exists()


def test_token_authenticates_until_revoked(command_user):
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    assert services.token_authenticate(plaintext) == command_user
    assert services.token_authenticate(plaintext + "x") is None
    assert services.token_authenticate("not-a-token") is None
    services.token_revoke(actor=command_user, token=token)
    assert services.token_authenticate(plaintext) is None
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token.pk)).exists()
    with pytest.raises(DomainError) as err:
        services.token_revoke(actor=command_user, token=token)
    assert err.value.code == "token_already_revoked"


def test_expired_token_and_inactive_user_are_refused(command_user):
    soon = timezone.now() + dt.timedelta(hours=1)
    _, plaintext = services.token_create(
        actor=command_user, user=command_user, name="pad", expires_at=soon
    )
    assert services.token_authenticate(plaintext) == command_user
    assert services.token_authenticate(plaintext, now=soon + dt.timedelta(seconds=1)) is None
    command_user.is_active = False
    command_user.save()
    assert services.token_authenticate(plaintext) is None


def test_token_expiry_must_be_in_the_future(command_user):
    with pytest.raises(DomainError) as err:
        services.token_create(
            actor=command_user,
            user=command_user,
            name="pad",
            expires_at=timezone.now() - dt.timedelta(minutes=1),
        )
    assert err.value.code == "token_expiry_invalid"
    assert not AccessToken.objects.exists()


def test_token_expires_after_the_default_lifetime(command_user, settings):
    settings.FANGKONG_TOKEN_LIFETIME_DAYS = 90
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == pytest.approx(
        dt.timedelta(days=90), abs=dt.timedelta(seconds=5)
    )
    day_89 = token.created_at + dt.timedelta(days=89)
    assert services.token_authenticate(plaintext, now=day_89) == command_user
    assert services.token_authenticate(plaintext, now=token.expires_at) is None


def test_token_expiry_beyond_the_maximum_is_refused(command_user, settings):
    settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS = 365
    with pytest.raises(DomainError) as err:
        services.token_create(
            actor=command_user,
            user=command_user,
            name="pad",
            expires_at=timezone.now() + dt.timedelta(days=366),
        )
    assert err.value.code == "token_expiry_too_far"
    assert err.value.detail["max_days"] == 365
    assert not AccessToken.objects.exists()


def test_token_default_lifetime_never_exceeds_the_maximum(command_user, settings):
    settings.FANGKONG_TOKEN_LIFETIME_DAYS = 400
    settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS = 30
    token, _ = services.token_create(actor=command_user, user=command_user, name="pad")
    assert token.expires_at - token.created_at <= dt.timedelta(days=30)


def test_a_token_without_a_stored_expiry_lives_the_maximum(command_user, settings):
    """Tokens created before they expired by default have no date: they end too."""
    settings.FANGKONG_TOKEN_MAX_LIFETIME_DAYS = 365
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="old")
    AccessToken.objects.filter(pk=token.pk).update(expires_at=None)
    token.refresh_from_db()
    assert services.token_authenticate(plaintext) == command_user
    later = token.created_at + dt.timedelta(days=365)
    assert services.token_authenticate(plaintext, now=later) is None


def test_a_token_request_cannot_create_tokens(command_user):
    with pytest.raises(DomainError) as err:
        services.token_create(actor=command_user, user=command_user, name="pad", by_token=True)
    assert err.value.code == "token_cannot_create_token"
    assert err.value.status == 403
    assert not AccessToken.objects.exists()


def test_password_change_revokes_the_users_tokens(command_user, make_user, tree):
    admin = make_user(Role.ADMIN, tree.city, "boss")
    _, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    revoked = services.user_password_changed(
        actor=admin, user=command_user, ip="10.0.0.1", via="admin"
    )
    assert revoked == 1
    assert services.token_authenticate(plaintext) is None
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == admin and event.object_id == str(command_user.pk)
    assert event.detail["tokens_revoked"] == 1 and event.ip == "10.0.0.1"


def test_last_used_is_written_at_most_once_a_minute(command_user):
    token, plaintext = services.token_create(actor=command_user, user=command_user, name="pad")
    t0 = timezone.now()
    services.token_authenticate(plaintext, now=t0)
    services.token_authenticate(plaintext, now=t0 + dt.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == t0
    services.token_authenticate(plaintext, now=t0 + dt.timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == t0 + dt.timedelta(seconds=61)


def test_tokens_need_token_manage_and_are_personal(tree, command_user, town_a_user, make_user):
    with pytest.raises(DomainError) as err:
        services.token_create(actor=town_a_user, user=town_a_user, name="pad")
    assert err.value.status == 403
    other = make_user(Role.COMMAND, tree.city, "command-2")
    token, _ = services.token_create(actor=other, user=other, name="theirs")
    with pytest.raises(DomainError) as err:
        services.token_revoke(actor=command_user, token=token)
    assert err.value.status == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_database_refuses_usernames_differing_only_in_case(tree):
    from django.db import IntegrityError, transaction

    User.objects.create_user(username="Li", password=PW, role=Role.COMMAND)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="li", password=PW, role=Role.COMMAND)
