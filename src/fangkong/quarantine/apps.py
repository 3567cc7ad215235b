from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("隔离管控")

    def ready(self) -> None:
        # Receivers of the lower apps' signals (a new exposure, a rule-set change, a lab
        # result): each area of quarantine connects its own.
        from fangkong.quarantine import receivers  # noqa: F401
