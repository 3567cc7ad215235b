"""The kinds of notification: stable codes, named in words for the inbox."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    PUSH_NEW = "push.new", _("新的推送核查名单")
    TASK_NEW = "task.new", _("新任务")
    TASK_REPLY = "task.reply", _("任务回复")
    TASK_ESCALATED = "task.escalated", _("任务超时督办")
    RECTIFICATION_NEW = "rectification.new", _("新的整改项")
    ESCALATION = "escalation", _("超时升级")
    POSITIVE = "positive", _("阳性结果")
    ZONE_PROPOSAL = "zone.proposal", _("风险区降级建议")
    TOWN_REPORT_MISSING = "town_report.missing", _("镇街日报未报")
    TOWN_REPORT_SUBMITTED = "town_report.submitted", _("镇街日报已报送")
    REPORT_READY = "report.ready", _("日报已生成")
