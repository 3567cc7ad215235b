from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"
    verbose_name = _("基础设施")


class TaskQueueConfig(TasksAppConfig):
    """django-tasks' database backend (the job queue, decision 0010) with Chinese names
    in the Django admin. Listed in INSTALLED_APPS instead of `django_tasks_db`; its label
    and tables stay the same."""

    verbose_name = _("后台任务队列")  # type: ignore[assignment]

    def ready(self) -> None:
        super().ready()
        from django_tasks_db.models import DBTaskResult

        # Names only (not in the model's migration state): the admin's list of models.
        DBTaskResult._meta.verbose_name = _("任务执行记录")
        DBTaskResult._meta.verbose_name_plural = _("任务执行记录")
