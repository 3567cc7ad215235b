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

        from fangkong.accounts.roles import Capability
        from fangkong.command.selectors.search import task_hits
        from fangkong.core import search

        search.register(
            search.Searcher(
                code="command.task",
                label=_("任务"),
                capability=Capability.TASK_VIEW,
                find=lambda actor, q, limit: task_hits(user=actor, q=q, limit=limit),
                order=50,
                hint=_("任务编号（或其后四位）或任务标题"),
            )
        )
