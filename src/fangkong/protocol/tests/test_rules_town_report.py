"""The town daily report's due hour: a rule-set field, 18:00 in v8 and v9."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.errors import DomainError
from fangkong.protocol.rules import RULE_TOWN_REPORT_DUE, town_report_deadline, validate_values
from fangkong.protocol.tests.conftest import shipped_protocol

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("version", ["v8", "v9"])
def test_a_town_report_is_due_at_18_in_v8_and_v9(version: str) -> None:
    due = town_report_deadline(shipped_protocol(version), dt.date(2022, 7, 5), TZ)
    assert due.value == dt.datetime(2022, 7, 5, 18, 0, tzinfo=TZ)
    assert (due.ruleset_version, due.rule) == (version, RULE_TOWN_REPORT_DUE)


def test_a_local_hour_moves_the_deadline() -> None:
    due = town_report_deadline(shipped_protocol("v9", town_report_hour=9), dt.date(2022, 7, 5), TZ)
    assert due.value == dt.datetime(2022, 7, 5, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize("bad", [24, -1, "18", True])
def test_an_hour_outside_the_day_is_refused(bad: object) -> None:
    with pytest.raises(DomainError) as err:
        validate_values({"town_report_hour": bad})
    assert err.value.code == "invalid_value"
    assert validate_values({"town_report_hour": 0}) == {"town_report_hour": 0}
