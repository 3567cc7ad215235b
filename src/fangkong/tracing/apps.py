from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    label = "tracing"
    verbose_name = _("流调溯源")

    def ready(self) -> None:
        # The overdue board's kinds (core.deadlines): pushed lists and investigations.
        from fangkong.core.deadlines import DeadlineKind, register
        from fangkong.tracing.selectors import cases, pushes

        register(
            DeadlineKind(
                code=pushes.PUSH_DEADLINE_KIND,
                label=_("推送核查"),
                capability="push.view",
                overdue=pushes.pushes_overdue_items,
                count=pushes.pushes_overdue_count,
                count_by_owner=pushes.pushes_overdue_count_by_owner,
                order=10,
            )
        )
        register(
            DeadlineKind(
                code=cases.CASE_DEADLINE_KIND,
                label=_("流调"),
                capability="case.manage",
                overdue=cases.cases_overdue_items,
                count=cases.cases_overdue_count,
                order=20,
            )
        )

        from fangkong.accounts.roles import Capability
        from fangkong.core import search
        from fangkong.tracing.selectors.cases import case_find

        search.register(
            search.Searcher(
                code="tracing.case",
                label=_("病例"),
                capability=Capability.CASE_VIEW,
                find=lambda actor, q, limit: case_find(user=actor, q=q, limit=limit),
                order=10,
                hint=_("病例编号（如 TX2022-0001）或其序号"),
            )
        )
        from fangkong.tracing.selectors.pushes import push_find

        search.register(
            search.Searcher(
                code="tracing.push",
                label=_("推送清单"),
                capability=Capability.PUSH_VIEW,
                find=lambda actor, q, limit: push_find(user=actor, q=q, limit=limit),
                order=15,
                hint=_("推送清单编号（如 TS20261205-0001）或其序号"),
            )
        )
