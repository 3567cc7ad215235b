"""Language: Chinese by default, English on request, and every UI string translated.

The catalogue coverage test extracts every translatable literal of every app — the
`{% translate %}` / `{% trans %}` / `{% blocktranslate %}` tags (and `_("…")` filter
arguments) of the templates, and the gettext-family calls of the Python code — and
asserts that each msgid has a non-empty English msgstr in some app's
`locale/en/LC_MESSAGES/django.po`.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import polib
import pytest
from django.utils import translation

SRC = Path(__file__).resolve().parents[2]  # src/fangkong
SKIP_PARTS = {"tests", "migrations", "vendor", "node_modules", "__pycache__"}

# msgid key: (context, msgid); context "" when none.
Key = tuple[str, str]

_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
TRANS_TAG = re.compile(
    r"\{%\s*(?:translate|trans)\s+(?P<msg>" + _STRING + r")"
    r"(?:\s+context\s+(?P<ctx>" + _STRING + r"))?[^%]*%\}"
)
BLOCK_TAG = re.compile(
    r"\{%\s*blocktrans(?:late)?\b(?P<args>.*?)%\}(?P<body>.*?)"
    r"\{%\s*endblocktrans(?:late)?\s*%\}",
    re.S,
)
PLURAL_TAG = re.compile(r"\{%\s*plural\s*%\}")
VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
CONTEXT_ARG = re.compile(r"\bcontext\s+(?P<ctx>" + _STRING + r")")
FILTER_ARG = re.compile(r"_\((?P<msg>" + _STRING + r")\)")

# Python callables whose first (or, for the p* forms, second) argument is a msgid.
PLAIN_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "ugettext",
    "ugettext_lazy",
}
CONTEXT_CALLS = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}


def _unquote(literal: str) -> str:
    return literal[1:-1].replace('\\"', '"').replace("\\'", "'")


def _sources(suffix: str) -> list[Path]:
    return sorted(
        p for p in SRC.rglob(f"*{suffix}") if not SKIP_PARTS.intersection(p.relative_to(SRC).parts)
    )


def template_msgids(text: str) -> set[Key]:
    found: set[Key] = set()
    for match in TRANS_TAG.finditer(text):
        ctx = _unquote(match["ctx"]) if match["ctx"] else ""
        found.add((ctx, _unquote(match["msg"])))
    for match in BLOCK_TAG.finditer(text):
        args, body = match["args"], match["body"]
        singular = PLURAL_TAG.split(body, maxsplit=1)[0]
        msg = VARIABLE.sub(r"%(\1)s", singular.replace("%", "%%"))
        if re.search(r"\btrimmed\b", args):
            msg = re.sub(r"\s*\n\s*", " ", msg.strip())
        ctx_match = CONTEXT_ARG.search(args)
        found.add((_unquote(ctx_match["ctx"]) if ctx_match else "", msg))
    # _("…") as a filter or tag argument: {{ x|default:_("辖区") }}
    for block in re.findall(r"\{[{%].*?[}%]\}", text, re.S):
        for match in FILTER_ARG.finditer(block):
            found.add(("", _unquote(match["msg"])))
    return found


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def python_msgids(text: str) -> set[Key]:
    found: set[Key] = set()
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        args = node.args
        if name in PLAIN_CALLS and args:
            if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                found.add(("", args[0].value))
        elif name in CONTEXT_CALLS and len(args) >= 2:
            ctx, msg = args[0], args[1]
            if (
                isinstance(ctx, ast.Constant)
                and isinstance(ctx.value, str)
                and isinstance(msg, ast.Constant)
                and isinstance(msg.value, str)
            ):
                found.add((ctx.value, msg.value))
    return found


def all_msgids() -> dict[Key, set[str]]:
    """Every msgid of src/fangkong → the files (relative to src/fangkong) that use it."""
    where: dict[Key, set[str]] = defaultdict(set)
    for path in _sources(".html") + _sources(".txt"):
        if "templates" not in path.parts:
            continue
        for key in template_msgids(path.read_text(encoding="utf-8")):
            where[key].add(str(path.relative_to(SRC)))
    for path in _sources(".py"):
        for key in python_msgids(path.read_text(encoding="utf-8")):
            where[key].add(str(path.relative_to(SRC)))
    where.pop(("", ""), None)
    return where


def english_catalogues() -> list[Path]:
    return sorted(
        p
        for p in SRC.rglob("locale/en/LC_MESSAGES/django.po")
        if not SKIP_PARTS.intersection(p.relative_to(SRC).parts)
    )


def translated_keys() -> set[Key]:
    keys: set[Key] = set()
    for path in english_catalogues():
        for entry in polib.pofile(str(path)):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            text = entry.msgstr or (entry.msgstr_plural or {}).get(0, "")
            if text.strip():
                keys.add((entry.msgctxt or "", entry.msgid))
    return keys


# --- the extractor itself ---------------------------------------------------------------


def test_extractor_finds_every_tag_form() -> None:
    text = (
        '{% translate "人员" %}{% trans \'辖区\' %}{% translate "月" context "时间" %}'
        '{% translate "标题" as title %}'
        "{% blocktranslate with n=count trimmed %}\n  共 {{ n }}\n  人\n{% endblocktranslate %}"
        "{% blocktrans %}{{ a }} 的 100%{% plural %}many{% endblocktrans %}"
        '{{ x|default:_("下级辖区") }}'
    )

    assert template_msgids(text) == {
        ("", "人员"),
        ("", "辖区"),
        ("时间", "月"),
        ("", "标题"),
        ("", "共 %(n)s 人"),
        ("", "%(a)s 的 100%%"),
        ("", "下级辖区"),
    }


def test_extractor_finds_every_python_call_form() -> None:
    text = (
        "from django.utils.translation import gettext as _\n"
        'a = _("人员")\n'
        'b = gettext_lazy("风险区" "地图")\n'
        'c = translation.gettext("场所")\n'
        'd = pgettext_lazy("月份", "五月")\n'
        'e = ngettext("%(n)s 人", "%(n)s 人", 2)\n'
        "f = _(variable)\n"
    )

    assert python_msgids(text) == {
        ("", "人员"),
        ("", "风险区地图"),
        ("", "场所"),
        ("月份", "五月"),
        ("", "%(n)s 人"),
    }


# --- the catalogues ---------------------------------------------------------------------


def test_every_catalogue_parses_and_declares_utf8() -> None:
    catalogues = english_catalogues()

    assert any(p.parts[-5] == "web" for p in catalogues), "the web catalogue is missing"
    for path in catalogues:
        po = polib.pofile(str(path))
        assert "charset=UTF-8" in po.metadata.get("Content-Type", ""), path
        if any(entry.msgid_plural for entry in po):
            # Without the header msgfmt refuses the catalogue and gettext guesses.
            assert po.metadata.get("Plural-Forms", "").startswith("nplurals=2;"), path


def test_every_msgid_has_an_english_translation() -> None:
    """Coverage: every translatable literal of every app has an English msgstr somewhere."""
    used = all_msgids()
    translated = translated_keys()

    missing = {key: files for key, files in used.items() if key not in translated}

    report = "\n".join(
        f"  {('[' + ctx + '] ') if ctx else ''}{msgid!r}  ← {', '.join(sorted(files))}"
        for (ctx, msgid), files in sorted(missing.items(), key=lambda kv: sorted(kv[1])[0])
    )
    assert not missing, f"{len(missing)} msgid(s) without English in any catalogue:\n{report}"
    assert len(used) > 50  # the extractor really ran over the sources


def test_web_strings_are_all_in_the_web_catalogue() -> None:
    """The web app's own strings live in its own catalogue (one owner per string)."""
    web_keys = {
        key for key, files in all_msgids().items() if any(f.startswith("web/") for f in files)
    }
    po = polib.pofile(str(SRC / "web/locale/en/LC_MESSAGES/django.po"))
    own = {(e.msgctxt or "", e.msgid) for e in po if e.msgstr.strip() and not e.obsolete}

    assert sorted(web_keys - own) == []


