"""The protocol pages: list, detail, calculator; ruleset.view required."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.protocol.models import RuleSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(command_user: Any) -> Client:
    client = Client()
    client.force_login(command_user)
    return client


def test_list_shows_versions_and_which_one_is_in_force(client_for: Client) -> None:
    response = client_for.get(reverse("protocol:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "新型冠状病毒肺炎防控方案（第九版）" in html
    assert "2021-05-11" in html and "2022-06-28" in html
    # v9 is in force today, v8 superseded
    v9_row = html.split('data-version="v9"')[1].split("</tr>")[0]
    v8_row = html.split('data-version="v8"')[1].split("</tr>")[0]
    assert 'data-testid="in-force"' in v9_row
    assert 'data-testid="in-force"' not in v8_row
    assert "全国" in v9_row


def test_detail_shows_readable_values(client_for: Client) -> None:
    v9 = RuleSet.objects.get(version="v9")
    response = client_for.get(reverse("protocol:detail", args=[v9.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "密接集中隔离" in html and "7 天" in html
    assert "第 1、2、3、5、7 天" in html
    assert "居家隔离 7 天" in html
    assert "连续 7 天无新增" in html
    assert "3 天" in html
    assert "第九版" in html  # the source


def test_detail_of_a_missing_rule_set_is_404(client_for: Client) -> None:
    assert client_for.get(reverse("protocol:detail", args=[99999])).status_code == 404


def test_calculator_computes_every_schedule_with_the_version(client_for: Client) -> None:
    response = client_for.get(
        reverse("protocol:calculator"),
        {
            "last_exposure_on": "2022-07-01",
            "onset_on": "2022-07-10",
            "on": "2022-07-02",
            "path": "330483102",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="ruleset-version">v9<' in html
    assert 'data-testid="close-centralised-end">2022-07-08<' in html
    assert 'data-testid="close-home-end">2022-07-11<' in html
    assert 'data-testid="secondary-end">2022-07-08<' in html
    assert 'data-testid="lookback-start">2022-07-06<' in html
    assert html.count('data-testid="close-centralised-test"') == 5


def test_calculator_uses_the_rule_set_of_the_chosen_day(client_for: Client) -> None:
    response = client_for.get(
        reverse("protocol:calculator"), {"last_exposure_on": "2022-06-01", "on": "2022-06-02"}
    )
    html = response.content.decode()
    assert 'data-testid="ruleset-version">v8<' in html
    assert 'data-testid="close-centralised-end">2022-06-15<' in html


def test_calculator_refuses_missing_and_bad_input(client_for: Client) -> None:
    url = reverse("protocol:calculator")
    assert client_for.get(url).status_code == 200  # the empty form
    missing = client_for.get(url, {"path": "330483"})
    assert missing.status_code == 400
    assert "请填写末次暴露日期" in missing.content.decode()
    assert client_for.get(url, {"last_exposure_on": "2022-02-30"}).status_code == 400
    assert client_for.get(url, {"last_exposure_on": "2022-07-01", "path": "33x"}).status_code == 400
    too_early = client_for.get(url, {"last_exposure_on": "2020-07-01", "on": "2020-07-01"})
    assert too_early.status_code == 400
    assert "没有适用于该日期" in too_early.content.decode()


@pytest.mark.parametrize("name", ["protocol:list", "protocol:calculator"])
def test_pages_refuse_a_role_without_ruleset_view(make_user: Any, tree: Any, name: str) -> None:
    client = Client()
    client.force_login(make_user(Role.LAB, tree.town_a))
    assert client.get(reverse(name)).status_code == 403


def test_detail_refuses_a_role_without_ruleset_view(make_user: Any, tree: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.SAMPLER, tree.town_a))
    v9 = RuleSet.objects.get(version="v9")
    response = client.get(reverse("protocol:detail", args=[v9.pk]))
    assert response.status_code == 403
    assert "第九版" not in response.content.decode()


@pytest.mark.parametrize("name", ["protocol:list", "protocol:calculator"])
def test_pages_send_anonymous_users_to_login(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_town_staff_may_view(town_a_user: Any) -> None:
    client = Client()
    client.force_login(town_a_user)
    assert client.get(reverse("protocol:list")).status_code == 200


def test_pages_in_english(client_for: Client) -> None:
    from django.conf import settings

    client_for.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client_for.get(reverse("protocol:list")).content.decode()
    assert "Prevention and control protocols" in html
    assert "In force" in html


def test_detail_shows_who_is_close_in_words(client_for: Client) -> None:
    v9 = RuleSet.objects.get(version="v9")
    html = client_for.get(reverse("protocol:detail", args=[v9.pk])).content.decode()
    assert "密接判定" in html and "时空伴随者（风险人员）" in html
    assert "同住、同乘交通工具、同事/同学、同行" in html
    assert "餐饮店、KTV、网吧、健身房、诊所、棋牌室" in html
    assert "农贸市场、商场、超市、车站、医院大厅、景区" in html
    assert "15 分钟" in html and "240 分钟" in html
    assert "风险人员检测日" in html and "第 1、3 天" in html
    # words, not codes
    assert "restaurant" not in html and "household" not in html and "hospital_hall" not in html


def test_kind_word_filters() -> None:
    from fangkong.protocol.templatetags.protocol_tags import (
        exposure_kind_words,
        venue_kind_words,
    )

    assert venue_kind_words(["mall", "gym"]) == "商场、健身房"
    assert exposure_kind_words(["vehicle"]) == "同乘交通工具"
    assert venue_kind_words(["unknown_kind"]) == "unknown_kind"
    assert venue_kind_words([]) == "无"
