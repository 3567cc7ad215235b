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


_ALL = frozenset(Capability)

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: _ALL,
    Role.COMMAND: _ALL - {Capability.PLACE_MANAGE, Capability.USER_MANAGE},
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
        }
    ),
    Role.SITE_STAFF: frozenset(
        {Capability.PERSON_VIEW, Capability.AREA_VIEW, Capability.ZONE_VIEW}
    ),
    Role.SAMPLER: frozenset({Capability.PERSON_CREATE, Capability.AREA_VIEW}),
    Role.LAB: frozenset({Capability.AREA_VIEW}),
    Role.HOTLINE: frozenset({Capability.PERSON_VIEW, Capability.AREA_VIEW, Capability.ZONE_VIEW}),
    Role.PUBLICITY: frozenset({Capability.AREA_VIEW, Capability.ZONE_VIEW}),
}
