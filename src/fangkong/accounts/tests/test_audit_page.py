"""The audit log in words (issue 11, item 10): actions, object types, fields and
jurisdictions by their names; the filter offers actions by their words."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.accounts import audit_vocabulary, services
from fangkong.testkit import areas as kit_areas

SRC = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|select)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _action_literals() -> set[str]:
    """Every action code written as a literal in the services: `action="x.y"` arguments,
    `"action": "x.y"` entries and the first argument of the apps' audit helpers."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        if {"tests", "migrations", "testkit", "drill", "bench"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[ast.AST] = []
            if isinstance(node, ast.Call):
                values += [k.value for k in node.keywords if k.arg == "action"]
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in {"audit_case", "_audit", "_box_audit"} and len(node.args) > 1:
                    values.append(node.args[1])
            if isinstance(node, ast.Dict):
                values += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "action"
                ]
            found |= {
                v.value
                for v in values
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and "." in v.value
            }
    return {a for a in found if ACTION.match(a)}


def test_every_audited_action_has_words() -> None:
    literals = _action_literals()
    assert "person.reveal" in literals and "box.pack" in literals  # the scan finds them
    missing = sorted(literals - set(audit_vocabulary.AUDIT_ACTIONS))
    assert not missing, f"audit actions without words in accounts/audit_vocabulary.py: {missing}"


def test_audit_page_shows_words_names_and_links(client: Any, command_user: Any, tree: Any) -> None:
    zone = kit_areas.zone(tree.community_a, "controlled", name="虹桥村管控区")
    services.audit_record(
        actor=command_user,
        action="person.reveal",
        object_type="person",
        object_id="42",
        field="phone",
        jurisdiction_path=tree.grid_a.path,
    )
    client.force_login(command_user)

    response = client.get(reverse("accounts:audit"))

    html = response.content.decode()
    text = _visible_text(html)
    assert "划定风险区" in text and "查看完整证件号或手机号" in text
    assert "手机号码" in text  # the field
    assert "虹桥村" in text and "虹桥村第一网格" in text  # jurisdictions by name
    for code in ("zone.create", "person.reveal", "verification_push", tree.grid_a.path):
        assert code not in text
    assert f'href="{reverse("areas:zone_detail", kwargs={"pk": zone.pk})}"' in html
    assert 'data-testid="list-total"' in html
    # the filter offers actions by their words
    assert '<option value="zone.create">划定风险区</option>' in html
    filtered = client.get(reverse("accounts:audit"), {"action": "zone.create"})
    assert [r["action_label"] for r in filtered.context["rows"]] == ["划定风险区"]


def test_audit_page_names_jurisdictions_in_one_query(
    client: Any, command_user: Any, tree: Any
) -> None:
    def record(n: int) -> None:
        for i in range(n):
            path = (tree.community_a, tree.community_b, tree.town_a)[i % 3].path
            services.audit_record(
                actor=None, action="person.view", object_type="person", jurisdiction_path=path
            )

    client.force_login(command_user)
    record(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:audit"))
    record(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("accounts:audit"))

    assert len(many) == len(few)
    names = {r["jurisdiction_name"] for r in response.context["rows"]}
    assert names == {"虹桥村", "永越村", "乌镇镇"}


def test_an_action_without_words_is_shown_muted_not_lost(client: Any, command_user: Any) -> None:
    services.audit_record(actor=None, action="future.action", object_type="future_thing")
    client.force_login(command_user)

    html = client.get(reverse("accounts:audit")).content.decode()

    assert '<code class="muted">future.action</code>' in html


def test_the_filter_groups_every_action_once_by_domain() -> None:
    groups = audit_vocabulary.action_groups()

    codes = [code for _group, choices in groups for code, _words in choices]
    assert sorted(codes) == sorted(audit_vocabulary.AUDIT_ACTIONS)  # each once, none lost
    names = [group for group, _choices in groups]
    assert "其他" not in names  # every known action has its domain
    assert ("box.pack", "装箱") in dict(groups)["全员核酸"]
