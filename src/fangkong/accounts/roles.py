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
    DEPARTMENT = "department", _("部门工作人员")
    ADMIN = "admin", _("系统管理员")


# Roles whose scope is the whole city: they are bound to the root city jurisdiction.
CITY_WIDE_ROLES = frozenset(
    {Role.COMMAND, Role.INVESTIGATOR, Role.HOTLINE, Role.PUBLICITY, Role.DEPARTMENT, Role.ADMIN}
)


# Site-bound roles and the kind of place (areas.PlaceKind value) each must name.
PLACE_ROLES: dict[str, str] = {
    Role.SITE_STAFF: "quarantine_site",
    Role.SAMPLER: "sampling_point",
    Role.LAB: "lab",
}


class Capability(models.TextChoices):
    PERSON_VIEW = "person.view", _("查看辖区内人员（默认脱敏）")
    PERSON_CREATE = "person.create", _("登记新人员")
    PERSON_REVEAL = "person.reveal", _("查看完整证件号和手机号（留痕）")
    PERSON_EXPORT = "person.export", _("导出人员名单（留痕）")
    AREA_VIEW = "area.view", _("查看辖区与场所")
    ZONE_VIEW = "zone.view", _("查看风险区")
    ZONE_MANAGE = "zone.manage", _("划定、调整和解除风险区")
    PLACE_MANAGE = "place.manage", _("管理场所")
    RULESET_VIEW = "ruleset.view", _("查看防控方案")
    RULESET_MANAGE = "ruleset.manage", _("制定和修改本地防控方案")
    AUDIT_VIEW = "audit.view", _("查看审计日志")
    DASHBOARD_VIEW = "dashboard.view", _("查看指挥大屏")
    FIGURES_REFRESH = "figures.refresh", _("立即重新计算指挥大屏数据")
    TOKEN_MANAGE = "token.manage", _("管理接口令牌")
    USER_MANAGE = "user.manage", _("管理用户账户")
    # Contact tracing (流调溯源).
    CASE_VIEW = "case.view", _("查看病例与传播链")
    CASE_MANAGE = "case.manage", _("登记病例、流调和督办")
    CONTACT_VIEW = "contact.view", _("查看密接、次密接等接触者")
    CONTACT_MANAGE = "contact.manage", _("判定和调整接触者")
    PUSH_VIEW = "push.view", _("查看推送核查名单")
    PUSH_FEEDBACK = "push.feedback", _("反馈推送核查结果")
    PUSH_EXPORT = "push.export", _("导出推送核查名单（留痕）")
    SCANS_IMPORT = "scans.import", _("导入场所码扫码数据")
    # Mass testing (全员核酸).
    ROUND_VIEW = "round.view", _("查看核酸检测轮次")
    ROUND_MANAGE = "round.manage", _("创建、开始和结束核酸检测轮次")
    POINT_MANAGE = "point.manage", _("管理采样点")
    SAMPLE_REGISTER = "sample.register", _("登记采样")
    BOX_MANAGE = "box.manage", _("装箱和交接转运箱")
    BOX_RECEIVE = "box.receive", _("接收转运箱")
    RESULT_IMPORT = "result.import", _("导入检测结果")
    RECHECK_VIEW = "recheck.view", _("查看单管复核任务")
    RECHECK_MANAGE = "recheck.manage", _("办理单管复核")
    COVERAGE_VIEW = "coverage.view", _("查看核酸覆盖和未采样人员")
    SUPPLY_VIEW = "supply.view", _("查看核酸物资库存")
    SUPPLY_MANAGE = "supply.manage", _("管理核酸物资出入库")
    # Quarantine (隔离管控).
    SITE_VIEW = "site.view", _("查看隔离点和隔离管控人员")
    SITE_MANAGE = "site.manage", _("管理隔离点、房间和闭环工作人员")
    PLACEMENT_MANAGE = "placement.manage", _("安排隔离管控、分配房间和转运")
    PLACEMENT_CARE = "placement.care", _("入住登记、健康监测、隔离点采样和解除")
    HOME_MONITOR = "home.monitor", _("居家隔离和健康监测打卡")
    INSPECTION_MANAGE = "inspection.manage", _("对照标准检查隔离点并督办整改")
    RECTIFICATION_UPDATE = "rectification.update", _("办理隔离点整改")
    # Command (指挥调度).
    OVERDUE_VIEW = "overdue.view", _("查看超时督办（本辖区、本单位超过时限的事项）")
    REPORT_VIEW = "report.view", _("生成和下载疫情日报（镇街为本镇街）")
    # Command (指挥调度): the towns' daily reports (听取汇报).
    TOWN_REPORT_VIEW = "town_report.view", _("查看镇街工作日报")
    TOWN_REPORT_SUBMIT = "town_report.submit", _("报送本镇街工作日报")
    TOWN_REPORT_REVIEW = "town_report.review", _("听取镇街汇报：阅知日报、将问题转为任务")
    # Tasks across departments and towns (条块协同).
    TASK_VIEW = "task.view", _("查看交办给本单位的任务")
    TASK_REPLY = "task.reply", _("签收、办理和回复任务")
    TASK_MANAGE = "task.manage", _("派发、办结和退回任务")


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
        # A town's daily report is the town's own word: command reads it, never writes it.
        Capability.TOWN_REPORT_SUBMIT,
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
            Capability.SITE_VIEW,
            Capability.OVERDUE_VIEW,
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
            Capability.SITE_VIEW,
            Capability.PLACEMENT_MANAGE,
            Capability.HOME_MONITOR,
            Capability.OVERDUE_VIEW,
            Capability.TOWN_REPORT_VIEW,
            Capability.TOWN_REPORT_SUBMIT,
            Capability.TASK_VIEW,
            Capability.TASK_REPLY,
            # Its own town's daily report (the figures of its own scope).
            Capability.REPORT_VIEW,
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
            Capability.SITE_VIEW,
            Capability.HOME_MONITOR,
            Capability.TASK_VIEW,
            Capability.TASK_REPLY,
        }
    ),
    # Site staff see the persons placed at their site through quarantine's selectors.
    Role.SITE_STAFF: frozenset(
        {
            Capability.PERSON_VIEW,
            Capability.AREA_VIEW,
            Capability.ZONE_VIEW,
            Capability.SITE_VIEW,
            Capability.PLACEMENT_CARE,
            Capability.RECTIFICATION_UPDATE,
            Capability.OVERDUE_VIEW,
        }
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
    # A department's staff (卫健局, 公安局 ...): city-wide, but they see and answer only the
    # tasks given to their own department (command.DepartmentMember says which).
    Role.DEPARTMENT: frozenset(
        {
            Capability.AREA_VIEW,
            Capability.ZONE_VIEW,
            Capability.OVERDUE_VIEW,
            Capability.TASK_VIEW,
            Capability.TASK_REPLY,
        }
    ),
}
