from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.people.choices import IdKind, Sex


class Household(models.Model):
    """A household (户): an address in a community, with its members (Person.household)."""

    address = models.CharField(_("地址"), max_length=300)
    community = models.ForeignKey(
        "areas.Jurisdiction", verbose_name=_("所属村社"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return self.address


class Person(models.Model):
    """One row per real person.

    The ID number and phone are never stored in clear: `*_cipher` is AES-GCM (revealed
    only by an audited action), `*_hmac` a keyed hash to find and deduplicate
    (id_hmac is UNIQUE: the same ID can never be two persons), `*_masked` for display.
    """

    name = models.CharField(_("姓名"), max_length=64)
    name_initials = models.CharField(_("拼音首字母"), max_length=32, db_index=True)
    id_kind = models.CharField(_("证件类型"), max_length=16, choices=IdKind.choices)
    id_hmac = models.CharField(max_length=64, unique=True, null=True, blank=True)
    id_cipher = models.BinaryField(null=True, blank=True)
    id_masked = models.CharField(_("证件号码"), max_length=40, blank=True)
    id_tail = models.CharField(max_length=4, blank=True, db_index=True)
    phone_hmac = models.CharField(max_length=64, blank=True, db_index=True)
    phone_cipher = models.BinaryField(null=True, blank=True)
    phone_masked = models.CharField(_("手机号码"), max_length=20, blank=True)
    # Only the year: the full birth date is the 8 characters the ID mask hides, so a
    # clear birth date beside id_masked would rebuild the number (decision 0003).
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    jurisdiction = models.ForeignKey(
        "areas.Jurisdiction",
        verbose_name=_("所属辖区"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Denormalized path of `jurisdiction`: scoping is one indexed range on this table.
    jurisdiction_path = models.CharField(max_length=32)
    workplace = models.ForeignKey(
        "areas.Place",
        verbose_name=_("工作单位/学校"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        indexes = [
            models.Index(fields=["jurisdiction_path", "id"], name="person_scope_idx"),
            # Name search is a prefix match (LIKE '张%'): on PostgreSQL under a non-C
            # collation only a pattern_ops index serves it (ignored on SQLite).
            models.Index(
                fields=["name"], name="person_name_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id_kind="none", id_hmac__isnull=True)
                | (~models.Q(id_kind="none") & models.Q(id_hmac__isnull=False)),
                name="person_id_hmac_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name
