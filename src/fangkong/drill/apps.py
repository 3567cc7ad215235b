from django.apps import AppConfig


class DrillConfig(AppConfig):
    name = "fangkong.drill"
    label = "drill"
