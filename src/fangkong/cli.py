"""The `fangkong` command: Django's management commands under the product's name.

`fangkong drill city --population 20000`, `fangkong bench copresence --json`,
`fangkong migrate`, `fangkong runserver` ... all run through here.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "fangkong"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
