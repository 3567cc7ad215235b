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
