from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "fangkong.areas"
    label = "areas"
    verbose_name = _("辖区、场所与风险区")

    def ready(self) -> None:
        # The audit log (accounts, below areas) names jurisdictions through areas.
        from fangkong.accounts import audit_vocabulary
        from fangkong.areas import selectors

        audit_vocabulary.register_jurisdiction_namer(
            lambda paths: selectors.jurisdiction_names(paths=paths)
        )

        from fangkong.accounts.roles import Capability
        from fangkong.core import search

        search.register(
            search.Searcher(
                code="areas.place",
                label=_("场所"),
                capability=Capability.AREA_VIEW,
                find=lambda actor, q, limit: selectors.place_search(user=actor, q=q, limit=limit),
                order=40,
                hint=_("场所码或场所名称"),
            )
        )
        search.register(
            search.Searcher(
                code="areas.zone",
                label=_("风险区"),
                capability=Capability.ZONE_VIEW,
                find=lambda actor, q, limit: selectors.zone_search(user=actor, q=q, limit=limit),
                order=45,
                hint=_("风险区名称"),
            )
        )
        search.register(
            search.Searcher(
                code="areas.jurisdiction",
                label=_("辖区"),
                capability=Capability.AREA_VIEW,
                find=lambda actor, q, limit: selectors.jurisdiction_search(
                    user=actor, q=q, limit=limit
                ),
                order=50,
                hint=_("镇街或村社名称"),
            )
        )
