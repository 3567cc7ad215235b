"""`fangkong periodic`: enqueue the outbreak response's periodic jobs once.

Run it from cron or a systemd timer every few minutes (`*/5 * * * * fangkong periodic`).
Each job is idempotent, so running it more often than needed changes nothing:

- escalate cases past their core-facts or report deadline (once per case);
- escalate pushed lists past their deadline (once per list);
- close yesterday (Asia/Shanghai) on every active zone's no-case counter (once per day);
- escalate single-tube rechecks past their deadline without a result (once per recheck);
- escalate quarantine-site rectifications past their deadline (once per rectification);
- escalate the parts of command's tasks past their deadline and still owed (once per part);
- purge the login lockout's records no lock reads any more (old failures and addresses);
- mark failed the background jobs whose worker died (no heartbeat), so they can be re-run;
- close the placements at home (home quarantine, home health monitoring) past their end;
- recompute command's figures of the situation at a glance (today's snapshot).
- tell each town whose daily report is missing at the rule set's hour (once a town a day).

It lives in the web app, above every domain, because it runs jobs of all of them.

Jobs go through Django's task interface: in-process with the immediate backend, to the
worker with the database backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from fangkong.accounts.tasks import login_records_purge
from fangkong.areas.tasks import zones_close_day
from fangkong.command.tasks import figures_refresh_job
from fangkong.command.tasks_assignments import task_assignments_escalate_overdue
from fangkong.command.tasks_town_reports import town_reports_remind_missing
from fangkong.core.tasks import jobs_reap_stale
from fangkong.quarantine.tasks_care import home_placements_close_due
from fangkong.quarantine.tasks_inspections import rectifications_escalate_overdue
from fangkong.testing.tasks_labs import rechecks_escalate_overdue
from fangkong.tracing.tasks import cases_escalate_overdue
from fangkong.tracing.tasks_pushes import pushes_escalate_overdue


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (escalations, zone day counters, rechecks, "
        "rectifications, login record purge, dead jobs, placements at home past their "
        "end, command's figures, missing town reports) once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        for name, result in (
            ("cases_escalate_overdue", cases_escalate_overdue.enqueue()),
            ("pushes_escalate_overdue", pushes_escalate_overdue.enqueue()),
            ("zones_close_day", zones_close_day.enqueue(yesterday.isoformat())),
            ("rechecks_escalate_overdue", rechecks_escalate_overdue.enqueue()),
            ("rectifications_escalate_overdue", rectifications_escalate_overdue.enqueue()),
            (
                "task_assignments_escalate_overdue",
                task_assignments_escalate_overdue.enqueue(),
            ),
            ("login_records_purge", login_records_purge.enqueue()),
            ("jobs_reap_stale", jobs_reap_stale.enqueue()),
            ("home_placements_close_due", home_placements_close_due.enqueue()),
            ("figures_refresh_job", figures_refresh_job.enqueue()),
            ("town_reports_remind_missing", town_reports_remind_missing.enqueue()),
        ):
            self.stdout.write(f"{name}: {result.status}")
