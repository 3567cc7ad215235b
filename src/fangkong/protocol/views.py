"""Pages of the protocol domain: the rule sets, one rule set, and the date calculator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError
from fangkong.core.pagination import sequence_total
from fangkong.protocol import rules
from fangkong.protocol.forms import CalculatorForm
from fangkong.protocol.models import RuleSet, SecondaryMeasure
from fangkong.protocol.selectors import in_force_ids, ruleset_for, ruleset_get, ruleset_list
from fangkong.protocol.vocabulary import EXPOSURE_KIND_WORDS, VENUE_KIND_WORDS, kind_words


def _ruleset_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login, then `ruleset.view`; a refusal (403, 404) is answered by the one translator,
    web.middleware.DomainErrorMiddleware."""

    @login_required
    @wraps(view)
    def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require(request.user, Capability.RULESET_VIEW)
        return view(request, *args, **kwargs)

    return wrapped


def _days(n: int) -> str:
    return _("%(n)s 天") % {"n": n}


def _test_days(days: list[int]) -> str:
    if not days:
        return _("无")
    return _("第 %(days)s 天") % {"days": _("、").join(str(d) for d in days)}


def _hours(n: int) -> str:
    return _("%(n)s 小时") % {"n": n}


def _minutes(n: int) -> str:
    return _("%(n)s 分钟") % {"n": n}


def ruleset_sections(rs: RuleSet) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rule set's values as readable rows, grouped as the protocol texts group them."""
    measure = SecondaryMeasure(rs.secondary_measure).label
    controlled_after_sealed = (
        _days(rs.controlled_after_sealed_days)
        if rs.controlled_after_sealed_days
        else _("与管控区相同")
    )
    precaution = (
        _days(rs.precaution_lift_days) if rs.precaution_lift_days else _("随封控区、管控区一并解除")
    )
    return [
        (
            _("流调"),
            [(_("密接追溯"), _("发病或首次阳性采样前 %(n)s 天") % {"n": rs.contact_lookback_days})],
        ),
        (
            _("密切接触者"),
            [
                (_("密接集中隔离"), _days(rs.close_centralised_days)),
                (_("集中隔离检测日"), _test_days(rs.close_centralised_test_days)),
                (_("密接居家健康监测"), _days(rs.close_home_monitoring_days)),
                (_("居家监测检测日"), _test_days(rs.close_home_test_days)),
            ],
        ),
        (
            _("次密接"),
            [
                (_("次密接措施"), f"{measure} {_days(rs.secondary_days)}"),
                (_("次密接检测日"), _test_days(rs.secondary_test_days)),
            ],
        ),
        (
            _("密接判定"),
            [
                (
                    _("直接判定密接的接触方式"),
                    kind_words(rs.always_close_exposure_kinds, EXPOSURE_KIND_WORDS),
                ),
                (_("密闭小场所类型"), kind_words(rs.small_venue_kinds, VENUE_KIND_WORDS)),
                (_("密闭小场所判定密接的重叠分钟"), _minutes(rs.small_venue_close_minutes)),
                (_("大型场所类型"), kind_words(rs.large_venue_kinds, VENUE_KIND_WORDS)),
                (_("其他场所判定密接的累计重叠分钟"), _minutes(rs.venue_close_minutes)),
                (_("判定次密接的累计重叠分钟"), _minutes(rs.secondary_copresence_minutes)),
            ],
        ),
        (
            _("时空伴随者（风险人员）"),
            [
                (_("风险人员居家健康监测天数"), _days(rs.risk_monitoring_days)),
                (_("风险人员检测日"), _test_days(rs.risk_test_days)),
            ],
        ),
        (
            _("隔离与解除"),
            [
                (
                    _("次密接解除需密接前几次检测阴性"),
                    str(rs.secondary_release_close_negatives)
                    if rs.secondary_release_close_negatives
                    else _("不要求"),
                ),
                (_("每万人储备隔离房间数"), str(rs.quarantine_rooms_per_10k)),
                (_("每日健康监测次数"), str(rs.health_checks_per_day)),
                (_("整改时限(小时)"), _hours(rs.rectification_hours)),
            ],
        ),
        (
            _("风险区"),
            [
                (_("封控区降为管控区"), _("连续 %(n)s 天无新增") % {"n": rs.sealed_downgrade_days}),
                (
                    _("管控区降为防范区"),
                    _("连续 %(n)s 天无新增") % {"n": rs.controlled_downgrade_days},
                ),
                (_("由封控区降级的管控区"), controlled_after_sealed),
                (_("防范区解除"), precaution),
                (
                    _("降级需当日全员核酸筛查阴性"),
                    _("是") if rs.downgrade_requires_screening else _("否"),
                ),
            ],
        ),
        (
            _("核酸检测"),
            [
                (_("封控区混采数"), _("%(n)s 人一管") % {"n": rs.pool_size_sealed}),
                (_("管控区混采数"), _("%(n)s 人一管") % {"n": rs.pool_size_controlled}),
                (_("防范区混采数"), _("%(n)s 人一管") % {"n": rs.pool_size_precaution}),
                (_("每名采样员服务人数"), str(rs.samplers_per_population)),
            ],
        ),
        (
            _("时限"),
            [
                (_("核心信息时限"), _hours(rs.case_core_facts_hours)),
                (_("流调报告时限"), _hours(rs.case_report_hours)),
                (_("推送核查时限"), _hours(rs.verification_push_hours)),
                (_("核酸轮次时限"), _hours(rs.round_deadline_hours)),
                (_("单管复核时限"), _hours(rs.recheck_hours)),
                (_("镇街日报报送时点"), _("每日 %(n)s:00 前") % {"n": rs.town_report_hour}),
            ],
        ),
    ]


@_ruleset_view
def ruleset_list_page(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    rulesets = list(ruleset_list(actor=request.user))
    in_force = in_force_ids(rulesets, on_date=today)
    rows = [
        {"rs": rs, "in_force": rs.pk in in_force, "future": rs.effective_from > today}
        for rs in rulesets
    ]
    return render(
        request, "protocol/list.html", {"rows": rows, "today": today, "total": sequence_total(rows)}
    )


@_ruleset_view
def ruleset_detail_page(request: AuthedRequest, pk: int) -> HttpResponse:
    rs = ruleset_get(actor=request.user, pk=pk)
    return render(
        request,
        "protocol/detail.html",
        {"rs": rs, "sections": ruleset_sections(rs), "overrides": list(rs.overrides.all())},
    )


@_ruleset_view
def calculator_page(request: AuthedRequest) -> HttpResponse:
    form = CalculatorForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        on_date = form.rule_date(timezone.localdate())
        try:
            rs = ruleset_for(on_date=on_date, path=data.get("path") or "")
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(request, "protocol/calculator.html", context, status=400)
        p = rules.Protocol.from_ruleset(rs)
        context.update({"ruleset": rs, "on_date": on_date})
        if data.get("last_exposure_on"):
            context["close"] = rules.close_contact_schedule(
                p, last_exposure_on=data["last_exposure_on"]
            )
            context["secondary"] = rules.secondary_contact_schedule(
                p, last_exposure_on=data["last_exposure_on"]
            )
            context["secondary_measure"] = SecondaryMeasure(p.secondary_measure).label
        if data.get("onset_on") or data.get("first_positive_sampled_on"):
            context["lookback"] = rules.contact_lookback_start(
                p,
                onset_on=data.get("onset_on"),
                first_positive_sampled_on=data.get("first_positive_sampled_on"),
            )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "protocol/calculator.html", context, status=status)
