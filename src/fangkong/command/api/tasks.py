"""API of tasks (条块协同): lists (keyset-paged), the user's figures, a task with the parts
the user sees, dispatching, and each part's actions. Scoped as the pages are."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from fangkong.accounts.types import AuthedRequest
from fangkong.command.choices import TaskPriority, TaskStatus
from fangkong.command.models import Assignment, AssignmentEvent, Department, Task
from fangkong.command.selectors import tasks as selectors
from fangkong.command.services import tasks as services
from fangkong.core.apitypes import Page, PageQuery, RowId
from fangkong.core.http import client_address
from fangkong.core.pagination import keyset_page

router = Router()


def _pattern(values: list[str]) -> str:
    return "^(" + "|".join(values) + ")$"


class TaskOut(Schema):
    id: int
    number: str
    title: str
    priority: str
    priority_label: str
    deadline_at: dt.datetime
    status: str
    reply_required: bool
    created_at: dt.datetime
    source_type: str
    source_id: str
    source_label: str

    @staticmethod
    def of(task: Task) -> TaskOut:
        return TaskOut(
            id=task.pk,
            number=task.number,
            title=task.title,
            priority=task.priority,
            priority_label=str(task.get_priority_display()),
            deadline_at=task.deadline_at,
            status=task.status,
            reply_required=task.reply_required,
            created_at=task.created_at,
            source_type=task.source_type,
            source_id=task.source_id,
            source_label=task.source_label,
        )


class EventOut(Schema):
    kind: str
    text: str
    at: dt.datetime

    @staticmethod
    def of(event: AssignmentEvent) -> EventOut:
        return EventOut(kind=event.kind, text=event.text, at=event.at)


class PartOut(Schema):
    id: int
    parent_id: int | None
    assignee: str
    department_id: int | None
    jurisdiction_path: str
    status: str
    status_label: str
    deadline_at: dt.datetime
    accepted_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply: str
    closed_at: dt.datetime | None
    escalated_at: dt.datetime | None
    events: list[EventOut]

    @staticmethod
    def of(part: Assignment) -> PartOut:
        return PartOut(
            id=part.pk,
            parent_id=part.parent_id,
            assignee=part.assignee_label,
            department_id=part.department_id,
            jurisdiction_path=part.jurisdiction_path,
            status=part.status,
            status_label=str(part.get_status_display()),
            deadline_at=part.deadline_at,
            accepted_at=part.accepted_at,
            replied_at=part.replied_at,
            reply=part.reply,
            closed_at=part.closed_at,
            escalated_at=part.escalated_at,
            events=[EventOut.of(e) for e in part.events.all()],
        )


class TaskDetailOut(TaskOut):
    body: str
    parts: list[PartOut]
    attachments: list[str]


def _detail(request: AuthedRequest, task_id: int) -> TaskDetailOut:
    task = selectors.task_get(user=request.user, pk=task_id)
    parts = selectors.task_assignments(user=request.user, task=task)
    return TaskDetailOut(
        **TaskOut.of(task).model_dump(),
        body=task.body,
        parts=[PartOut.of(p) for p in parts],
        attachments=list(task.attachments.order_by("pk").values_list("name", flat=True)),
    )


class TaskListQuery(PageQuery):
    box: str = Field("", pattern="^(|mine|dispatched)$")
    status: str = Field("", pattern=_pattern(["", *TaskStatus.values]))


@router.get("/tasks", summary="List tasks (mine or dispatched)", response=Page[TaskOut])
def task_list(request: AuthedRequest, query: Query[TaskListQuery]) -> Page[TaskOut]:
    qs = selectors.tasks(user=request.user, box=query.box, status=query.status)
    page = keyset_page(qs, cursor=query.cursor, size=query.size, order=selectors.TASK_ORDER)
    return Page[TaskOut].of(page, TaskOut.of)


class TaskCountsOut(Schema):
    open: int
    dispatched: int
    replied: int
    overdue: int


@router.get("/tasks/summary", summary="The user's task figures", response=TaskCountsOut)
def task_summary(request: AuthedRequest) -> TaskCountsOut:
    return TaskCountsOut(**selectors.task_counts(user=request.user, now=timezone.now()))


class TaskIn(Schema):
    title: str = Field(..., max_length=100)
    body: str = Field(..., max_length=4000)
    priority: str = Field(..., pattern=_pattern(TaskPriority.values))
    deadline: dt.datetime
    department_ids: list[RowId] = Field(default_factory=list, max_length=60)
    town_paths: list[str] = Field(default_factory=list, max_length=60)
    reply_required: bool = True
    source_type: str = Field("", max_length=40)
    source_id: str = Field("", max_length=40)
    source_label: str = Field("", max_length=100)


@router.post("/tasks", summary="Dispatch a task", response={201: TaskDetailOut})
def task_create(request: AuthedRequest, payload: TaskIn) -> Status[TaskDetailOut]:
    task = services.task_create(
        actor=request.user,
        title=payload.title,
        body=payload.body,
        priority=payload.priority,
        deadline=payload.deadline,
        department_ids=list(payload.department_ids),
        town_paths=[str(p)[:32] for p in payload.town_paths],
        reply_required=payload.reply_required,
        source_type=payload.source_type,
        source_id=payload.source_id,
        source_label=payload.source_label,
        ip=client_address(request),
    )
    return Status(201, _detail(request, task.pk))


@router.get(
    "/tasks/{int:task_id}", summary="Get a task with the parts you see", response=TaskDetailOut
)
def task_detail(request: AuthedRequest, task_id: RowId) -> TaskDetailOut:
    return _detail(request, task_id)


class TextIn(Schema):
    text: str = Field("", max_length=4000)


def _part(request: AuthedRequest, part_id: int) -> Assignment:
    return selectors.assignment_get(user=request.user, pk=part_id)


@router.post(
    "/tasks/parts/{int:part_id}/accept", summary="Accept a part of a task", response=PartOut
)
def part_accept(request: AuthedRequest, part_id: RowId) -> PartOut:
    part = services.assignment_accept(
        actor=request.user, assignment=_part(request, part_id), ip=client_address(request)
    )
    return PartOut.of(part)


@router.post(
    "/tasks/parts/{int:part_id}/progress",
    summary="Report progress on a part of a task",
    response=PartOut,
)
def part_progress(request: AuthedRequest, part_id: RowId, payload: TextIn) -> PartOut:
    part = services.assignment_progress(
        actor=request.user,
        assignment=_part(request, part_id),
        text=payload.text,
        ip=client_address(request),
    )
    return PartOut.of(part)


@router.post(
    "/tasks/parts/{int:part_id}/reply", summary="Reply that a part is done", response=PartOut
)
def part_reply(request: AuthedRequest, part_id: RowId, payload: TextIn) -> PartOut:
    part = services.assignment_reply(
        actor=request.user,
        assignment=_part(request, part_id),
        text=payload.text,
        ip=client_address(request),
    )
    return PartOut.of(part)


@router.post("/tasks/parts/{int:part_id}/close", summary="Close a replied part", response=PartOut)
def part_close(request: AuthedRequest, part_id: RowId, payload: TextIn) -> PartOut:
    part = services.assignment_close(
        actor=request.user,
        assignment=_part(request, part_id),
        note=payload.text,
        ip=client_address(request),
    )
    return PartOut.of(part)


@router.post(
    "/tasks/parts/{int:part_id}/return", summary="Return a reply to be redone", response=PartOut
)
def part_return(request: AuthedRequest, part_id: RowId, payload: TextIn) -> PartOut:
    part = services.assignment_return(
        actor=request.user,
        assignment=_part(request, part_id),
        note=payload.text,
        ip=client_address(request),
    )
    return PartOut.of(part)


class SplitIn(Schema):
    department_ids: list[RowId] = Field(default_factory=list, max_length=60)
    community_paths: list[str] = Field(default_factory=list, max_length=60)
    deadline: dt.datetime | None = None
    note: str = Field("", max_length=4000)


class PartsOut(Schema):
    parts: list[PartOut]


@router.post(
    "/tasks/parts/{int:part_id}/split",
    summary="Split a part to sub-units",
    response={201: PartsOut},
)
def part_split(request: AuthedRequest, part_id: RowId, payload: SplitIn) -> Status[PartsOut]:
    children = services.assignment_split(
        actor=request.user,
        assignment=_part(request, part_id),
        department_ids=list(payload.department_ids),
        community_paths=[str(p)[:32] for p in payload.community_paths],
        deadline=payload.deadline,
        note=payload.note,
        ip=client_address(request),
    )
    return Status(201, PartsOut(parts=[PartOut.of(c) for c in children]))


class DepartmentOut(Schema):
    id: int
    code: str
    name: str

    @staticmethod
    def of(department: Department) -> DepartmentOut:
        return DepartmentOut(id=department.pk, code=department.code, name=department.name)


@router.get(
    "/departments", summary="List the departments tasks go to", response=Page[DepartmentOut]
)
def department_list(request: AuthedRequest, paging: Query[PageQuery]) -> Page[DepartmentOut]:
    qs = selectors.departments(user=request.user)
    page = keyset_page(qs, cursor=paging.cursor, size=paging.size, order=selectors.DEPARTMENT_ORDER)
    return Page[DepartmentOut].of(page, DepartmentOut.of)
