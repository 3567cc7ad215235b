from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillConfig(AppConfig):
    name = "fangkong.drill"
    label = "drill"
    verbose_name = _("演练")
