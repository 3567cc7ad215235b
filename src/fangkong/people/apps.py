from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = _("人员")

    def ready(self) -> None:
        from fangkong.accounts.roles import Capability
        from fangkong.core import search
        from fangkong.people import checks  # noqa: F401 - registers the system checks
        from fangkong.people.search import person_find, person_query_needs_post

        search.register(
            search.Searcher(
                code="people.person",
                label=_("人员"),
                capability=Capability.PERSON_VIEW,
                find=lambda actor, q, limit: person_find(user=actor, q=q, limit=limit),
                order=20,
                hint=_("证件号码后四位、姓名首字母（如 zs）、完整身份证号或手机号（留痕）"),
                needs_post=person_query_needs_post,
            )
        )
