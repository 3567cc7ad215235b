from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommandConfig(AppConfig):
    name = "fangkong.command"
    label = "command"
    verbose_name = _("指挥调度")

    def ready(self) -> None:
        from fangkong.command import receivers  # noqa: F401
        from fangkong.command.deadlines import TASK_DEADLINE
        from fangkong.command.object_actions import TASK_DISPATCH
        from fangkong.core import deadlines, object_actions

        deadlines.register(TASK_DEADLINE)
        object_actions.register(TASK_DISPATCH)

        # Each part of command registers its own deadline kinds (core.deadlines).
        from fangkong.command.deadlines_town_reports import register_town_reports

        register_town_reports()
