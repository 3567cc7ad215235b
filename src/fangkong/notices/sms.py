"""Text messages (短信) for the notifications that cannot wait: an interface with one
backend today, the console, and room for a gateway later.

`send(numbers, text)` hands one text to every number through the backend named by the
setting `FANGKONG_SMS_BACKEND` (a dotted path to a class with
`send_messages(numbers: list[str], text: str) -> int`); by default
`fangkong.notices.sms.ConsoleBackend`, which writes each message to the log
(`fangkong.sms`) and to standard output instead of sending it. A gateway backend
(a provider's HTTP API) is one class with the same method, configured by that setting.

`services.notify` calls `send` after the writing transaction commits, for urgent kinds
(`choices.URGENT_KINDS`), to recipients who have a work mobile number (`User.mobile`):
a message never goes out for a change that was rolled back, and a failing gateway never
undoes the change (it is logged).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "fangkong.notices.sms.ConsoleBackend"
# One message: a long title is cut (a text of 70 characters is one SMS; 3 at most).
TEXT_MAX = 200

logger = logging.getLogger("fangkong.sms")


class SmsBackend(Protocol):
    def send_messages(self, numbers: list[str], text: str) -> int: ...


class ConsoleBackend:
    """Sends nothing: writes `SMS to <number>: <text>` to the log and to stdout."""

    def send_messages(self, numbers: list[str], text: str) -> int:
        for number in numbers:
            line = f"SMS to {number}: {text}"
            logger.info(line)
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return len(numbers)


def backend() -> SmsBackend:
    path = getattr(settings, "FANGKONG_SMS_BACKEND", "") or DEFAULT_BACKEND
    return import_string(path)()  # type: ignore[no-any-return]


def send(numbers: Iterable[str], text: str) -> int:
    """Send `text` to each distinct, non-empty number; how many were handed over."""
    wanted = sorted({n.strip() for n in numbers if n and n.strip()})
    if not wanted:
        return 0
    return backend().send_messages(wanted, str(text)[:TEXT_MAX])
