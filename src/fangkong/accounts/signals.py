"""Signals accounts sends to the apps above it (which accounts never imports).

`demo_account_ready`: sent by `fangkong demo_users` for each demo account that names a
unit of a higher app (the department account's department, by its code), whether the
account was just created or existed. Keyword arguments `user_id: int`, `unit: str`. The
command app makes the user a member of that department."""

from __future__ import annotations

from django.dispatch import Signal

demo_account_ready = Signal()
