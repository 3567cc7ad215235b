from django.apps import AppConfig


class ProtocolConfig(AppConfig):
    name = "fangkong.protocol"
    label = "protocol"
    verbose_name = "防控方案"
