"""Tables of contact tracing (流调溯源): cases, investigations, itineraries, contacts and
their exposures, verification pushes to towns, assist requests, links and clusters.

Every person-bearing row carries `jurisdiction_path` (the person's, denormalized) so that
scoping is one indexed range (core/paths.py), as in the people app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    CONFIRMED = "confirmed", _("确诊病例")
    ASYMPTOMATIC = "asymptomatic", _("无症状感染者")


class CaseOrigin(models.TextChoices):
    LOCAL = "local", _("本土")
    IMPORTED = "imported", _("境外输入")
    DOMESTIC_IMPORTED = "domestic_imported", _("外地输入")


class CaseStatus(models.TextChoices):
    REPORTED = "reported", _("已报告")
    INVESTIGATING = "investigating", _("流调中")
    INVESTIGATED = "investigated", _("流调完成")
    CLOSED = "closed", _("已结案")


class Cluster(models.Model):
    """A cluster / event (聚集性疫情) grouping cases."""

    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("聚集性疫情")
        verbose_name_plural = _("聚集性疫情")

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """A positive person: confirmed or asymptomatic, with the deadlines of the rule set."""

    number = models.CharField(_("病例编号"), max_length=32, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=32)
    kind = models.CharField(_("类型"), max_length=16, choices=CaseKind.choices)
    origin = models.CharField(
        _("来源"), max_length=24, choices=CaseOrigin.choices, default=CaseOrigin.LOCAL
    )
    onset_date = models.DateField(_("发病日期"), null=True, blank=True)
    first_positive_sampled_on = models.DateField(_("首次阳性采样日期"))
    reported_at = models.DateTimeField(_("报告时间"))
    reporting_unit = models.CharField(_("报告单位"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.REPORTED
    )
    ruleset = models.ForeignKey(
        "protocol.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    lookback_start = models.DateField(_("追溯起始日期"))
    core_facts_due_at = models.DateTimeField(_("核心信息时限"))
    report_due_at = models.DateTimeField(_("流调报告时限"))
    core_facts_done_at = models.DateTimeField(_("核心信息完成时间"), null=True, blank=True)
    report_done_at = models.DateTimeField(_("流调报告完成时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("超时上报时间"), null=True, blank=True)
    source_unknown = models.BooleanField(_("来源不明"), default=False)
    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("聚集性疫情"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    # The contact record this case came from, when a contact turned positive.
    from_contact = models.ForeignKey(
        "tracing.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("病例")
        verbose_name_plural = _("病例")
        indexes = [
            models.Index(fields=["jurisdiction_path", "id"], name="case_scope_idx"),
            models.Index(fields=["status", "report_due_at"], name="case_status_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person"], name="case_one_per_person"),
        ]

    def __str__(self) -> str:
        return self.number


class Investigation(models.Model):
    """The epidemiological investigation (流调) of one case: interview and itinerary."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="investigation")
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("流调队员"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    interview_notes = models.TextField(_("访谈记录"), blank=True)
    symptoms = models.TextField(_("症状"), blank=True)
    vaccination = models.CharField(_("疫苗接种"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    itinerary_confirmed_at = models.DateTimeField(_("轨迹确认时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("流调")
        verbose_name_plural = _("流调")

    def __str__(self) -> str:
        return f"investigation of {self.case_id}"


class StopSource(models.TextChoices):
    SCAN = "scan", _("场所码扫码")
    MANUAL = "manual", _("人工录入")


class ItineraryStop(models.Model):
    """One stop of a case's itinerary (活动轨迹): a place or a free address over a time span."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="stops")
    place = models.ForeignKey(
        "areas.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    companions = models.TextField(_("同行人员"), blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=StopSource.choices)
    confirmed = models.BooleanField(_("已确认"), default=False)
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("轨迹点")
        verbose_name_plural = _("轨迹点")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="stop_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(place__isnull=False) | ~models.Q(address=""),
                name="stop_has_place_or_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%m-%d %H:%M} {self.place_id or self.address}"


class ContactClass(models.TextChoices):
    CLOSE = "close", _("密切接触者")
    SECONDARY = "secondary", _("密接的密接")
    GENERAL = "general", _("一般接触者")
    # A co-presence risk person (风险人员): its own category, with its own measure.
    CO_PRESENCE = "co_presence", _("时空伴随者（风险人员）")


class ContactStatus(models.TextChoices):
    IDENTIFIED = "identified", _("已判定")
    PUSHED = "pushed", _("已推送")
    LOCATED = "located", _("已找到")
    CONTROLLED = "controlled", _("已管控")
    NOT_FOUND = "not_found", _("未找到")
    OUTSIDE = "outside", _("不在本市")
    RELEASED = "released", _("已解除")
    BECAME_CASE = "became_case", _("转为病例")


class Contact(models.Model):
    """One person exposed to one or more cases: one record, many exposures.

    The latest exposure date drives every protocol date; `ruleset` and
    `dates_rule_version` say which rule set produced them.
    """

    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=32)
    classification = models.CharField(_("判定"), max_length=16, choices=ContactClass.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=ContactStatus.choices, default=ContactStatus.IDENTIFIED
    )
    first_exposure_on = models.DateField(_("首次暴露日期"))
    last_exposure_on = models.DateField(_("末次暴露日期"))
    ruleset = models.ForeignKey(
        "protocol.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    quarantine_end_on = models.DateField(_("隔离期满日期"), null=True, blank=True)
    monitoring_end_on = models.DateField(_("健康监测期满日期"), null=True, blank=True)
    test_dates = models.JSONField(_("核酸检测日期"), default=list, blank=True)
    controlled_at = models.DateTimeField(_("管控时间"), null=True, blank=True)
    control_measure = models.CharField(_("管控措施"), max_length=32, blank=True)
    # The last change of classification (an upgrade, or an investigator's promotion or
    # demotion) and why.
    upgraded_at = models.DateTimeField(_("改判时间"), null=True, blank=True)
    upgrade_reason = models.TextField(_("改判原因"), blank=True)
    # An investigator's promotion or demotion: contact finding does not undo it with the
    # exposures it had already seen (only a later exposure may change the class again).
    reclassified = models.BooleanField(_("人工改判"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("接触者")
        verbose_name_plural = _("接触者")
        indexes = [
            models.Index(fields=["jurisdiction_path", "id"], name="contact_scope_idx"),
            models.Index(fields=["classification", "status"], name="contact_class_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person"], name="contact_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"contact {self.person_id} ({self.classification})"


class ExposureKind(models.TextChoices):
    HOUSEHOLD = "household", _("同住")
    WORKPLACE = "workplace", _("同事/同学")
    CO_PRESENCE = "co_presence", _("同一场所同一时段")
    MANUAL = "manual", _("流调人工添加")
    COMPANION = "companion", _("同行")
    VEHICLE = "vehicle", _("同乘交通工具")


class Exposure(models.Model):
    """One exposure of a contact: to a case, or (secondary contacts) to a close contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="exposures")
    source_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="exposures"
    )
    source_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="caused_exposures"
    )
    kind = models.CharField(_("接触方式"), max_length=16, choices=ExposureKind.choices)
    classification = models.CharField(_("判定"), max_length=16, choices=ContactClass.choices)
    place = models.ForeignKey(
        "areas.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateTimeField(_("开始时间"), null=True, blank=True)
    end = models.DateTimeField(_("结束时间"), null=True, blank=True)
    exposed_on = models.DateField(_("暴露日期"))
    overlap_minutes = models.PositiveIntegerField(_("重叠分钟"), default=0)
    evidence = models.JSONField(_("依据"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("暴露记录")
        verbose_name_plural = _("暴露记录")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(source_case__isnull=False) & models.Q(source_contact__isnull=True)
                )
                | (models.Q(source_case__isnull=True) & models.Q(source_contact__isnull=False)),
                name="exposure_exactly_one_source",
            ),
        ]
        indexes = [models.Index(fields=["source_case", "contact"], name="exposure_case_idx")]

    def __str__(self) -> str:
        return f"exposure {self.contact_id} on {self.exposed_on}"


class CaseLink(models.Model):
    """Case-to-case transmission: `infectee` was infected by `infector`."""

    infector = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="infected_links")
    infectee = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="infected_by_links")
    evidence = models.TextField(_("依据"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("传播关系")
        verbose_name_plural = _("传播关系")
        constraints = [
            models.UniqueConstraint(fields=["infector", "infectee"], name="caselink_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(infector=models.F("infectee")), name="caselink_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.infector_id} -> {self.infectee_id}"


class PushStatus(models.TextChoices):
    OPEN = "open", _("待核查")
    DONE = "done", _("已完成")


class VerificationPush(models.Model):
    """A list of contacts pushed to a town to locate and control, with a deadline (推送核查)."""

    number = models.CharField(_("编号"), max_length=32, unique=True)
    town = models.ForeignKey(
        "areas.Jurisdiction", verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=32)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="pushes"
    )
    deadline = models.DateTimeField(_("时限"))
    status = models.CharField(
        _("状态"), max_length=8, choices=PushStatus.choices, default=PushStatus.OPEN
    )
    ruleset = models.ForeignKey("protocol.RuleSet", on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(_("超时上报时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("推送核查清单")
        verbose_name_plural = _("推送核查清单")
        indexes = [
            models.Index(fields=["jurisdiction_path", "id"], name="push_scope_idx"),
            models.Index(fields=["status", "deadline"], name="push_status_deadline_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class PushItemStatus(models.TextChoices):
    PENDING = "pending", _("待核查")
    LOCATED = "located", _("已找到")
    CENTRALISED = "centralised", _("已集中隔离")
    HOME = "home", _("已居家隔离")
    HOSPITAL = "hospital", _("已送医")
    NOT_FOUND = "not_found", _("未找到")
    OUTSIDE = "outside", _("不在本市")


class PushItem(models.Model):
    """One contact on a pushed list, with the town's feedback."""

    push = models.ForeignKey(VerificationPush, on_delete=models.CASCADE, related_name="items")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="push_items")
    jurisdiction_path = models.CharField(max_length=32)
    status = models.CharField(
        _("核查结果"), max_length=16, choices=PushItemStatus.choices, default=PushItemStatus.PENDING
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)
    marked_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Bumped by every mark that changes the item; the Excel export writes it in a hidden
    # column so that an import of an older workbook cannot revert a newer mark.
    version = models.PositiveIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("推送核查人员")
        verbose_name_plural = _("推送核查人员")
        constraints = [
            models.UniqueConstraint(fields=["push", "contact"], name="pushitem_unique_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.push_id}:{self.contact_id}"


class AssistRequest(models.Model):
    """An assist request (协查函) to another city for a contact who is outside ours."""

    number = models.CharField(_("编号"), max_length=32, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="assist_requests")
    jurisdiction_path = models.CharField(max_length=32)
    target_region = models.CharField(_("协查地区"), max_length=200)
    reason = models.TextField(_("协查事由"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("协查函")
        verbose_name_plural = _("协查函")

    def __str__(self) -> str:
        return self.number
