from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = _("人员")

    def ready(self) -> None:
        from fangkong.people import checks  # noqa: F401 - registers the system checks
