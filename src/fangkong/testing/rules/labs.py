"""Pure rules of labs' results: reading the words, numbers and times labs send, and the
turnaround statistics. Values in, values out; no ORM."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

LOCAL_TZ: Final = ZoneInfo("Asia/Shanghai")

# The result words labs send (Chinese and English, any case) and the stored value.
RESULT_WORDS: Final[dict[str, str]] = {
    "阴性": "negative",
    "阴": "negative",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
    "阳性": "positive",
    "阳": "positive",
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "无效": "invalid",
    "无效需重采": "invalid",
    "invalid": "invalid",
}

# Column headings labs use (Chinese or English, any case) for each field.
COLUMN_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "barcode": ("试管条码", "试管编号", "条码", "tube_barcode", "tube barcode", "barcode", "tube"),
    "result": ("检测结果", "结果", "result"),
    "ct_orf1ab": ("orf1ab", "orf1ab ct值", "orf1ab ct", "ct_orf1ab", "ct orf1ab", "orf1ab基因"),
    "ct_n": ("n", "n ct值", "n ct", "ct_n", "n基因"),
    "tested_at": ("检测时间", "报告时间", "tested_at", "test_time", "test time", "time"),
}
REQUIRED_COLUMNS: Final = ("barcode", "result", "tested_at")

TIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)
CT_MAX: Final = 50.0


def result_from_word(word: Any) -> str | None:
    """The stored result of a lab's word (阴性 / negative ...), or None if unknown."""
    if word is None:
        return None
    return RESULT_WORDS.get(str(word).strip().lower())


def column_of(heading: Any) -> str | None:
    """The field a column heading names, or None."""
    text = str(heading or "").strip().lower()
    for name, spellings in COLUMN_NAMES.items():
        if text in spellings:
            return name
    return None


def parse_ct(value: Any) -> float | None:
    """A Ct value (0 < ct ≤ 50), empty → None; raises ValueError on anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("ct")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if text in ("", "-", "/", "n/a", "N/A", "未检出", "undetermined", "Undetermined"):
            return None
        number = float(text)
    if math.isnan(number) or not 0 < number <= CT_MAX:
        raise ValueError("ct")
    return number


def parse_tested_at(value: Any) -> dt.datetime:
    """A test time: an aware datetime (naive values are Asia/Shanghai, as labs write
    them); raises ValueError on anything else."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        parsed: dt.datetime | None = None
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            for fmt in TIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware below
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise ValueError("time")
        moment = parsed
    else:
        raise ValueError("time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def same_result(
    old: tuple[str, float | None, float | None], new: tuple[str, float | None, float | None]
) -> bool:
    """Whether a row repeats the stored result (same word and the same Ct values)."""

    def close(a: float | None, b: float | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return abs(a - b) < 1e-6

    return old[0] == new[0] and close(old[1], new[1]) and close(old[2], new[2])


@dataclass(frozen=True)
class Turnaround:
    """Turnaround in minutes over a set of tubes."""

    tubes: int
    median_minutes: float | None
    p90_minutes: float | None


def hours_minutes(minutes: float) -> tuple[int, int]:
    """(hours, minutes) of a duration in minutes, rounded to the minute (never below 0)."""
    whole = max(0, round(minutes))
    return whole // 60, whole % 60


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = q * (len(sorted_values) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    frac = pos - low
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * frac)


def turnaround(minutes: Sequence[float]) -> Turnaround:
    values = sorted(minutes)
    med = percentile(values, 0.5)
    p90 = percentile(values, 0.9)
    return Turnaround(
        tubes=len(values),
        median_minutes=None if med is None else round(med, 1),
        p90_minutes=None if p90 is None else round(p90, 1),
    )


BARCODE_MAX: Final = 64  # the longest tube or box barcode
CHUNK: Final = 5000  # rows per statement on the set-based results path


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """`values` in slices of `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
