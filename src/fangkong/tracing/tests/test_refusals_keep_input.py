"""A refused tracing form comes back with what was typed in it and a message that names
the field (the browser walk of issue 10: the chosen person, the typed case number, the
note, the core facts were lost; "日期格式无效" did not say which date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.people import services as people_services
from fangkong.testkit.people import ric
from fangkong.tracing.models import Case, CaseLink, Cluster, Contact
from fangkong.tracing.services import cases as case_services
from fangkong.tracing.services import chains as chain_services

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(tree: Any, make_user: Any, command_user: Any) -> Any:
    investigator = make_user(Role.INVESTIGATOR, tree.city, "investigator")
    person = people_services.person_create(
        actor=command_user,
        name="张三",
        id_kind="ric",
        id_number=ric(901),
        jurisdiction=tree.community_a,
    )
    other = people_services.person_create(
        actor=command_user,
        name="李四",
        id_kind="ric",
        id_number=ric(902),
        jurisdiction=tree.community_a,
    )
    case = case_services.case_create(
        actor=investigator,
        person=other,
        kind="asymptomatic",
        first_positive_sampled_on=timezone.localdate() - dt.timedelta(days=2),
    )
    client = Client()
    client.force_login(investigator)

    class World:
        pass

    w = World()
    w.client, w.case, w.person, w.tree = client, case, person, tree  # type: ignore[attr-defined]
    w.investigator = investigator  # type: ignore[attr-defined]
    return w


def _report(w: Any, **change: str) -> Any:
    form = {
        "person": str(w.person.pk),
        "q": "",  # the htmx search swapped only the results: the hidden q stayed empty
        "kind": "asymptomatic",
        "first_positive_sampled_on": timezone.localdate().isoformat(),
        "origin": "local",
        "reporting_unit": "桐乡市疾控中心",
        **change,
    }
    return w.client.post(reverse("tracing:case_create"), form)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"first_positive_sampled_on": "2999-01-01"}, "date_in_future", ""),
        ({"first_positive_sampled_on": "2022-02-30"}, "date_invalid", "首次阳性采样日期格式无效"),
        ({"onset_date": "xx"}, "date_invalid", "发病日期格式无效"),
        ({"reporting_unit": "单" * 250}, "value_too_long", "报告单位不能超过 200 字"),
        ({"onset_date": "2022-07-01"}, "", ""),
    ],
)
def test_a_refused_case_report_keeps_the_chosen_person_and_the_values(
    world: Any, change: dict[str, str], code: str, message: str
) -> None:
    lookups = AuditEvent.objects.filter(action="person.lookup").count()

    response = _report(world, **change)

    page = response.content.decode()
    assert response.status_code == 400
    if code:
        assert f'data-code="{code}"' in page
    if message:
        assert message in page
    # The person comes back as the one (masked) row, chosen; not "请先查找并选择人员".
    assert f'name="person" value="{world.person.pk}" checked' in page
    assert "张*" in page and "张三" not in page
    assert 'data-testid="case-person-results"' in page
    for name, value in change.items():
        if name != "reporting_unit":
            assert f'value="{value}"' in page
    assert 'value="桐乡市疾控中心"' in page or "reporting_unit" in change
    # No lookup ran again and nothing was written.
    assert AuditEvent.objects.filter(action="person.lookup").count() == lookups
    assert Case.objects.filter(person=world.person).count() == 0


def test_a_chosen_person_outside_the_scope_is_not_shown_again(world: Any, make_user: Any) -> None:
    town_b_investigator = make_user(Role.INVESTIGATOR, world.tree.town_b, "inv-b")
    client = Client()
    client.force_login(town_b_investigator)
    world.client = client

    response = _report(world, first_positive_sampled_on="xx")

    page = response.content.decode()
    assert response.status_code == 400
    assert f'value="{world.person.pk}"' not in page and "张*" not in page


def test_a_refused_chain_link_keeps_the_typed_number(world: Any) -> None:
    url = reverse("tracing:case_chain_action", args=[world.case.pk, "link"])

    response = world.client.post(url, {"infector": "C-NO-SUCH", "evidence": "同住"}, **HX)

    page = response.content.decode()
    assert response.status_code == 404
    assert "未找到该病例编号" in page
    assert 'value="C-NO-SUCH"' in page and 'value="同住"' in page
    assert CaseLink.objects.count() == 0


def test_a_refused_cluster_case_keeps_the_typed_number(world: Any) -> None:
    cluster = chain_services.cluster_create(actor=world.investigator, name="聚集一")

    response = world.client.post(
        reverse("tracing:cluster_detail", args=[cluster.pk]), {"number": "C-NO-SUCH"}
    )

    assert response.status_code == 400
    assert 'value="C-NO-SUCH"' in response.content.decode()
    assert Cluster.objects.get().cases.count() == 0


def test_refused_core_facts_keep_both_fields_and_name_the_field(world: Any) -> None:
    case_services.case_start_investigation(actor=world.investigator, case=world.case)
    url = reverse("tracing:case_core_facts", args=[world.case.pk])

    response = world.client.post(url, {"symptoms": "发热", "vaccination": "疫" * 250})

    page = response.content.decode()
    assert response.status_code == 400
    assert "疫苗接种不能超过 200 字" in page
    assert 'value="发热"' in page and f'value="{"疫" * 250}"' in page
    world.case.refresh_from_db()
    assert world.case.core_facts_done_at is None


def test_a_refused_contact_keeps_the_note(world: Any) -> None:
    url = reverse("tracing:case_add_contact", args=[world.case.pk])
    bad_ric = ric(903)[:-1] + ("0" if ric(903)[-1] != "0" else "1")

    response = world.client.post(
        url,
        {
            "name": "王五",
            "id_kind": "ric",
            "id_number": bad_ric,
            "jurisdiction": str(world.tree.community_a.pk),
            "classification": "close",
            "exposed_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "note": "同桌吃饭",
        },
        **HX,
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="同桌吃饭"' in page and 'value="王五"' in page and bad_ric in page
    assert Contact.objects.count() == 0


def test_a_tolerance_that_is_not_a_number_is_refused_and_kept(world: Any) -> None:
    url = reverse("tracing:case_find_contacts", args=[world.case.pk])

    response = world.client.post(url, {"tolerance_minutes": "abc"}, **HX)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-code="invalid_tolerance"' in page
    # A text input: what the browser cannot read as a number reaches the page (a number
    # input would send it empty and the search would run with the default).
    assert 'name="tolerance_minutes" value="abc"' in page
    assert 'type="number" name="tolerance_minutes"' not in page
    assert Contact.objects.count() == 0
