"""The vocabulary of people: document kinds and sexes.

Other apps use these values (forms, labels) without reaching into people's models;
models.py defines its fields with them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdKind(models.TextChoices):
    RIC = "ric", _("居民身份证")
    PASSPORT = "passport", _("护照")
    OTHER = "other", _("其他证件")
    NONE = "none", _("无证件")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("未知")
