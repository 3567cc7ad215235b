"""`make demo`'s order: the demo accounts are made before the outbreak, so that command's
and the town's inboxes hold the outbreak's notices; a second `demo_users` after it puts
the site and community accounts where the outbreak put people, and changes nothing more."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from fangkong.accounts.management.commands.demo_users import (
    TOWN_NAME,
    _busiest_community,
    _busiest_site,
)
from fangkong.accounts.models import User
from fangkong.areas.models import Jurisdiction
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import drill_outbreak
from fangkong.notices.models import Notification

pytestmark = pytest.mark.django_db


def _demo_users() -> None:
    with open(os.devnull, "w") as quiet:
        call_command("demo_users", stdout=quiet, stderr=quiet)


def test_the_demo_accounts_hear_the_outbreak() -> None:
    drill_city_build(population=300, days=2, seed=7)
    _demo_users()
    drill_outbreak()
    _demo_users()

    inbox = Notification.objects.filter
    assert inbox(user__username="command").count() > 0
    assert inbox(user__username="town-wuzhen").exists()
    city = Jurisdiction.objects.get(parent__isnull=True)
    town = Jurisdiction.objects.get(parent=city, name=TOWN_NAME)
    site, community = User.objects.get(username="site"), User.objects.get(username="community")
    busiest_site, busiest_community = _busiest_site(city), _busiest_community(town)
    assert busiest_site is not None and site.place_id == busiest_site.pk
    if busiest_community is not None:
        assert community.jurisdiction_id == busiest_community.pk
    bindings = list(User.objects.order_by("pk").values_list("scope_path", "place_id"))
    _demo_users()  # a third run changes nothing
    assert list(User.objects.order_by("pk").values_list("scope_path", "place_id")) == bindings


def test_make_demo_makes_the_accounts_before_the_outbreak() -> None:
    makefile = (Path(__file__).resolve().parents[4] / "Makefile").read_text()
    demo = makefile.split("\ndemo:")[1].split("\n\n")[0]
    steps = list(re.findall(r"\$\(FANGKONG\) (\w+(?: \w+)?)", demo))
    assert steps.index("demo_users") < steps.index("drill outbreak")
    assert steps[-1] == "demo_users"  # and again after it: the logins, the site account
