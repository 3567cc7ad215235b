"""notify / notify_over: each user once, only whom the path and capability concern; a
notification leads only to a page of this site; urgent kinds go out by SMS after the
commit (console backend), never for a change rolled back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from fangkong.accounts.roles import Capability, Role
from fangkong.core.errors import NotFound
from fangkong.notices import selectors, services, sms
from fangkong.notices.choices import NoticeKind
from fangkong.notices.models import Notification
from fangkong.testkit import notices

pytestmark = pytest.mark.django_db


def test_notify_writes_one_row_per_active_user_once(
    town_a_user: Any, town_b_user: Any, make_user: Any, tree: Any
) -> None:
    gone = make_user(Role.TOWN_STAFF, tree.town_a, "gone")
    gone.is_active = False
    gone.save()
    n = services.notify(
        users=[town_a_user, town_a_user, gone, town_b_user],
        kind=NoticeKind.PUSH_NEW,
        title="t",
    )
    assert n == 2
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == [
        "town-a",
        "town-b",
    ]


def test_service_accounts_get_nothing(town_a_user: Any, tree: Any) -> None:
    from fangkong.accounts.services import service_account

    system = service_account(
        username="system-x", role=Role.COMMAND, jurisdiction=tree.city, display_name="系统"
    )
    assert services.notify(users=[system, town_a_user], kind=NoticeKind.POSITIVE, title="t") == 1
    assert not Notification.objects.filter(user=system).exists()


def test_notify_over_reaches_the_town_and_not_the_other_town(
    town_a_user: Any, town_b_user: Any, command_user: Any, tree: Any
) -> None:
    services.notify_over(
        path=tree.community_a.path,
        capability=Capability.PUSH_FEEDBACK,
        roles=[Role.TOWN_STAFF],
        kind=NoticeKind.PUSH_NEW,
        title="t",
    )
    assert list(Notification.objects.values_list("user", flat=True)) == [town_a_user.pk]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/tracing/pushes/7/", "/tracing/pushes/7/"),
        ("https://evil.example/x", ""),
        ("//evil.example/x", ""),
        ("/\\evil.example", ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_a_notification_leads_only_to_a_page_of_this_site(
    town_a_user: Any, url: str, kept: str
) -> None:
    assert notices.notification(town_a_user, url=url).url == kept


def test_unread_count_is_capped_for_the_bell(town_a_user: Any) -> None:
    notices.notifications(town_a_user, 5)
    assert selectors.unread_count(user=town_a_user) == 5
    assert selectors.unread_count(user=town_a_user, cap=3) == 4  # "3+"


def test_mark_read_refuses_another_user_s_notification(town_a_user: Any, town_b_user: Any) -> None:
    other = notices.notification(town_b_user)
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=town_a_user, notification=other)
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_marks_only_the_actor_s(town_a_user: Any, town_b_user: Any) -> None:
    notices.notifications(town_a_user, 3)
    notices.notifications(town_b_user, 2)
    assert services.notifications_mark_all_read(actor=town_a_user) == 3
    assert selectors.unread_count(user=town_a_user) == 0
    assert selectors.unread_count(user=town_b_user) == 2


# --- SMS -------------------------------------------------------------------------------


def _with_mobile(user: Any, number: str) -> Any:
    user.mobile = number
    user.save(update_fields=["mobile"])
    return user


def test_an_urgent_kind_goes_by_sms_after_the_commit_to_those_with_a_mobile(
    command_user: Any,
    make_user: Any,
    tree: Any,
    capsys: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _with_mobile(command_user, "13900000001")
    no_phone = make_user(Role.COMMAND, tree.city, "command-2")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(
            users=[command_user, no_phone],
            kind=NoticeKind.ESCALATION,
            title="超时升级：推送核查名单 TS20220704-0001（乌镇镇）逾期未办结",
        )
        assert capsys.readouterr().out == ""  # nothing before the commit
    assert len(callbacks) == 1
    out = capsys.readouterr().out
    title = "超时升级：推送核查名单 TS20220704-0001（乌镇镇）逾期未办结"
    assert out == f"SMS to 13900000001: 【防控平台】{title}\n"
    assert Notification.objects.count() == 2


def test_an_ordinary_kind_sends_no_sms(
    town_a_user: Any, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _with_mobile(town_a_user, "13900000002")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notices.notification(town_a_user, kind=NoticeKind.PUSH_NEW)
    assert callbacks == []
    assert capsys.readouterr().out == ""


def test_no_sms_for_a_change_rolled_back(
    command_user: Any, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _with_mobile(command_user, "13900000003")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify(users=[command_user], kind=NoticeKind.POSITIVE, title="新增阳性")
        raise RuntimeError("the write failed")
    assert callbacks == []
    assert capsys.readouterr().out == ""
    assert not Notification.objects.exists()


class _Recorder:
    sent: list[tuple[list[str], str]] = []

    def send_messages(self, numbers: list[str], text: str) -> int:
        self.sent.append((numbers, text))
        return len(numbers)


class _Broken:
    def send_messages(self, numbers: list[str], text: str) -> int:
        raise ConnectionError("gateway down")


def test_the_backend_is_the_setting_s_and_numbers_are_sent_once(settings: Any) -> None:
    settings.FANGKONG_SMS_BACKEND = f"{__name__}._Recorder"
    _Recorder.sent.clear()
    assert sms.send(["13900000004", " 13900000004 ", "", "13900000005"], "x" * 500) == 2
    assert _Recorder.sent == [(["13900000004", "13900000005"], "x" * sms.TEXT_MAX)]


def test_a_failing_gateway_is_logged_and_the_notification_stays(
    settings: Any,
    command_user: Any,
    caplog: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.FANGKONG_SMS_BACKEND = f"{__name__}._Broken"
    _with_mobile(command_user, "13900000006")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[command_user], kind=NoticeKind.POSITIVE, title="新增阳性")
    assert Notification.objects.filter(user=command_user).count() == 1
    assert "SMS not sent to 1 numbers" in caplog.text


def test_the_console_backend_writes_to_the_log(caplog: Any) -> None:
    caplog.set_level("INFO", logger="fangkong.sms")
    assert sms.ConsoleBackend().send_messages(["13900000007"], "测试") == 1
    assert "SMS to 13900000007: 测试" in caplog.text
