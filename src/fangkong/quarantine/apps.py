from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("隔离管控")

    def ready(self) -> None:
        # Receivers of the lower apps' signals (a new exposure, a rule-set change, a lab
        # result): each area of quarantine connects its own.
        # The overdue board's kinds (core.deadlines): rectifications and the stay's tests.
        from fangkong.core.deadlines import DeadlineKind, register
        from fangkong.quarantine import receivers  # noqa: F401
        from fangkong.quarantine.selectors import care, inspections

        register(
            DeadlineKind(
                code=inspections.RECTIFICATION_DEADLINE_KIND,
                label=_("隔离点整改"),
                capability="site.view",
                overdue=inspections.rectifications_overdue_items,
                count=inspections.rectifications_overdue_count,
                order=40,
            )
        )
        register(
            DeadlineKind(
                code=care.PLACEMENT_TEST_DEADLINE_KIND,
                label=_("隔离期检测"),
                capability="placement.care",
                overdue=care.tests_overdue_items,
                count=care.tests_overdue_count,
                order=50,
            )
        )
