"""Pages of tasks (条块协同): the list (mine / dispatched), the new task form (from an
object, prefilled), the task with its parts side by side and each assignee's actions, and
the attachments' downloads. A town sees only its own tasks (404 otherwise), a department
only its own; a role without `task.view` is refused (403)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.audit_vocabulary import object_label, object_url
from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.accounts.types import AuthedRequest
from fangkong.areas import selectors as area_selectors
from fangkong.command.choices import AssignmentStatus, TaskPriority, TaskStatus
from fangkong.command.forms import PartTextForm, SplitForm, TaskFilterForm, TaskForm, TaskSourceForm
from fangkong.command.selectors import tasks as selectors
from fangkong.command.selectors.task_sources import task_source_summary
from fangkong.command.services import tasks as services
from fangkong.core.attachments import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENTS_MAX,
    attachment_check,
    attachment_response,
)
from fangkong.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.pages import refusal_message
from fangkong.core.pagination import keyset_page

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.command.models import Assignment

PAGE_SIZE = 30
DEFAULT_HOURS = 24  # a new task's deadline unless command sets another
TOWNS_MAX = 200
COMMUNITIES_MAX = 500


def _towns(user: User) -> list[Any]:
    return area_selectors.jurisdictions_in_scope(user=user, levels=["town"], limit=TOWNS_MAX)


# --- the list --------------------------------------------------------------------------


@require_GET
@login_required
def task_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.TASK_VIEW)
    manages = selectors.manages_tasks(user)
    filters = TaskFilterForm(request.GET).lenient()
    # command sees what it dispatched; an assignee what was given to its unit
    box = "dispatched" if manages else "mine"
    status = filters["status"] or ""
    qs = selectors.tasks(user=user, box=box, status=status).select_related("created_by")
    page = keyset_page(
        qs,
        cursor=filters["cursor"] or None,
        size=PAGE_SIZE,
        order=selectors.TASK_ORDER,
        with_total=True,
    )
    parts = selectors.parts_by_task(user=user, tasks=page.items)
    rows = [{"task": t, "parts": parts.get(t.pk, [])} for t in page.items]
    return render(
        request,
        "command/task_list.html",
        {
            "page": page,
            "rows": rows,
            "box": box,
            "status": status,
            "statuses": TaskStatus.choices,
            "manages": manages,
            "counts": selectors.task_counts(user=user, now=timezone.now()),
            "now": timezone.now(),
        },
    )


# --- a new task ------------------------------------------------------------------------


def _files(request: AuthedRequest) -> list[tuple[str, bytes]]:
    """The uploaded attachments, each checked (kind, size) before anything is written."""
    uploads = request.FILES.getlist("attachments")
    if len(uploads) > ATTACHMENTS_MAX:
        raise InvalidInput(
            "attachments_too_many", _("每个任务最多 5 个附件"), limit=ATTACHMENTS_MAX
        )
    out = []
    for upload in uploads:
        size = int(upload.size or 0)
        attachment_check(name=upload.name or "", size=size)
        if size > ATTACHMENT_MAX_BYTES:  # checked above; never read more than the limit
            continue
        out.append((upload.name or "", upload.read(ATTACHMENT_MAX_BYTES + 1)))
    return out


@require_http_methods(["GET", "POST"])
@login_required
def task_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    require(user, Capability.TASK_MANAGE)
    towns = _towns(user)
    departments = list(selectors.departments(user=user))
    source = TaskSourceForm(request.GET).lenient()
    error: DomainError | None = None
    default_deadline = timezone.localtime(timezone.now() + dt.timedelta(hours=DEFAULT_HOURS))
    echo: dict[str, Any] = {
        "priority": TaskPriority.URGENT,
        "reply_required": "1",
        "deadline": default_deadline.replace(minute=0).strftime("%Y-%m-%dT%H:%M"),
        "title": source["source_label"]
        and _("关于%(kind)s %(label)s 的处置任务")
        % {"kind": object_label(source["source_type"] or ""), "label": source["source_label"]},
    }
    chosen_departments: set[int] = set()
    chosen_towns: set[str] = set()
    if request.method == "POST":
        form = TaskForm(request.POST, town_paths=[t.path for t in towns])
        echo = form.echo()
        chosen_departments = {int(v) for v in request.POST.getlist("department_ids") if v.isdigit()}
        chosen_towns = set(request.POST.getlist("town_paths"))
        try:
            data = form.cleaned()
            files = _files(request)
            with transaction.atomic():
                task = services.task_create(
                    actor=user,
                    title=data["title"],
                    body=data["body"],
                    priority=data["priority"],
                    deadline=data["deadline"],
                    department_ids=data["department_ids"],
                    town_paths=list(data["town_paths"]),
                    reply_required=data["reply_required"],
                    source_type=data["source_type"],
                    source_id=data["source_id"],
                    source_label=data["source_label"],
                    ip=client_address(request),
                )
                for name, content in files:
                    services.task_attach(
                        actor=user, task=task, name=name, data=content, ip=client_address(request)
                    )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("任务 %(number)s 已派发") % {"number": task.number})
            return redirect("command:task_detail", pk=task.pk)
    else:
        echo.update({k: v or "" for k, v in source.items()})
        # From an object: a de-identified summary of it, and its town ticked.
        summary = task_source_summary(
            user=user, object_type=echo["source_type"], object_id=echo["source_id"]
        )
        echo["body"] = summary.body
        chosen_towns = set(summary.town_paths) & {t.path for t in towns}
    src_type = echo.get("source_type") or ""
    src_id = echo.get("source_id") or ""
    return render(
        request,
        "command/task_form.html",
        {
            "form": echo,
            "error": error,
            "status": 400 if error else 200,
            "towns": towns,
            "departments": departments,
            "chosen_departments": chosen_departments,
            "chosen_towns": chosen_towns,
            "priorities": TaskPriority.choices,
            "source_kind": object_label(src_type),
            "source_url": object_url(src_type, src_id),
        },
        status=400 if error else 200,
    )


# --- a task ----------------------------------------------------------------------------


def _part_view(user: User, part: Assignment) -> dict[str, Any]:
    assignee = selectors.is_assignee(user, part)
    reviewer = selectors.is_reviewer(user, part)
    working = part.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.RETURNED)
    return {
        "part": part,
        "events": list(part.events.all()),
        "can_accept": assignee and part.status == AssignmentStatus.DISPATCHED,
        "can_work": assignee and working,
        "can_split": assignee and working and part.parent_id is None,
        "can_review": reviewer and part.status == AssignmentStatus.REPLIED,
        "overdue": part.status
        in (AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED, AssignmentStatus.RETURNED)
        and part.deadline_at < timezone.now(),
    }


@require_GET
@login_required
def task_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    task = selectors.task_get(user=user, pk=pk)
    parts = selectors.task_assignments(user=user, task=task)
    views = [_part_view(user, p) for p in parts]
    top = [v for v in views if v["part"].parent_id is None]
    children: dict[int, list[dict[str, Any]]] = {}
    for v in views:
        if v["part"].parent_id is not None:
            children.setdefault(v["part"].parent_id, []).append(v)
    for v in top:
        v["children"] = children.pop(v["part"].pk, [])
    # a split part whose parent the user does not see (a community's own part)
    orphans = [v for rows in children.values() for v in rows]
    splitting = next((v["part"] for v in top if v["can_split"]), None)
    return render(
        request,
        "command/task_detail.html",
        {
            "task": task,
            "parts": top + [{**v, "children": []} for v in orphans],
            "attachments": list(
                task.attachments.order_by("pk").only("pk", "name", "size", "task_id")
            ),
            "source_kind": object_label(task.source_type),
            # the object's page only for command (city-wide, every page): an assignee
            # may not open a case or a push of another town, or any case at all
            "source_url": object_url(task.source_type, task.source_id)
            if selectors.manages_tasks(user)
            else "",
            "departments": [
                d
                for d in selectors.departments(user=user)
                if splitting is not None and splitting.department_id not in (None, d.pk)
            ],
            "communities": _split_communities(user, splitting),
            "manages": selectors.manages_tasks(user),
        },
    )


def _split_communities(user: User, part: Assignment | None) -> list[Any]:
    if part is None or not part.jurisdiction_path:
        return []
    return area_selectors.jurisdictions_in_scope(
        user=user, levels=["community"], limit=COMMUNITIES_MAX
    )


@require_GET
@login_required
def attachment_download(request: AuthedRequest, pk: int, attachment_id: int) -> HttpResponse:
    user = request.user
    task = selectors.task_get(user=user, pk=pk)
    attachment = selectors.task_attachment_get(user=user, task=task, pk=attachment_id)
    audit_record(
        actor=user,
        action="task.attachment_download",
        object_type="task",
        object_id=task.pk,
        object_label=f"{task.number} {task.title}",
        jurisdiction_path=task.jurisdiction_path,
        detail={"attachment": attachment.pk, "name": attachment.name},
        ip=client_address(request),
    )
    return attachment_response(
        name=attachment.name, content_type=attachment.content_type, sealed=attachment.data
    )


# --- a part's actions ------------------------------------------------------------------

ACTIONS = ("accept", "progress", "reply", "close", "return", "split")
DONE_MESSAGES = {
    "accept": _lazy("已签收"),
    "progress": _lazy("已报告进展"),
    "reply": _lazy("已回复"),
    "close": _lazy("已办结"),
    "return": _lazy("已退回重办"),
    "split": _lazy("已分办"),
}


def _act(request: AuthedRequest, part: Assignment, action: str) -> None:
    user, ip = request.user, client_address(request)
    if action == "accept":
        services.assignment_accept(actor=user, assignment=part, ip=ip)
    elif action in ("progress", "reply", "return", "close"):
        text = PartTextForm(request.POST).cleaned()["text"]
        if action == "progress":
            services.assignment_progress(actor=user, assignment=part, text=text, ip=ip)
        elif action == "reply":
            services.assignment_reply(actor=user, assignment=part, text=text, ip=ip)
        elif action == "return":
            services.assignment_return(actor=user, assignment=part, note=text, ip=ip)
        else:
            services.assignment_close(actor=user, assignment=part, note=text, ip=ip)
    else:
        communities = _split_communities(user, part)
        data = SplitForm(request.POST, community_paths=[c.path for c in communities]).cleaned()
        services.assignment_split(
            actor=user,
            assignment=part,
            department_ids=data["department_ids"],
            community_paths=list(data["community_paths"]),
            deadline=data["deadline"],
            note=data["note"],
            ip=ip,
        )


@require_POST
@login_required
def part_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise NotFound("not_found", _("未找到该操作"), object="action")
    part = selectors.assignment_get(user=request.user, pk=pk)
    try:
        _act(request, part, action)
    except DomainError as exc:
        refusal_message(request, exc)
    else:
        messages.success(request, str(DONE_MESSAGES[action]))
    url = services.task_url(part.task, part)
    return redirect(url)


urlpatterns: list[URLPattern] = [
    path("tasks/", task_list, name="task_list"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:pk>/", task_detail, name="task_detail"),
    path("tasks/<int:pk>/files/<int:attachment_id>/", attachment_download, name="task_attachment"),
    path("tasks/parts/<int:pk>/<slug:action>/", part_action, name="task_part_action"),
]
