from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = "人员"

    def ready(self) -> None:
        from fangkong.people import checks  # noqa: F401 - registers the system checks
