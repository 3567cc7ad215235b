"""Ship the national protocol versions 8 and 9 as rule sets.

Values come from the public texts; `source` says what each value relies on. Values that
the national texts leave to local practice (pooling, sampler staffing, hour deadlines)
keep the model's defaults, which are this platform's local defaults, and `source` says so.
"""

import datetime as dt

from django.db import migrations

V8_SOURCE = (
    "国务院应对新型冠状病毒肺炎疫情联防联控机制综合组《新型冠状病毒肺炎防控方案（第八版）》"
    "（联防联控机制综发〔2021〕51号，2021年5月11日印发，5月14日公布）。\n"
    "- 密接判定：疑似/确诊病例症状出现前4天、无症状感染者标本采样前4天起（第七版为2天）。\n"
    "- 密接：14天集中隔离医学观察，第1、4、7、14天核酸检测（鼻咽拭子，解除前双采双检）；"
    "解除后7天居家健康监测，第2、7天核酸检测（2021年5月14日公布的方案摘要）。\n"
    "- 次密接（密接的密接）：7天集中隔离医学观察（第九版解读中的对照表）；第1、4、7天核酸检测"
    "为当时各地通行做法，方案原文未在本平台可查的资料中逐字核对。\n"
    "- 中、高风险地区：连续14天无新增病例降级（设计文档 DESIGN.md 给定，未在可查资料中逐字核对）；"
    "不要求当日全员筛查。\n"
    "- 混采数（封控1、管控10、防范20）、采样员配置、各项时限（核心信息4小时、流调报告24小时、"
    "推送核查24小时、轮次24小时、复核6小时）为本平台本地默认值，非第八版原文。"
)

V9_SOURCE = (
    "国务院应对新型冠状病毒肺炎疫情联防联控机制综合组《新型冠状病毒肺炎防控方案（第九版）》"
    "（联防联控机制综发〔2022〕71号，2022年6月28日公布）及同日发布的修订要点。\n"
    "- 密接判定：症状出现前4天或无症状感染者标本采样前4天起。\n"
    "- 密接：由“14天集中隔离医学观察+7天居家健康监测”调整为“7天集中隔离医学观察+3天居家健康"
    "监测”，自最后一次暴露起计算；集中隔离第1、2、3、5、7天和居家健康监测第3天核酸检测"
    "（口咽拭子），解除集中隔离前不要求双采双检。\n"
    "- 次密接：由“7天集中隔离医学观察”调整为“7天居家隔离医学观察”，第1、4、7天核酸检测。\n"
    "- 风险区：高风险区（封控区）连续7天无新增感染者且第7天区域内所有人员完成一轮核酸筛查均为"
    "阴性，降为中风险区；此后连续3天无新增感染者降为低风险区。中风险区（管控区）连续7天无新增"
    "感染者且第7天全员筛查阴性，降为低风险区。低风险区（防范区）在所有中高风险区解除后随之解除。\n"
    "- 混采数（封控1、管控10、防范20）、采样员配置、各项时限为本平台本地默认值，非第九版原文。"
)

COMMON = {
    "region": "",
    "contact_lookback_days": 4,
    "precaution_lift_days": 0,
    "pool_size_sealed": 1,
    "pool_size_controlled": 10,
    "pool_size_precaution": 20,
    "case_core_facts_hours": 4,
    "case_report_hours": 24,
    "verification_push_hours": 24,
    "round_deadline_hours": 24,
    "recheck_hours": 6,
    "samplers_per_population": 360,
}

RULESETS = {
    "v8": {
        **COMMON,
        "name": "新型冠状病毒肺炎防控方案（第八版）",
        "effective_from": dt.date(2021, 5, 11),
        "source": V8_SOURCE,
        "close_centralised_days": 14,
        "close_home_monitoring_days": 7,
        "close_centralised_test_days": [1, 4, 7, 14],
        "close_home_test_days": [2, 7],
        "secondary_measure": "centralised",
        "secondary_days": 7,
        "secondary_test_days": [1, 4, 7],
        "sealed_downgrade_days": 14,
        "controlled_downgrade_days": 14,
        "controlled_after_sealed_days": 0,
        "downgrade_requires_screening": False,
    },
    "v9": {
        **COMMON,
        "name": "新型冠状病毒肺炎防控方案（第九版）",
        "effective_from": dt.date(2022, 6, 28),
        "source": V9_SOURCE,
        "close_centralised_days": 7,
        "close_home_monitoring_days": 3,
        "close_centralised_test_days": [1, 2, 3, 5, 7],
        "close_home_test_days": [3],
        "secondary_measure": "home",
        "secondary_days": 7,
        "secondary_test_days": [1, 4, 7],
        "sealed_downgrade_days": 7,
        "controlled_downgrade_days": 7,
        "controlled_after_sealed_days": 3,
        "downgrade_requires_screening": True,
    },
}


def ship(apps, schema_editor):
    RuleSet = apps.get_model("protocol", "RuleSet")
    for version, values in RULESETS.items():
        RuleSet.objects.update_or_create(version=version, defaults=values)


def unship(apps, schema_editor):
    RuleSet = apps.get_model("protocol", "RuleSet")
    RuleSet.objects.filter(version__in=list(RULESETS), overrides__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("protocol", "0002_zone_downgrade_fields"),
    ]

    operations = [migrations.RunPython(ship, unship)]
