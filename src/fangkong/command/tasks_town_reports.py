"""Background jobs of the towns' daily reports: thin wrappers that call services."""

from __future__ import annotations

from django_tasks import task

from fangkong.command.services import town_reports


@task()
def town_reports_remind_missing() -> int:
    """Tell each town whose report for today is missing at the rule set's hour, once a
    town a day (`fangkong periodic`). Returns how many towns were told by this run."""
    return town_reports.town_reports_remind_missing()
