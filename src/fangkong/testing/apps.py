from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    label = "testing"
    verbose_name = "全员核酸"
