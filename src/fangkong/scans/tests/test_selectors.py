import datetime as dt

import pytest

from fangkong.scans.selectors import person_scans
from fangkong.scans.services import scans_bulk_insert

UTC = dt.UTC


@pytest.mark.django_db
def test_person_scans_returns_the_window_oldest_first():
    t0 = dt.datetime(2022, 7, 1, 8, 0, tzinfo=UTC)
    rows = [
        (1, 10, t0 + dt.timedelta(hours=2), (t0 + dt.timedelta(hours=2)).date(), "330483102001"),
        (1, 11, t0, t0.date(), "330483102001"),
        (1, 12, t0 + dt.timedelta(days=2), (t0 + dt.timedelta(days=2)).date(), "330483102001"),
        (2, 10, t0, t0.date(), "330483102001"),
    ]
    scans_bulk_insert(rows)
    found = person_scans(person_id=1, since=t0, until=t0 + dt.timedelta(days=1))
    assert [s.place_id for s in found] == [11, 10]
    assert found[0].scanned_at == t0
