"""The audit log in words: what each action code and object type means, and where an
object's page is.

Services record stable codes (`person.reveal`, `verification_push`); pages show these
words instead (`accounts/audit.html`), and the audit filter offers the actions by their
words. A code missing here is shown as it is, in a muted `<code>`, so a new action never
breaks the page; `accounts/tests/test_audit_page.py` fails on an action literal in the
services that has no words here.

Object pages are named by URL name (reversed at render time, left out when not wired),
so that accounts imports no app above it. Jurisdiction paths are named by the function
the areas app registers at start-up (`register_jurisdiction_namer`), one query per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

AUDIT_ACTIONS: dict[str, Any] = {
    # accounts
    "login.success": _("登录成功"),
    "login.failure": _("登录失败"),
    "login.locked": _("登录被锁定"),
    "login.refused": _("登录被拒绝"),
    "logout": _("退出登录"),
    "user.create": _("创建账户"),
    "user.rebind": _("调整账户角色或辖区"),
    "user.password_change": _("修改密码"),
    "token.create": _("签发接口令牌"),
    "token.revoke": _("吊销接口令牌"),
    # protocol
    "ruleset.create": _("新建防控方案"),
    "ruleset.update": _("修改防控方案"),
    # areas
    "jurisdiction.create": _("新建辖区"),
    "jurisdiction.geometry": _("更新辖区边界"),
    "place.create": _("新建场所"),
    "place.update": _("修改场所"),
    "zone.create": _("划定风险区"),
    "zone.case_reset": _("风险区新增病例，重新计数"),
    "zone.escalate": _("风险区升级为封控区"),
    "zone.close_day": _("风险区日终计数"),
    "zone.screening": _("风险区全员筛查"),
    "zone.downgrade": _("风险区降级"),
    "zone.lift": _("解除风险区"),
    # people
    "person.create": _("登记人员"),
    "person.update": _("修改人员信息"),
    "person.view": _("查看人员"),
    "person.reveal": _("查看完整证件号或手机号"),
    "person.export": _("导出人员名单"),
    "person.lookup": _("按证件号或手机号精确查询"),
    "person.lookup_refused": _("精确查询被拒绝"),
    "person.lookup_alert": _("精确查询未命中过多，已暂停"),
    "household.create": _("登记住户"),
    # scans
    "scans.import": _("导入扫码数据"),
    # tracing
    "case.create": _("登记病例"),
    "case.start_investigation": _("开始流调"),
    "case.core_facts": _("报告核心信息"),
    "case.complete_report": _("完成流调报告"),
    "case.close": _("结案"),
    "case.escalate": _("流调超时督办"),
    "case.link": _("关联传染来源"),
    "case.unlink": _("取消关联传染来源"),
    "case.source_unknown": _("标记来源不明"),
    "itinerary.propose": _("由扫码记录生成活动轨迹"),
    "itinerary.stop_add": _("添加轨迹点"),
    "itinerary.stop_update": _("修改轨迹点"),
    "itinerary.stop_delete": _("删除轨迹点"),
    "itinerary.confirm": _("确认活动轨迹"),
    "contacts.find": _("查找密接"),
    "contacts.add_manual": _("手动添加接触者"),
    "contacts.find_secondary": _("查找次密接"),
    "contacts.became_case": _("接触者转为病例"),
    "contacts.companions": _("同行人员转为密接"),
    "contacts.reclassify": _("接触者改判"),
    "cluster.create": _("新建聚集性疫情"),
    "cluster.add_case": _("病例加入聚集性疫情"),
    "cluster.remove_case": _("病例移出聚集性疫情"),
    "push.create": _("推送核查名单"),
    "push.mark": _("反馈核查结果"),
    "push.escalate": _("推送核查超时督办"),
    "push.export": _("导出推送核查名单"),
    "push.import": _("导入核查结果"),
    "assist_request.create": _("发起协查请求"),
    # testing
    "round.create": _("新建核酸检测轮次"),
    "round.open": _("开始核酸检测轮次"),
    "round.close": _("结束核酸检测轮次"),
    "point.register": _("登记采样点"),
    "point.update": _("修改采样点"),
    "point.queue": _("更新采样点排队状态"),
    "box.create": _("新建转运箱"),
    "box.pack": _("装箱"),
    "box.hand_over": _("交接转运箱"),
    "box.receive": _("接收转运箱"),
    "result.import": _("导入检测结果"),
    "result.correct": _("订正检测结果"),
    "recheck.create": _("混管阳性，人员原地管控"),
    "recheck.sample": _("单管复核采样"),
    "recheck.result": _("单管复核结果"),
    "recheck.escalate": _("单管复核超时督办"),
    "recheck.correction_after_case": _("已成病例后订正复核结果"),
    "coverage.untested_export": _("导出未采样人员名单"),
    "supply.stock_create": _("新建物资库存"),
    "supply.receive": _("物资入库"),
    "supply.issue": _("物资出库"),
    "supply.transfer": _("物资调拨"),
    "supply.count": _("物资盘点"),
    # quarantine: sites, rooms, placements, transfers
    "site.create": _("新建隔离点"),
    "room.create": _("新建隔离房间"),
    "room.state": _("变更隔离房间状态"),
    "placement.create": _("安排隔离管控"),
    "placement.bulk_create": _("批量安排隔离管控"),
    "placement.room_assign": _("分配隔离房间"),
    "placement.recompute": _("重新计算隔离管控日期"),
    "placement.move_centralised": _("居家隔离人员转集中隔离"),
    "transfer.create": _("安排转运"),
    "transfer.depart": _("转运出发"),
    "transfer.arrive": _("转运到达"),
    "transfer.cancel": _("取消转运"),
    # quarantine: care at the site and at home
    "placement.check_in": _("隔离人员入住登记"),
    "placement.test_sample": _("隔离点采样"),
    "placement.became_case": _("隔离人员检测阳性转为病例"),
    "placement.to_hospital": _("隔离人员送医"),
    "placement.release": _("解除隔离"),
    "placement.certificate": _("查看解除隔离证明（显示姓名）"),
    "health_check.record": _("记录健康监测"),
    "alert.handle": _("处置健康预警"),
    "home_checkin.record": _("居家监测打卡"),
    "sample.site_record": _("隔离点采集样本"),
    # quarantine: inspections against the standard, closed-loop staff
    "checklist.create": _("新增隔离点标准条目"),
    "checklist.update": _("修改隔离点标准条目"),
    "checklist.retire": _("停用隔离点标准条目"),
    "checklist.restore": _("恢复隔离点标准条目"),
    "inspection.create": _("对照标准检查隔离点"),
    "rectification.complete": _("完成隔离点整改"),
    "rectification.reassign": _("调整隔离点整改责任人或时限"),
    "rectification.escalate": _("隔离点整改超时督办"),
    "staff_shift.create": _("登记闭环工作人员"),
    "staff_test.record": _("登记闭环工作人员核酸"),
    # command
    "figures.refresh": _("重新计算指挥大屏数据"),
}


# The field an action touched (a reveal's number, a case's flag).
AUDIT_FIELDS: dict[str, Any] = {
    "id_number": _("证件号码"),
    "phone": _("手机号码"),
    "identity": _("证件号码和手机号码"),
    "source_unknown": _("来源不明"),
}


def field_label(code: str) -> str:
    """The words of a field code; a field without words is shown as it is."""
    label = AUDIT_FIELDS.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class ObjectKind:
    """What an audited object is, in words, and its page (a URL name taking the object's
    id as `pk`), if it has one."""

    label: Any
    url_name: str = ""


AUDIT_OBJECTS: dict[str, ObjectKind] = {
    "user": ObjectKind(_("账户")),
    "token": ObjectKind(_("接口令牌")),
    "ruleset": ObjectKind(_("防控方案"), "protocol:detail"),
    "jurisdiction": ObjectKind(_("辖区")),
    "place": ObjectKind(_("场所")),
    "zone": ObjectKind(_("风险区"), "areas:zone_detail"),
    "figures": ObjectKind(_("指挥大屏数据")),
    "person": ObjectKind(_("人员"), "people:detail"),
    "household": ObjectKind(_("住户"), "people:household"),
    "scan_import": ObjectKind(_("扫码数据导入")),
    "case": ObjectKind(_("病例"), "tracing:case_detail"),
    "contact": ObjectKind(_("接触者"), "tracing:contact_detail"),
    "cluster": ObjectKind(_("聚集性疫情"), "tracing:cluster_detail"),
    "verification_push": ObjectKind(_("推送核查名单"), "tracing:push_detail"),
    "push_item": ObjectKind(_("核查名单人员")),
    "assist_request": ObjectKind(_("协查请求"), "tracing:assist_request"),
    "round": ObjectKind(_("核酸检测轮次"), "testing:round_detail"),
    "sampling_point": ObjectKind(_("采样点")),
    # A box's page is its sampling point's and its lab's work page (404 to anyone else,
    # auditors included): named, not linked.
    "transport_box": ObjectKind(_("转运箱")),
    "result_import": ObjectKind(_("检测结果导入")),
    "tube_result": ObjectKind(_("检测结果")),
    "tube": ObjectKind(_("试管")),
    "recheck": ObjectKind(_("单管复核")),
    "supply_stock": ObjectKind(_("物资库存")),
    "site": ObjectKind(_("隔离点"), "quarantine:site_board"),
    "placement": ObjectKind(_("隔离管控"), "quarantine:placement_detail"),
    "transfer": ObjectKind(_("转运")),
    "checklist_item": ObjectKind(_("隔离点标准条目")),
    "inspection": ObjectKind(_("隔离点检查"), "quarantine:inspection_detail"),
    "rectification": ObjectKind(_("整改")),
    "staff_shift": ObjectKind(_("闭环工作人员")),
}


def action_label(code: str) -> str:
    """The words of an action code ('' when it has none)."""
    label = AUDIT_ACTIONS.get(code)
    return str(label) if label is not None else ""


# The audit filter's groups of actions, by the code's first word (the app's domain).
ACTION_GROUPS: tuple[tuple[Any, frozenset[str]], ...] = (
    (_("账号与审计"), frozenset({"login", "logout", "user", "token"})),
    (_("防控方案"), frozenset({"ruleset"})),
    (_("辖区、场所与风险区"), frozenset({"jurisdiction", "place", "zone"})),
    (_("人员"), frozenset({"person", "household"})),
    (_("场所码扫码"), frozenset({"scans"})),
    (
        _("流调溯源"),
        frozenset({"case", "itinerary", "contacts", "cluster", "push", "assist_request"}),
    ),
    (
        _("全员核酸"),
        frozenset({"round", "point", "box", "result", "recheck", "coverage", "supply", "sample"}),
    ),
    (
        _("隔离管控"),
        frozenset(
            {"site", "room", "placement", "transfer", "health_check", "alert", "home_checkin"}
        ),
    ),
    (
        _("隔离管控"),
        frozenset(
            {
                "site",
                "room",
                "placement",
                "transfer",
                "checklist",
                "inspection",
                "rectification",
                "staff_shift",
                "staff_test",
            }
        ),
    ),
    (_("指挥调度"), frozenset({"figures"})),
)


def action_choices() -> list[tuple[str, str]]:
    """(code, words) of every known action, in the order above."""
    return [(code, str(label)) for code, label in AUDIT_ACTIONS.items()]


def action_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The known actions grouped by domain, for the audit filter's <optgroup>s:
    [(group words, [(code, words)])]; an action of no group comes last, in its own."""
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        (str(label), []) for label, _firsts in ACTION_GROUPS
    ]
    rest: list[tuple[str, str]] = []
    for code, words in action_choices():
        first = code.split(".", 1)[0]
        index = next((i for i, (_l, f) in enumerate(ACTION_GROUPS) if first in f), None)
        (groups[index][1] if index is not None else rest).append((code, words))
    if rest:
        groups.append((str(_("其他")), rest))
    return [g for g in groups if g[1]]


def object_label(object_type: str) -> str:
    kind = AUDIT_OBJECTS.get(object_type)
    return str(kind.label) if kind is not None else ""


def object_url(object_type: str, object_id: str) -> str:
    """The object's page, or '' (no page, an id that is not a number, or not wired)."""
    kind = AUDIT_OBJECTS.get(object_type)
    if kind is None or not kind.url_name or not object_id.isdigit():
        return ""
    try:
        return reverse(kind.url_name, kwargs={"pk": int(object_id)})
    except NoReverseMatch:
        return ""


# --- Jurisdiction names, from the areas app (above accounts) ---------------------------

JurisdictionNamer = Callable[[Iterable[str]], dict[str, str]]
_jurisdiction_namer: list[JurisdictionNamer] = []


def register_jurisdiction_namer(namer: JurisdictionNamer) -> None:
    """Called by the areas app at start-up: `namer(paths)` answers {path: name} in one
    query."""
    _jurisdiction_namer[:] = [namer]


def jurisdiction_names(paths: Iterable[str]) -> dict[str, str]:
    """{path: name} of the given paths (those without a name are left out)."""
    wanted = {p for p in paths if p}
    if not wanted or not _jurisdiction_namer:
        return {}
    return _jurisdiction_namer[0](wanted)
