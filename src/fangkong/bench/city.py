"""bench city: build the drill city into a fresh temporary SQLite file.

Product path: `fangkong drill city` in a subprocess (its own database, so the running
one is never touched). Baseline: the very same scan rows inserted by a bare sqlite3
`executemany` into a fresh copy of the table (with its indexes, one transaction).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fangkong.bench import Log, result
from fangkong.bench.timing import per_second

DESCRIPTION = "build the drill city into a temporary SQLite file; vs bare sqlite3 executemany"
SCAN_TABLE = "scans_venuescan"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")


def _fangkong(args: list[str], env: dict[str, str]) -> str:
    completed = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "fangkong.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"fangkong {' '.join(args)} failed:\n{completed.stderr[-2000:]}")
    return completed.stdout


def raw_sqlite_insert(source: Path, target: Path) -> tuple[int, float]:
    """Copy the built scans with a bare sqlite3 executemany; returns (rows, seconds)."""
    src = sqlite3.connect(source)
    ddl = [
        sql
        for (sql,) in src.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
            "ORDER BY type DESC",  # the table before its indexes
            [SCAN_TABLE],
        )
    ]
    rows = src.execute(
        f"SELECT person_id, place_id, scanned_at, scan_day, jurisdiction_path FROM {SCAN_TABLE}"  # noqa: S608
    ).fetchall()
    src.close()
    dst = sqlite3.connect(target, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        dst.execute(sql)
    started = time.perf_counter()
    dst.execute("BEGIN")
    dst.executemany(
        f"INSERT INTO {SCAN_TABLE} (person_id, place_id, scanned_at, scan_day, "  # noqa: S608
        "jurisdiction_path) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    dst.execute("COMMIT")
    seconds = time.perf_counter() - started
    dst.close()
    return len(rows), seconds


def run(options: dict[str, Any], log: Log) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="fk-bench-city-"))
    database = workdir / "city.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "FANGKONG_VAR_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "fangkong.settings",
    }
    env.pop("FANGKONG_TEST_DB", None)
    try:
        log(f"migrating a fresh database at {database}")
        _fangkong(["migrate", "--noinput", "-v0"], env)
        log(f"building a city of {options['population']:,} persons, {options['days']} day(s)")
        started = time.perf_counter()
        out = _fangkong(
            [
                "drill",
                "city",
                "--population",
                str(options["population"]),
                "--days",
                str(options["days"]),
                "--seed",
                str(options["seed"]),
                "--quiet",
                "--summary-json",
            ],
            env,
        )
        wall = time.perf_counter() - started
        summary = json.loads(out.strip().splitlines()[-1])
        counts, timings = summary["counts"], summary["timings"]
        log("baseline: the same scan rows through a bare sqlite3 executemany")
        raw_rows, raw_seconds = raw_sqlite_insert(database, workdir / "raw.sqlite3")
        scans = int(counts.get("scans", 0))
        insert_and_index = float(timings.get("scan_insert_s", 0)) + float(
            timings.get("scan indexes", 0)
        )
        return result(
            "city",
            scale={
                "population": options["population"],
                "days": options["days"],
                "seed": options["seed"],
                "persons": counts.get("persons", 0),
                "scans": scans,
                "database": "sqlite",
            },
            metrics={
                "total_s": round(float(summary["seconds"]), 3),
                "wall_s_with_process_start": round(wall, 3),
                "persons_per_s": per_second(int(counts["persons"]), float(timings["persons"])),
                "scans_per_s": per_second(scans, float(timings.get("scans_total_s", 0))),
                "scan_insert_per_s": per_second(scans, insert_and_index),
                "raw_sqlite_insert_scans_per_s": per_second(raw_rows, raw_seconds),
            },
            counts=counts,
            timings=timings,
            notes=(
                "scans_per_s: generate + insert + index rebuild; scan_insert_per_s: insert "
                "(+ index rebuild when suspended) only; baseline inserts the same rows into "
                "an indexed table with one bare executemany"
            ),
        )
    finally:
        if options.get("keep"):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
