"""`fangkong drill <subcommand>`: peacetime drills on the real system.

fangkong drill city --population 20000 --days 7 --seed 2022 [--start 2022-07-04|auto] [--force]
fangkong drill outbreak [--through-day 0]
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from fangkong.core.errors import DomainError
from fangkong.drill.city import DEFAULT_START, drill_city_build, drill_city_current
from fangkong.drill.models import DrillCity, DrillDay
from fangkong.drill.outbreak import (
    LAST_DAY,
    drill_outbreak,
    outbreak_day0,
    outbreak_day_on,
    start_for_now,
)
from fangkong.drill.progress import Progress

AUTO = "auto"


def _start(value: str) -> dt.date | str:
    if value == AUTO:
        return AUTO
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD) nor auto: {value}") from exc


class Command(BaseCommand):
    help = "Peacetime drills: build the synthetic city, play the reference outbreak on it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        city = sub.add_parser("city", help="build the synthetic drill city (演练城市)")
        city.add_argument("--population", type=int, default=20_000)
        city.add_argument("--days", type=int, default=7, help="days of venue scans")
        city.add_argument("--seed", type=int, default=2022)
        city.add_argument(
            "--start",
            type=_start,
            default=DEFAULT_START,
            help="first scan day, or auto: the outbreak's last played day is yesterday "
            "(Asia/Shanghai); with auto an existing city is kept as it is",
        )
        city.add_argument(
            "--force", action="store_true", help="delete the drill data first and rebuild"
        )
        city.add_argument("--quiet", action="store_true", help="no progress display")
        city.add_argument(
            "--summary-json", action="store_true", help="print the summary as one JSON line"
        )

        outbreak = sub.add_parser(
            "outbreak", help="play the reference outbreak on the drill city, day by day"
        )
        outbreak.add_argument("--through-day", type=int, default=LAST_DAY)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "city":
            self._city(options)
        elif options["subcommand"] == "outbreak":
            self._outbreak(options)

    def _outbreak(self, options: dict[str, Any]) -> None:
        try:
            reports = drill_outbreak(through_day=options["through_day"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        for report in reports:
            state = "played" if report.played else "already played"
            self.stdout.write(f"day {report.day} ({report.on_date}): {state}")
            self.stdout.write("  " + json.dumps(report.summary, ensure_ascii=False))

    def _kept(self, city: DrillCity) -> None:
        today = timezone.localdate()
        day = outbreak_day_on(city, today)
        played = DrillDay.objects.filter(city=city).count()
        self.stdout.write(
            f"kept: drill city seed={city.seed} population={city.population} "
            f"days={city.days} start={city.start}; today ({today}) is day {day} of its "
            f"outbreak (day 0 {outbreak_day0(city)}, {played} day(s) played); nothing added"
        )

    def _city(self, options: dict[str, Any]) -> None:
        start = options["start"]
        if start == AUTO:
            existing = drill_city_current()
            if existing is not None and not options["force"]:
                self._kept(existing)
                return
            start = start_for_now(days=options["days"], now=timezone.now())
        progress = Progress(cast(TextIO, self.stderr._out), enabled=not options["quiet"])
        try:
            result = drill_city_build(
                population=options["population"],
                days=options["days"],
                seed=options["seed"],
                start=start,
                force=options["force"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        city = result.drill_city
        if not result.built:
            self.stdout.write(
                f"already built: drill city seed={city.seed} population={city.population} "
                f"days={city.days} start={city.start} (built {city.built_at:%Y-%m-%d %H:%M}); "
                "nothing added"
            )
        else:
            self.stdout.write(
                f"drill city built: seed={city.seed} population={city.population} "
                f"days={city.days} start={city.start} in {result.seconds:.1f} s"
            )
            for table, count in result.counts.items():
                self.stdout.write(f"  {table:<14} {count:>12,}")
            for stage, seconds in result.timings.items():
                self.stdout.write(f"  {stage:<14} {seconds:>10.2f} s")
        if options["start"] == AUTO:
            day0 = outbreak_day0(city)
            self.stdout.write(
                f"the outbreak is played relative to today: day 0 is {day0}, "
                f"day {LAST_DAY} {day0 + dt.timedelta(days=LAST_DAY)}"
            )
        if options["summary_json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "built": result.built,
                        "counts": result.counts,
                        "seconds": round(result.seconds, 3),
                        "timings": {k: round(v, 3) for k, v in result.timings.items()},
                    }
                )
            )
