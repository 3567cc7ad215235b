"""Compile every app's .po translation catalogue to .mo with polib (no GNU gettext needed)."""

from __future__ import annotations

from pathlib import Path

import polib
from django.core.management.base import BaseCommand

SRC = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = "Compile the .po catalogues under src/fangkong to .mo files."

    def handle(self, *args: object, **options: object) -> None:
        count = 0
        for po_path in sorted(SRC.rglob("locale/*/LC_MESSAGES/*.po")):
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            count += 1
        self.stdout.write(f"compiled {count} catalogue(s)")
