"""Ship the quarantine-site standard as the inspection checklist (对照标准检查表).

Paraphrased from the national design guide for centralised quarantine sites
(国卫办规划函〔2022〕255号《集中隔离场所设计导则（试行）》), the national management rules for
centralised quarantine (《新型冠状病毒肺炎疫情防控集中隔离医学观察场所管理指南》, as in
version 9 of the protocol) and provincial practice. The checklist is data: command edits,
adds and retires items on the checklist page; an item retired stays in old inspections.
"""

from django.db import migrations

# (code, category, text); the order is the list's.
CHECKLIST: list[tuple[str, str, str]] = [
    ("A01", "选址与布局", "远离人口密集区和居民区，交通便利，周边设置警戒区域"),
    ("A02", "选址与布局", "三区两通道：生活区、医学观察区、物资保障区分区明确，工作人员通道与隔离人员通道分开且不交叉"),
    ("A03", "选址与布局", "设置卫生通过区（穿脱防护用品区），流程标识清楚"),
    ("A04", "选址与布局", "自然通风良好；不使用或经评估消毒后方可使用集中空调，回风口有防护"),
    ("A05", "选址与布局", "就近有定点医院，转运路线和车辆落实"),
    ("B01", "房间", "单人单间，每间有独立卫生间（儿童、孕产妇、重症患者等可留陪护）"),
    ("B02", "房间", "备有一定比例的多人间和无障碍房间"),
    ("B03", "房间", "房间内配备体温计、消毒用品、医疗废物袋和垃圾桶"),
    ("B04", "房间", "房间可开窗通风，卫生间排风正常，下水道存水弯有水封"),
    ("C01", "人员管理", "隔离人员不得串门，不得离开房间，门口设置监控和门磁"),
    ("C02", "人员管理", "入住登记信息完整，一人一档，与转运交接单一致"),
    ("C03", "人员管理", "陪护人员符合要求（非老年人、无基础疾病），与被陪护人员同住一间"),
    ("C04", "人员管理", "餐食、生活物资无接触配送，送至门口后敲门告知"),
    ("C05", "人员管理", "有心理疏导和特殊需求（慢病用药、孕产妇、儿童）服务安排"),
    ("D01", "医疗与检测", "每日两次体温和症状监测，记录完整，异常即时报告"),
    ("D02", "医疗与检测", "按方案规定的时间点采样检测，结果及时登记"),
    ("D03", "医疗与检测", "驻点医生到岗，出现发热等症状按规定转运定点医院"),
    ("D04", "医疗与检测", "解除隔离前核酸结果齐全且均为阴性，方可解除"),
    ("E01", "消毒与废弃物", "每日清洁消毒公共区域，消毒记录完整"),
    ("E02", "消毒与废弃物", "医疗废物规范收集（双层黄色医疗废物袋）、封扎、标识"),
    ("E03", "消毒与废弃物", "医疗废物暂存点加盖上锁、远离人群，专人专车按时转运，交接记录完整"),
    ("E04", "消毒与废弃物", "污水经消毒处理后排入市政管网，余氯检测有记录"),
    ("E05", "消毒与废弃物", "隔离人员离开后房间终末消毒，合格后方可再次使用"),
    ("F01", "闭环管理", "工作人员闭环管理，集中居住，不与家人和社会人员接触"),
    ("F02", "闭环管理", "工作人员定期核酸检测（至少每2天1次），每日健康监测"),
    ("F03", "闭环管理", "工作人员按岗位穿戴二级防护，处置突发情况时三级防护"),
    ("F04", "闭环管理", "工作人员闭环期满后按规定集中或居家隔离观察"),
    ("F05", "闭环管理", "工作人员上岗前经培训考核，熟悉穿脱防护用品流程"),
]


def ship(apps, schema_editor):
    ChecklistItem = apps.get_model("quarantine", "ChecklistItem")
    for n, (code, category, text) in enumerate(CHECKLIST, start=1):
        ChecklistItem.objects.get_or_create(
            code=code, defaults={"category": category, "text": text, "order": n * 10}
        )


def unship(apps, schema_editor):
    ChecklistItem = apps.get_model("quarantine", "ChecklistItem")
    ChecklistItem.objects.filter(code__in=[code for code, _c, _t in CHECKLIST]).delete()


class Migration(migrations.Migration):
    dependencies = [("quarantine", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]
