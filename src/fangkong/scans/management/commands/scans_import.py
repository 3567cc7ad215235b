"""`fangkong scans_import FILE [--strict] [--format csv|parquet] [--user NAME]
[--max-rows N]`: ingest a scan-log file through `scans.ingest.scans_import_file` and
print the report. The file is read into memory before it is written: `--max-rows`
raises the upload's row limit (500,000) for a large log on a machine that has the room.

The acting account (default: the first active admin) needs the scans.import capability;
the import is audited under it like an upload from the page.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.accounts.selectors import active_account
from fangkong.core.errors import DomainError
from fangkong.scans.ingest import scans_import_file

if TYPE_CHECKING:
    from fangkong.accounts.models import User


class Command(BaseCommand):
    help = "Ingest a venue-scan log (CSV or Parquet); idempotent, prints the report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--strict", action="store_true", help="any bad row aborts")
        parser.add_argument("--format", choices=["csv", "parquet"], default=None)
        parser.add_argument("--user", default=None, help="acting account (default: an admin)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--max-rows", type=int, default=None, help="row limit (default 500,000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["user"])
        try:
            report = scans_import_file(
                actor=actor,
                path=options["file"],
                fmt=options["format"],
                strict=options["strict"],
                max_rows=options["max_rows"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {json.dumps(exc.detail)}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        if report.already_imported:
            self.stdout.write(f"{report.name}: already imported (#{report.import_id}), 0 added")
            return
        self.stdout.write(
            f"{report.name} ({report.fmt}, sha256 {report.sha256[:12]}): rows {report.rows}, "
            f"added {report.added}, already present {report.duplicates}, bad {report.bad}"
        )
        for bad in report.bad_rows:
            self.stdout.write(f"  line {bad.line}: {bad.code} {bad.message} {bad.value}".rstrip())
        if report.bad > len(report.bad_rows):
            self.stdout.write(f"  ... {report.bad - len(report.bad_rows)} more bad rows")

    def _actor(self, username: str | None) -> User:
        user = active_account(username=username)
        if user is None:
            raise CommandError(f"no active account {username or '(admin)'}")
        return user
