"""Pages of tasks: dispatch with an attachment, the town's list and detail, its actions,
the attachment's download, the prefilled form from an object's page, and the refusals:
another town 404, a department only its own, the wrong role 403, bad input 400 with
nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.command.choices import AssignmentStatus
from fangkong.command.models import Assignment, Task, TaskAttachment
from fangkong.testkit import command as kit
from fangkong.testkit import tracing as tracing_kit

PASSWORD = "pw-Fangkong-2022"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _deadline(hours: int = 6) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _post_task(client: Client, tree: Any, **extra: Any) -> Any:
    data = {
        "title": "排查乌镇镇重点场所",
        "body": "对病例活动轨迹涉及场所开展排查。",
        "priority": "extra_urgent",
        "deadline": _deadline(),
        "reply_required": "1",
        "department_ids": [str(kit.department("health").pk)],
        "town_paths": [tree.town_a.path],
    }
    data.update(extra)
    return client.post(reverse("command:task_new"), data)


def test_dispatch_page_then_town_accepts_and_replies(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any
) -> None:
    command = _client(command_user)
    upload = SimpleUploadedFile("部署方案.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    response = _post_task(command, tree, attachments=[upload])
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "command:task_detail", kwargs={"pk": task.pk}
    )
    attachment = TaskAttachment.objects.get(task=task)
    assert attachment.name == "部署方案.pdf" and b"plan" not in bytes(attachment.data)  # sealed

    town = _client(town_a_user)
    listing = town.get(reverse("command:task_list")).content.decode()
    assert task.number in listing and "乌镇镇" in listing
    detail = town.get(reverse("command:task_detail", kwargs={"pk": task.pk})).content.decode()
    assert 'data-testid="part-accept"' in detail and "卫健局" not in detail.split("承办情况")[1]
    download = town.get(
        reverse("command:task_attachment", kwargs={"pk": task.pk, "attachment_id": attachment.pk})
    )
    assert download.status_code == 200 and download.content == b"%PDF-1.4 plan"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="task.attachment_download").count() == 1

    part = Assignment.objects.get(task=task, jurisdiction_path=tree.town_a.path)
    act = lambda action, **data: town.post(  # noqa: E731
        reverse("command:task_part_action", kwargs={"pk": part.pk, "action": action}), data
    )
    assert act("accept").status_code == 302
    assert act("progress", text="已排查 12 家").status_code == 302
    assert act("reply", text="排查完毕，未见异常").status_code == 302
    part.refresh_from_db()
    assert part.status == AssignmentStatus.REPLIED and part.reply == "排查完毕，未见异常"
    # command sees the reply and closes it
    page = command.get(reverse("command:task_detail", kwargs={"pk": task.pk})).content.decode()
    assert "排查完毕，未见异常" in page and 'data-testid="part-close"' in page


def test_scoping_of_pages(
    tree: Any, command_user: Any, town_a_user: Any, town_b_user: Any, make_user: Any
) -> None:
    task = kit.task(actor=command_user, town_paths=[tree.town_a.path], department_codes=["health"])
    attachment_url = reverse("command:task_attachment", kwargs={"pk": task.pk, "attachment_id": 1})
    detail_url = reverse("command:task_detail", kwargs={"pk": task.pk})
    part = Assignment.objects.get(task=task, jurisdiction_path=tree.town_a.path)
    accept_url = reverse("command:task_part_action", kwargs={"pk": part.pk, "action": "accept"})

    other_town = _client(town_b_user)
    assert other_town.get(detail_url).status_code == 404
    assert other_town.get(attachment_url).status_code == 404
    assert other_town.post(accept_url).status_code == 404
    assert task.number not in other_town.get(reverse("command:task_list")).content.decode()
    police = _client(kit.department_user("police"))
    assert police.get(detail_url).status_code == 404
    health = _client(kit.department_user("health"))
    assert health.get(detail_url).status_code == 200
    # the health department may not act on the town's part (it does not even see it)
    assert health.post(accept_url).status_code == 404
    for role in (Role.HOTLINE, Role.SITE_STAFF, Role.INVESTIGATOR):
        wrong = _client(make_user(role, tree.city if role != Role.SITE_STAFF else tree.town_a))
        assert wrong.get(reverse("command:task_list")).status_code == 403
        assert wrong.get(detail_url).status_code == 403
    # a town may not dispatch
    assert _client(town_a_user).get(reverse("command:task_new")).status_code == 403
    part.refresh_from_db()
    assert part.status == AssignmentStatus.DISPATCHED


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"deadline": "tomorrow"}, "deadline_invalid"),
        ({"priority": "now"}, "priority_invalid"),
        ({"town_paths": ["330483999"]}, "town_unknown"),
        ({"department_ids": ["x"]}, "department_unknown"),
        ({"department_ids": [], "town_paths": []}, "assignee_required"),
        (
            {"attachments": [SimpleUploadedFile("x.html", b"<script>", content_type="text/html")]},
            "attachment_type",
        ),
    ],
)
def test_bad_input_is_400_and_writes_nothing(
    tree: Any, command_user: Any, change: dict[str, Any], code: str
) -> None:
    response = _post_task(_client(command_user), tree, **change)
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()
    assert not Task.objects.exists() and not Assignment.objects.exists()
    assert not TaskAttachment.objects.exists()


def test_the_case_page_offers_a_task_prefilled(
    tree: Any, command_user: Any, town_a_user: Any
) -> None:
    case = tracing_kit.case_in(tree.community_a)
    page = (
        _client(command_user)
        .get(reverse("tracing:case_detail", kwargs={"pk": case.pk}))
        .content.decode()
    )
    assert 'data-testid="object-action-task-dispatch"' in page
    town_page = _client(town_a_user).get(reverse("tracing:case_detail", kwargs={"pk": case.pk}))
    assert "object-action-task-dispatch" not in town_page.content.decode()

    form = (
        _client(command_user)
        .get(
            reverse("command:task_new"),
            {"source_type": "case", "source_id": str(case.pk), "source_label": case.number},
        )
        .content.decode()
    )
    assert reverse("tracing:case_detail", kwargs={"pk": case.pk}) in form
    assert f'value="{case.number}"' in form
    response = _post_task(
        _client(command_user),
        tree,
        source_type="case",
        source_id=str(case.pk),
        source_label=case.number,
    )
    task = Task.objects.get()
    assert response.status_code == 302 and (task.source_type, task.source_id) == (
        "case",
        str(case.pk),
    )
    case_url = reverse("tracing:case_detail", kwargs={"pk": case.pk})
    task_url = reverse("command:task_detail", kwargs={"pk": task.pk})
    # command's task page links back to the case; the town's names it without a link
    assert case_url in _client(command_user).get(task_url).content.decode()
    town_detail = _client(town_a_user).get(task_url).content.decode()
    assert case.number in town_detail and case_url not in town_detail


def test_list_pages_through(tree: Any, command_user: Any) -> None:
    for _ in range(33):
        kit.task(actor=command_user, town_paths=[tree.town_a.path])
    client = _client(command_user)
    first = client.get(reverse("command:task_list"))
    assert first.content.decode().count('data-testid="task-row"') == 30
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("command:task_list"), {"cursor": cursor})
    assert second.content.decode().count('data-testid="task-row"') == 3
