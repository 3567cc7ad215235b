"""The admin's rule set form validates with the same rules as the services, and saves
through them (audited)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fangkong.accounts.models import AuditEvent, User
from fangkong.protocol.admin import RuleSetAdminForm
from fangkong.protocol.models import RuleSet
from fangkong.protocol.rules import RULE_VALUE_FIELDS

pytestmark = pytest.mark.django_db


def form_data(rs: RuleSet, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": rs.version,
        "name": rs.name,
        "effective_from": rs.effective_from.isoformat(),
        "region": rs.region,
        "based_on": rs.based_on_id or "",
        "source": rs.source,
    }
    for name in RULE_VALUE_FIELDS:
        value = getattr(rs, name)
        if isinstance(value, list):
            value = json.dumps(value)
        data[name] = value
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}  # read-only fields are not posted
    if data.get("downgrade_requires_screening") is False:
        data.pop("downgrade_requires_screening")  # an unchecked checkbox is absent
    return data


@pytest.fixture
def v9() -> RuleSet:
    return RuleSet.objects.get(version="v9")


def test_admin_form_accepts_valid_values(v9: RuleSet) -> None:
    form = RuleSetAdminForm(data=form_data(v9), instance=v9)
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"close_centralised_test_days": "[1, 2, 9]"}, "close_centralised_test_days"),
        ({"close_home_test_days": "[0]"}, "close_home_test_days"),
        ({"close_centralised_test_days": '"1,2"'}, "close_centralised_test_days"),
        ({"secondary_days": 0}, "secondary_days"),
        ({"close_centralised_days": 0}, "close_centralised_days"),
        ({"secondary_test_days": "[1, 1]"}, "secondary_test_days"),
    ],
)
def test_admin_form_refuses_what_the_services_refuse(
    v9: RuleSet, changes: dict, field: str
) -> None:
    form = RuleSetAdminForm(data=form_data(v9, **changes), instance=v9)
    assert not form.is_valid()
    assert field in form.errors


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.org", "pw-Fangkong-2022")


def test_admin_change_saves_through_the_service_and_is_audited(
    superuser: User, v9: RuleSet
) -> None:
    client = Client()
    client.force_login(superuser)
    url = f"/admin/protocol/ruleset/{v9.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(v9, secondary_days=8, version=None, based_on=None))
    assert response.status_code == 302, response.content.decode()[:2000]
    v9.refresh_from_db()
    assert v9.secondary_days == 8
    event = AuditEvent.objects.get(action="ruleset.update")
    assert event.detail == {"before": {"secondary_days": 7}, "after": {"secondary_days": 8}}


def test_admin_change_with_bad_test_days_is_refused(superuser: User, v9: RuleSet) -> None:
    client = Client()
    client.force_login(superuser)
    response = client.post(
        f"/admin/protocol/ruleset/{v9.pk}/change/",
        form_data(v9, secondary_test_days="[1, 4, 9]"),
    )
    assert response.status_code == 200  # the form again, with the error
    v9.refresh_from_db()
    assert v9.secondary_test_days == [1, 4, 7]
    assert not AuditEvent.objects.filter(action="ruleset.update").exists()


def test_admin_add_override_is_created_by_the_service(superuser: User, v9: RuleSet) -> None:
    client = Client()
    client.force_login(superuser)
    data = form_data(
        v9,
        version="v9-330483",
        name="桐乡本地调整",
        region="330483",
        effective_from="2022-07-01",
        based_on=v9.pk,
        close_home_monitoring_days=7,
        close_home_test_days="[3, 7]",
    )
    response = client.post("/admin/protocol/ruleset/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rs = RuleSet.objects.get(version="v9-330483")
    assert rs.based_on == v9
    assert rs.close_home_test_days == [3, 7]
    event = AuditEvent.objects.get(action="ruleset.create")
    assert event.detail["changes"] == {
        "close_home_monitoring_days": 7,
        "close_home_test_days": [3, 7],
    }


def test_admin_change_as_staff_without_managing_role_is_refused(tree: Any, v9: RuleSet) -> None:
    from fangkong.accounts.roles import Role

    staff = User.objects.create_user(
        "staff", password="pw-Fangkong-2022", role=Role.TOWN_STAFF, is_staff=True
    )
    client = Client()
    client.force_login(staff)
    # a staff account without model permissions cannot even open the change page
    assert client.get(f"/admin/protocol/ruleset/{v9.pk}/change/").status_code == 403


def test_admin_form_names_the_kind_codes_in_words(v9: RuleSet) -> None:
    form = RuleSetAdminForm(instance=v9)
    assert "restaurant（餐饮店）" in str(form.fields["small_venue_kinds"].help_text)
    assert "vehicle（同乘交通工具）" in str(form.fields["always_close_exposure_kinds"].help_text)