# --- rendering -------------------------------------------------------------------------


@pytest.fixture
def english_catalogue_compiled() -> Any:
    """Compile the .po catalogues (as `fangkong compile_catalogs` does) if a .mo is older,
    and make Django reload them."""
    from django.utils.translation import trans_real

    stale = False
    for po_path in SRC.rglob("locale/*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            stale = True
    if stale:
        trans_real._translations = {}
        trans_real._active = trans_real.Local()
        trans_real._default = None
    yield
    translation.activate("zh-hans")
    translation.deactivate()


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_default_language_is_chinese(command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    page = client.get("/").content.decode()

    assert '<html lang="zh-hans">' in page
    assert ">人员</a>" in page and ">指挥大屏</a>" in page and ">审计日志</a>" in page
    assert '<option value="zh-hans" selected>' in page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_switching_to_english_renders_the_nav_in_english(
    english_catalogue_compiled: None, command_user: Any, client: Any
) -> None:
    client.force_login(command_user)

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()

    assert switched.status_code == 302
    assert '<html lang="en">' in page
    assert ">Dashboard</a>" in page and ">People</a>" in page and ">Audit log</a>" in page
    assert ">Zones</a>" in page and ">Places</a>" in page and ">Jurisdictions</a>" in page
    assert ">人员</a>" not in page and ">指挥大屏</a>" not in page
    assert '<option value="en" selected>' in page
    assert "Total cases" in page  # the dashboard body, not only the nav


def test_english_landing_page(
    english_catalogue_compiled: None, tree: Any, make_user: Any, client: Any
) -> None:
    from fangkong.accounts.roles import Role

    client.force_login(make_user(Role.SAMPLER, tree.community_a))
    client.cookies["django_language"] = "en"

    page = client.get("/").content.decode()

    assert "My post" in page and "What I can do" in page
    assert "我的岗位" not in page


def test_no_msgid_is_translated_two_ways() -> None:
    """Catalogues are merged at run time: one msgid, one English text (else the app order
    decides which one shows). Use pgettext with a context when the meanings differ."""
    seen: dict[tuple[str | None, str], set[tuple[str, str]]] = {}
    for po_path in sorted(SRC.glob("*/locale/en/LC_MESSAGES/django.po")):
        for entry in polib.pofile(str(po_path)):
            key = (entry.msgctxt, entry.msgid)
            seen.setdefault(key, set()).add((entry.msgstr, po_path.parts[-5]))
    conflicts = {k: v for k, v in seen.items() if len({text for text, _app in v}) > 1}
    assert conflicts == {}


def test_browser_language_does_not_override_chinese_default(command_user: Any, client: Any) -> None:
    client.force_login(command_user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    assert "指挥大屏" in response.content.decode()
