"""A small progress printer for long builds (stderr; no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`stage(name, total)`, then `advance(n)`; redraws at most 5 times a second."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.name = ""
        self.total = 0
        self.done = 0
        self.started = time.perf_counter()
        self._drawn = 0.0
        self.timings: dict[str, float] = {}

    def stage(self, name: str, total: int = 0) -> None:
        self.finish()
        self.name, self.total, self.done = name, total, 0
        self.started = time.perf_counter()
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        if not self.name:
            return
        self.timings[self.name] = time.perf_counter() - self.started
        self._draw(force=True, final=True)
        self.name = ""

    def _draw(self, *, force: bool = False, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._drawn < (0.2 if self.tty else 5.0):
            return
        self._drawn = now
        elapsed = now - self.started
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            text = f"{self.name:<12} {self.done:>12,}/{self.total:,} {pct:5.1f}% {elapsed:7.1f}s"
        else:
            text = f"{self.name:<12} {self.done:>12,} {elapsed:7.1f}s"
        if self.tty:  # redraw one line in place
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:  # a log file: one line per stage start/end and every 5 s
            self.stream.write(text + "\n")
        self.stream.flush()
