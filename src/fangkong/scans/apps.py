from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScansConfig(AppConfig):
    name = "fangkong.scans"
    label = "scans"
    verbose_name = _("场所码扫码")
