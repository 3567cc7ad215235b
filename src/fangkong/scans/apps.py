from django.apps import AppConfig


class ScansConfig(AppConfig):
    name = "fangkong.scans"
    label = "scans"
    verbose_name = "场所码扫码"
