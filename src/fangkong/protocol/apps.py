from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolConfig(AppConfig):
    name = "fangkong.protocol"
    label = "protocol"
    verbose_name = _("防控方案")
