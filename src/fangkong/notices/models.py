"""A user's inbox: one row per notification to one user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # what happened, a stable code from notices.choices.NoticeKind ("push.new", ...)
    kind = models.CharField(_("类别"), max_length=48)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    # the page the notification leads to (a site-relative URL), "" when none
    url = models.CharField(max_length=300, blank=True)
    # the object it is about, to find and retire notifications of one object
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # the jurisdiction the object belongs to (so a town's notice names a path in its scope)
    jurisdiction_path = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = [
            # the header's unread count and the inbox page, per user
            models.Index(fields=["user", "read_at", "id"], name="notice_user_unread"),
        ]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return self.title
