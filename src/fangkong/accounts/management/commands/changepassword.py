"""`fangkong changepassword`: Django's command, with the change audited and the user's
API tokens revoked, as when the password is set in the admin
(`services.user_password_changed`)."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.management.commands import changepassword

from fangkong.accounts import services
from fangkong.accounts.models import User


class Command(changepassword.Command):
    def handle(self, *args: Any, **options: Any) -> str | None:
        # Django's command prompts for the password: no transaction is held meanwhile
        # (SQLite takes the write lock when one begins). It raises if nothing changed.
        result = super().handle(*args, **options)
        username = options["username"] or getpass.getuser()
        user = User.objects.db_manager(options["database"]).get(username=username)
        services.user_password_changed(actor=None, user=user, via="command")
        return result
