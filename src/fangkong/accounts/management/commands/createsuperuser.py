"""`fangkong createsuperuser`: Django's command, with the new account audited
(`services.user_superuser_created`). The account is bound to no role or jurisdiction,
so it sees nothing outside the admin until it is bound there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import User


class Command(createsuperuser.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        # Django's command prompts and does not return the user: find it afterwards by
        # when it joined (no transaction is held while prompting).
        started = timezone.now()
        super().handle(*args, **options)
        created = User.objects.db_manager(options["database"]).filter(
            is_superuser=True, date_joined__gte=started
        )
        for user in created:
            services.user_superuser_created(user=user, via="command")
