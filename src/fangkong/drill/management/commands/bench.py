"""`fangkong bench NAME [--json] [options]` and `fangkong bench --list`.

The last line of output is always one JSON object (see fangkong/bench/__init__.py).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.bench import REGISTRY, bench_list, bench_module


class Command(BaseCommand):
    help = "Run a benchmark (product path vs a baseline); --list shows them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="list the benchmarks")
        sub = parser.add_subparsers(dest="bench")
        for name in REGISTRY:
            module = bench_module(name)
            bench_parser = sub.add_parser(name, help=getattr(module, "DESCRIPTION", ""))
            bench_parser.add_argument(
                "--json", action="store_true", help="print only the JSON result line"
            )
            module.add_arguments(bench_parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"] or not options.get("bench"):
            names = bench_list()
            for name, description in names:
                self.stdout.write(f"{name:<16} {description}")
            self.stdout.write(json.dumps({"benches": [name for name, _ in names]}))
            return
        name = options["bench"]
        quiet = options.get("json", False)

        def log(message: str) -> None:
            if not quiet:
                self.stderr.write(message)

        try:
            outcome = bench_module(name).run(options, log)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            for key, value in outcome.get("metrics", {}).items():
                self.stdout.write(f"  {key:<36} {value}")
        self.stdout.write(json.dumps(outcome, ensure_ascii=False, default=str))
