"""`fangkong demo_users`: one demo account per role, bound to the demo city.

Idempotent (existing usernames are kept; only the site and community accounts, made
before the drill's outbreak, move to where it put people: `make demo` runs this
before `drill outbreak`, so that the outbreak's notices reach the demo accounts, and
again after it) and refused in production, where
the demo password is also refused at login (`services.login_attempt`). Every
account is created through `services.user_create`, the same path as any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import translation

from fangkong.accounts import services
from fangkong.accounts.models import User
from fangkong.accounts.roles import PLACE_ROLES, Role
from fangkong.accounts.rules import DEMO_PASSWORD
from fangkong.accounts.signals import demo_account_ready
from fangkong.core.paths import COMMUNITY_WIDTH, level_prefix_expr, under

CITY_NAME = "桐乡市"
TOWN_NAME = "乌镇镇"
SECOND_TOWN_NAME = "濮院镇"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    binding: str  # "city" | "town" | "second_town" | "community" | "place"
    display_name: str
    unit: str = ""  # a higher app's unit the account belongs to (a department's code)


DEMO_ACCOUNTS = [
    DemoAccount("command", Role.COMMAND, "city", "指挥部值班员"),
    DemoAccount("investigator", Role.INVESTIGATOR, "city", "流调队员"),
    DemoAccount("town-wuzhen", Role.TOWN_STAFF, "town", "乌镇镇工作人员"),
    DemoAccount("town-puyuan", Role.TOWN_STAFF, "second_town", "濮院镇工作人员"),
    DemoAccount("community", Role.COMMUNITY_WORKER, "community", "网格员"),
    DemoAccount("site", Role.SITE_STAFF, "place", "隔离点工作人员"),
    DemoAccount("sampler", Role.SAMPLER, "place", "采样员"),
    DemoAccount("lab", Role.LAB, "place", "检测机构人员"),
    DemoAccount("hotline", Role.HOTLINE, "city", "热线接线员"),
    DemoAccount("publicity", Role.PUBLICITY, "city", "宣传人员"),
    DemoAccount("dept-health", Role.DEPARTMENT, "city", "卫健局工作人员", unit="health"),
    DemoAccount("admin", Role.ADMIN, "city", "系统管理员"),
]


class Command(BaseCommand):
    help = "Create one demo account per role in the demo city (password fangkong-demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_users refuses to run in production (FANGKONG_PRODUCTION=1).")
        jurisdiction_model = apps.get_model("areas", "Jurisdiction")
        place_model = apps.get_model("areas", "Place")
        city = jurisdiction_model.objects.filter(parent__isnull=True, name=CITY_NAME).first()
        if city is None:
            raise CommandError(
                f"No root jurisdiction named {CITY_NAME}: build the demo city first "
                "(`fangkong drill city`)."
            )
        towns = {t.name: t for t in city.children.filter(name__in=[TOWN_NAME, SECOND_TOWN_NAME])}
        for name in (TOWN_NAME, SECOND_TOWN_NAME):
            if name not in towns:
                raise CommandError(f"{CITY_NAME} has no town named {name}.")
        town = towns[TOWN_NAME]
        community = _busiest_community(town) or (
            jurisdiction_model.objects.filter(parent=town, level="community")
            .order_by("path")
            .first()
        )
        bindings: dict[str, Any] = {
            "city": city,
            "town": town,
            "second_town": towns[SECOND_TOWN_NAME],
            "community": community,
        }

        rows: list[tuple[str, str, str, str]] = []
        created = 0
        for account in DEMO_ACCOUNTS:
            user = User.objects.filter(username=account.username).first()
            if user is None:
                user = self._create(account, bindings, place_model, city)
                if user is None:
                    continue
                created += 1
            else:
                user = self._follow_outbreak(account, user, city, town)
            if account.unit:
                demo_account_ready.send(sender=Command, user_id=user.pk, unit=account.unit)
            where = user.jurisdiction.name if user.jurisdiction else "—"
            if user.place is not None:
                where = f"{where} / {user.place.name}"
            with translation.override("zh-hans"):  # the table shows the Chinese role names
                label = str(user.get_role_display())
            rows.append((user.username, DEMO_PASSWORD, label, where))
        self._print_table(rows)
        self.stdout.write(self.style.SUCCESS(f"{created} created, {len(rows) - created} existing"))

    def _create(
        self, account: DemoAccount, bindings: dict[str, Any], place_model: Any, city: Any
    ) -> User | None:
        place = None
        jurisdiction = bindings.get(account.binding)
        if account.binding == "place":
            place = _busiest_site(city) if account.role == Role.SITE_STAFF else None
            place = place or (
                place_model.objects.filter(under("jurisdiction_path", city.path))
                .filter(kind=PLACE_ROLES[account.role], active=True)
                .order_by("pk")
                .first()
            )
            jurisdiction = None if place is not None else bindings["town"]
            if place is None:
                self.stderr.write(
                    self.style.WARNING(
                        f"warning: no {PLACE_ROLES[account.role]} place yet (run the drill); "
                        f"{account.username} is bound to {TOWN_NAME} without a place"
                    )
                )
        if jurisdiction is None and place is None:
            self.stderr.write(
                self.style.WARNING(f"warning: no {account.binding} for {account.username}; skipped")
            )
            return None
        return services.user_create(
            username=account.username,
            password=DEMO_PASSWORD,
            role=account.role,
            jurisdiction=jurisdiction,
            place=place,
            display_name=account.display_name,
            staff=account.role == Role.ADMIN,
            require_place=False,
        )

    def _follow_outbreak(self, account: DemoAccount, user: User, city: Any, town: Any) -> User:
        """The site and community accounts belong where the outbreak put people: made
        before the drill's outbreak (so that every account's inbox holds what it was
        told), they move to the busiest site / community when their own has fewer
        people there; with the same data a second run changes nothing."""
        if account.role == Role.SITE_STAFF:
            busiest = _busiest_site(city)
            if busiest is None or user.place_id == busiest.pk:
                return user
            if user.place_id is not None and _open_placements_at(
                user.place_id
            ) >= _open_placements_at(busiest.pk):
                return user
            return services.user_rebind(
                actor=None, user=user, role=user.role, jurisdiction=None, place=busiest
            )
        if account.binding == "community":
            busiest = _busiest_community(town)
            if busiest is None or user.jurisdiction_id == busiest.pk:
                return user
            if user.jurisdiction is not None and _home_placements_in(
                user.jurisdiction
            ) >= _home_placements_in(busiest):
                return user
            return services.user_rebind(actor=None, user=user, role=user.role, jurisdiction=busiest)
        return user

    def _print_table(self, rows: list[tuple[str, str, str, str]]) -> None:
        header = ("用户名 username", "密码 password", "角色 role", "辖区 jurisdiction")
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row))
            )


# The drill's placements (quarantine app, read by name: accounts sits below it).
OPEN_PLACEMENT = ("planned", "in_transit", "active")
HOME_MEASURES = ("home", "monitoring")


def _busiest_site(city: Any) -> Any:
    """The quarantine site's place with the most persons placed there (the drill's
    outbreak), so that the site account has people to care for; None without any."""
    placement_model = apps.get_model("quarantine", "Placement")
    row = (
        placement_model.objects.filter(
            under("site__jurisdiction_path", city.path), status__in=OPEN_PLACEMENT
        )
        .values("site__place_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "site__place_id")
        .first()
    )
    if row is None:
        return None
    return apps.get_model("areas", "Place").objects.get(pk=row["site__place_id"])


def _open_placements_at(place_id: int) -> int:
    placement_model = apps.get_model("quarantine", "Placement")
    return int(
        placement_model.objects.filter(site__place_id=place_id, status__in=OPEN_PLACEMENT).count()
    )


def _home_placements_in(community: Any) -> int:
    placement_model = apps.get_model("quarantine", "Placement")
    return int(
        placement_model.objects.filter(
            under("jurisdiction_path", community.path),
            measure__in=HOME_MEASURES,
            status__in=OPEN_PLACEMENT,
        ).count()
    )


def _busiest_community(town: Any) -> Any:
    """The town's community with the most residents in home quarantine or home health
    monitoring (the community worker's list), None without any."""
    placement_model = apps.get_model("quarantine", "Placement")
    rows = (
        placement_model.objects.filter(
            under("jurisdiction_path", town.path),
            measure__in=HOME_MEASURES,
            status__in=OPEN_PLACEMENT,
        )
        .annotate(community=level_prefix_expr("jurisdiction_path", COMMUNITY_WIDTH))
        .values("community")
        .annotate(n=Count("pk"))
        .order_by("-n", "community")
    )
    row = rows.first()
    if row is None:
        return None
    return apps.get_model("areas", "Jurisdiction").objects.filter(path=row["community"]).first()


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
