"""Pages of the towns' daily reports (听取汇报): the towns side by side for a day
(command: every town; a town: its own), the town's form for today (phone-friendly), and
command's actions on a report (read) and on a problem (turn it into a task)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require, scope_path
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.command.forms_town_reports import NEED_ROWS, DayForm, TownReportForm
from fangkong.command.models import TownReportNeedKind
from fangkong.command.selectors import town_reports as selectors
from fangkong.command.services import town_reports as services
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.paths import town_of


def _day(request: AuthedRequest) -> dt.date:
    day = DayForm(request.GET).lenient()["day"]
    return day if isinstance(day, dt.date) else timezone.localdate()


def _own_town(request: AuthedRequest) -> str:
    """The town a town's staff writes for ("" for anyone not bound to a town)."""
    own = scope_path(request.user)
    if not has_capability(request.user, Capability.TOWN_REPORT_SUBMIT):
        return ""
    return own if own and town_of(own) == own else ""


@require_GET
@login_required
def town_reports(request: AuthedRequest) -> HttpResponse:
    """The towns side by side for a day, with their state, problems and needs."""
    user = request.user
    day = _day(request)
    today = timezone.localdate()
    rows = selectors.town_report_rows(user=user, day=day)
    counts = dict.fromkeys(selectors.STATES, 0)
    for row in rows:
        counts[row.state] += 1
    own = _own_town(request)
    return render(
        request,
        "command/town_reports.html",
        {
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "rows": rows,
            "counts": counts,
            "overdue": sum(1 for r in rows if r.overdue),
            "can_review": has_capability(user, Capability.TOWN_REPORT_REVIEW),
            "own_town": own,
            "can_submit": bool(own) and day == today,
            # Turning a problem into a task needs tasks (command.services.tasks).
            "can_task": False,
            "task_url_name": "",
        },
    )


def _initial(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    data: dict[str, Any] = {
        "progress": report.progress,
        "problems": "\n".join(p.text for p in report.problems.all()),
    }
    for n, need in enumerate(report.needs.all(), start=1):
        if n > NEED_ROWS:
            break
        data.update(
            {
                f"need_kind_{n}": need.kind,
                f"need_item_{n}": need.item,
                f"need_quantity_{n}": need.quantity if need.quantity is not None else "",
                f"need_unit_{n}": need.unit,
            }
        )
    return data


@require_http_methods(["GET", "POST"])
@login_required
def town_report_submit(request: AuthedRequest) -> HttpResponse:
    """The town's report for today: progress, problems (one a line), needs."""
    user = request.user
    require(user, Capability.TOWN_REPORT_SUBMIT)
    own = _own_town(request)
    if not own:
        raise PermissionDenied("town_report_town_only", _("镇街工作日报只能由本镇街工作人员报送"))
    today = timezone.localdate()
    report = selectors.town_report_of(user=user, town_path=own, day=today)
    editable = selectors.town_report_editable(report)
    values: dict[str, Any] = _initial(report)
    errors: dict[str, str] = {}
    error: str = ""
    status = 200
    if request.method == "POST":
        form = TownReportForm(request.POST)
        values = form.echo()
        if not form.is_valid():
            errors = form.messages()
            error = form.refusal().message
            status = 400
        else:
            try:
                services.town_report_submit(
                    actor=user,
                    town_path=own,
                    day=today,
                    progress=form.cleaned_data["progress"],
                    problems=form.problem_lines(),
                    needs=form.need_rows(),
                    ip=client_address(request),
                )
            except (PermissionDenied, NotFound):
                raise
            except DomainError as exc:
                error = exc.message
                status = 409 if exc.code in ("town_report_read", "town_report_exists") else 400
            else:
                messages.success(request, _("已报送今日工作日报"))
                return redirect(f"{request.path}?saved=1")
    rows = [
        {
            "n": n,
            "kind": values.get(f"need_kind_{n}", ""),
            "item": values.get(f"need_item_{n}", ""),
            "quantity": values.get(f"need_quantity_{n}", ""),
            "unit": values.get(f"need_unit_{n}", ""),
        }
        for n in range(1, NEED_ROWS + 1)
    ]
    due = services.town_report_due(town_path=own, day=today)
    return render(
        request,
        "command/town_report_form.html",
        {
            "report": report,
            "editable": editable,
            "values": values,
            "need_rows": rows,
            "need_kinds": TownReportNeedKind.choices,
            "errors": errors,
            "error": error,
            "today": today,
            "due_at": due.value,
            "town_name": selectors.town_name(own),
        },
        status=status,
    )


@require_POST
@login_required
def town_report_read(request: AuthedRequest, pk: int) -> HttpResponse:
    """Command marks a report read (阅知): the town can no longer edit it."""
    report = services.town_report_mark_read(
        actor=request.user, report_id=pk, ip=client_address(request)
    )
    messages.success(request, _("已阅知"))
    return redirect(f"{_list_url()}?day={report.day.isoformat()}#town-{report.town_path}")


def _list_url() -> str:
    return reverse("command:town_reports")


urlpatterns: list[URLPattern] = [
    path("town-reports/", town_reports, name="town_reports"),
    path("town-reports/submit/", town_report_submit, name="town_report_submit"),
    path("town-reports/<int:pk>/read/", town_report_read, name="town_report_read"),
]
