"""Roles (DESIGN.md, "Users and what each does") and what each may do.

Permission checks live in services and selectors (`accounts.permissions`), never only in
views. A role says *what* a user may do; the user's jurisdiction says *where*.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMAND = "command", _("指挥部")
    INVESTIGATOR = "investigator", _("流调队员")
    TOWN_STAFF = "town_staff", _("镇街工作人员")
    COMMUNITY_WORKER = "community_worker", _("村社网格员")
    SITE_STAFF = "site_staff", _("隔离点工作人员")
    SAMPLER = "sampler", _("采样员")
    LAB = "lab", _("检测机构")
    HOTLINE = "hotline", _("热线接线员")
    PUBLICITY = "publicity", _("宣传")
    ADMIN = "admin", _("系统管理员")


# Roles whose scope is the whole city: they are bound to the root city jurisdiction.
CITY_WIDE_ROLES = frozenset(
    {Role.COMMAND, Role.INVESTIGATOR, Role.HOTLINE, Role.PUBLICITY, Role.ADMIN}
)


# Site-bound roles and the kind of place (areas.PlaceKind value) each must name.
PLACE_ROLES: dict[str, str] = {
    Role.SITE_STAFF: "quarantine_site",
    Role.SAMPLER: "sampling_point",
    Role.LAB: "lab",
}


class Capability(models.TextChoices):
    PERSON_VIEW = "person.view"
    PERSON_CREATE = "person.create"
    PERSON_REVEAL = "person.reveal"
    PERSON_EXPORT = "person.export"
    AREA_VIEW = "area.view"
    ZONE_VIEW = "zone.view"
    ZONE_MANAGE = "zone.manage"
    PLACE_MANAGE = "place.manage"
    RULESET_VIEW = "ruleset.view"
    RULESET_MANAGE = "ruleset.manage"
    AUDIT_VIEW = "audit.view"
    DASHBOARD_VIEW = "dashboard.view"
    TOKEN_MANAGE = "token.manage"  # noqa: S105 - a capability name
    USER_MANAGE = "user.manage"
    # Contact tracing (流调溯源).
    CASE_VIEW = "case.view"
    CASE_MANAGE = "case.manage"
    CONTACT_VIEW = "contact.view"
    CONTACT_MANAGE = "contact.manage"
    PUSH_VIEW = "push.view"
    PUSH_FEEDBACK = "push.feedback"
    PUSH_EXPORT = "push.export"
    SCANS_IMPORT = "scans.import"
    # Mass testing (全员核酸).
    ROUND_VIEW = "round.view"
    ROUND_MANAGE = "round.manage"
    POINT_MANAGE = "point.manage"
    SAMPLE_REGISTER = "sample.register"
    BOX_MANAGE = "box.manage"
    BOX_RECEIVE = "box.receive"
    RESULT_IMPORT = "result.import"
    RECHECK_VIEW = "recheck.view"
    RECHECK_MANAGE = "recheck.manage"
    COVERAGE_VIEW = "coverage.view"
    SUPPLY_VIEW = "supply.view"
    SUPPLY_MANAGE = "supply.manage"


_ALL = frozenset(Capability)

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: _ALL,
    # Packing boxes, receiving them and importing results are the work of a sampling
    # point's and a lab's own staff (their pages need the user's point or lab).
    Role.COMMAND: _ALL
    - {
        Capability.PLACE_MANAGE,
        Capability.USER_MANAGE,
        Capability.BOX_MANAGE,
        Capability.BOX_RECEIVE,
        Capability.RESULT_IMPORT,
    },
    Role.INVESTIGATOR: frozenset(
        {
            Capability.PERSON_VIEW,
            Capability.PERSON_CREATE,
            Capability.PERSON_REVEAL,
            Capability.PERSON_EXPORT,
            Capability.AREA_VIEW,
            Capability.ZONE_VIEW,
            Capability.RULESET_VIEW,
            Capability.DASHBOARD_VIEW,
            Capability.CASE_VIEW,
            Capability.CASE_MANAGE,
            Capability.CONTACT_VIEW,
            Capability.CONTACT_MANAGE,
            Capability.PUSH_VIEW,
            Capability.PUSH_EXPORT,
            Capability.SCANS_IMPORT,
            Capability.ROUND_VIEW,
            Capability.RECHECK_VIEW,
            Capability.COVERAGE_VIEW,
        }
    ),
    Role.TOWN_STAFF: frozenset(
        {
            Capability.PERSON_VIEW,
            Capability.PERSON_CREATE,
            Capability.PERSON_REVEAL,
            Capability.PERSON_EXPORT,
            Capability.AREA_VIEW,
            Capability.ZONE_VIEW,
            Capability.RULESET_VIEW,
            Capability.DASHBOARD_VIEW,
            Capability.CASE_VIEW,
            Capability.CONTACT_VIEW,
            Capability.PUSH_VIEW,
            Capability.PUSH_FEEDBACK,
            Capability.PUSH_EXPORT,
            Capability.ROUND_VIEW,
            Capability.ROUND_MANAGE,
            Capability.POINT_MANAGE,
            Capability.RECHECK_VIEW,
            Capability.RECHECK_MANAGE,
            Capability.COVERAGE_VIEW,
            Capability.SUPPLY_VIEW,
            Capability.SUPPLY_MANAGE,
        }
    ),
    Role.COMMUNITY_WORKER: frozenset(
        {
            Capability.PERSON_VIEW,
            Capability.PERSON_CREATE,
            Capability.PERSON_REVEAL,
            Capability.AREA_VIEW,
            Capability.ZONE_VIEW,
            Capability.CONTACT_VIEW,
            Capability.PERSON_EXPORT,
            Capability.ROUND_VIEW,
            Capability.RECHECK_VIEW,
            Capability.RECHECK_MANAGE,
            Capability.COVERAGE_VIEW,
        }
    ),
    Role.SITE_STAFF: frozenset(
        {Capability.PERSON_VIEW, Capability.AREA_VIEW, Capability.ZONE_VIEW}
    ),
    # A sampler's phone app syncs with a bearer token the sampler creates (their own
    # tokens only: other users' need user.manage); the offline page uses the session.
    Role.SAMPLER: frozenset(
        {
            Capability.PERSON_CREATE,
            Capability.AREA_VIEW,
            Capability.SAMPLE_REGISTER,
            Capability.BOX_MANAGE,
            Capability.POINT_MANAGE,
            Capability.SUPPLY_VIEW,
            Capability.TOKEN_MANAGE,
        }
    ),
    Role.LAB: frozenset({Capability.AREA_VIEW, Capability.BOX_RECEIVE, Capability.RESULT_IMPORT}),
    Role.HOTLINE: frozenset({Capability.PERSON_VIEW, Capability.AREA_VIEW, Capability.ZONE_VIEW}),
    Role.PUBLICITY: frozenset({Capability.AREA_VIEW, Capability.ZONE_VIEW}),
}
