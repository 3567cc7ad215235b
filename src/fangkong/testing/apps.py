from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    label = "testing"
    verbose_name = _("全员核酸")

    def ready(self) -> None:
        # The overdue board's kind (core.deadlines): single-tube rechecks.
        from fangkong.core.deadlines import DeadlineKind, register
        from fangkong.testing.selectors import labs

        register(
            DeadlineKind(
                code=labs.RECHECK_DEADLINE_KIND,
                label=_("单管复核"),
                capability="recheck.view",
                overdue=labs.rechecks_overdue_items,
                count=labs.rechecks_overdue_count,
                order=30,
            )
        )
