import django.contrib.admin.apps as admin_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fangkong.accounts"
    label = "accounts"
    verbose_name = _("账号与审计")


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with fangkong's site (`admin_site.FangkongAdminSite`): its login
    goes through the lockout and the audit log. Listed in INSTALLED_APPS instead of
    `django.contrib.admin`."""

    default = False  # `fangkong.accounts` itself stays AccountsConfig
    default_site = "fangkong.accounts.admin_site.FangkongAdminSite"
