from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommandConfig(AppConfig):
    name = "fangkong.command"
    label = "command"
    verbose_name = _("指挥调度")

    def ready(self) -> None:
        # Each part of command registers its own deadline kinds (core.deadlines).
        from fangkong.command.deadlines_town_reports import register_town_reports

        register_town_reports()
