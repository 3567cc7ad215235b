"""The English catalogue covers every Chinese msgid the accounts app uses."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real

APP = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
PATTERNS = [
    re.compile(r"""(?:\b_|gettext_lazy|gettext)\(\s*"([^"]+)\""""),
    re.compile(r"""{% translate "([^"]+)" %}"""),
    re.compile(r"""{% translate '([^']+)' %}"""),
]
BLOCK = re.compile(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}")


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in APP.rglob("*"):
        if path.suffix not in {".py", ".html"} or {"tests", "migrations"} & set(path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            found.update(m for m in pattern.findall(text) if CJK.search(m))
        for block in BLOCK.findall(text):
            found.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", block))
    return found


def test_every_msgid_is_translated():
    catalogue = polib.pofile(str(APP / "locale/en/LC_MESSAGES/django.po"))
    translated = {e.msgid for e in catalogue if e.msgstr and not e.fuzzy}
    used = _msgids()
    assert len(used) > 50
    assert used - translated == set()


@pytest.fixture
def compiled_catalogues():
    call_command("compile_catalogs", stdout=StringIO())
    trans_real._translations = {}
    trans_real._default = None
    yield
    translation.deactivate()
    trans_real._translations = {}
    trans_real._default = None


def test_login_page_in_english(client, db, compiled_catalogues):
    client.cookies["django_language"] = "en"  # the language switch sets this cookie
    response = client.get("/accounts/login/")
    assert "Sign in to fangkong" in response.content.decode()


def test_role_labels_in_english(compiled_catalogues):
    from fangkong.accounts.roles import Role

    with translation.override("en"):
        assert str(Role.TOWN_STAFF.label) == "Town staff"
    with translation.override("zh-hans"):
        assert str(Role.TOWN_STAFF.label) == "镇街工作人员"
