"""The page edge of command: one PageForm per page input."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.command.choices import TaskPriority, TaskStatus
from fangkong.core.pages import FlagField, IsoDateField, LocalDateTimeField, PageForm, PkListField

ASSIGNEES_LIMIT = 60
BOXES = ("mine", "dispatched")


class TaskFilterForm(PageForm):
    box = forms.ChoiceField(required=False, choices=[("", ""), *((b, b) for b in BOXES)])
    status = forms.ChoiceField(required=False, choices=[("", ""), *TaskStatus.choices])
    cursor = forms.CharField(required=False, max_length=1024)


class TaskSourceForm(PageForm):
    """The object a new task is made from (`?source_type=case&source_id=7&source_label=…`)."""

    source_type = forms.CharField(required=False, max_length=40)
    source_id = forms.CharField(required=False, max_length=40)
    source_label = forms.CharField(required=False, max_length=100)


class TaskForm(TaskSourceForm):
    codes = {
        "title": "title_required",
        "body": "body_required",
        "priority": "priority_invalid",
        "deadline": "deadline_invalid",
        "town_paths": "town_unknown",
        "department_ids": "department_unknown",
    }

    title = forms.CharField(max_length=100, label=_("任务标题"))
    body = forms.CharField(max_length=4000, label=_("任务要求"))
    priority = forms.ChoiceField(choices=TaskPriority.choices, label=_("紧急程度"))
    deadline = LocalDateTimeField(label=_("办理时限"))
    reply_required = FlagField()
    department_ids = PkListField(limit=ASSIGNEES_LIMIT)
    town_paths = forms.MultipleChoiceField(required=False, choices=[])

    def __init__(self, data: Any = None, *, town_paths: list[str], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["town_paths"])
        field.choices = [(p, p) for p in town_paths]


class PartTextForm(PageForm):
    """A progress report, a reply or a return's reason."""

    text = forms.CharField(required=False, max_length=4000)


class SplitForm(PageForm):
    codes = {"community_paths": "community_unknown", "deadline": "deadline_invalid"}

    department_ids = PkListField(limit=ASSIGNEES_LIMIT)
    community_paths = forms.MultipleChoiceField(required=False, choices=[])
    deadline = LocalDateTimeField(required=False, label=_("分办时限"))
    note = forms.CharField(required=False, max_length=4000)

    def __init__(self, data: Any = None, *, community_paths: list[str], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["community_paths"])
        field.choices = [(p, p) for p in community_paths]


class OverdueFilterForm(PageForm):
    """The overdue board's filters: one kind (a registered code) and one owner
    (`<owner kind>:<owner key>`)."""

    kind = forms.CharField(required=False, max_length=64)
    owner = forms.CharField(required=False, max_length=100)


class SituationDayForm(PageForm):
    """The dashboard's day (default today)."""

    day = IsoDateField(required=False, label=_("日期"))
    codes: ClassVar[dict[str, str]] = {"day": "date_invalid"}
