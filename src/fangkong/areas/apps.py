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
