"""No path width is written as a literal outside core/paths.py.

The widths of the levels' paths (city 6 digits, then 3 a level) are named once, in
core/paths.py (`CITY_WIDTH`, `TOWN_WIDTH`, `COMMUNITY_WIDTH`, `city_of`, `town_of`,
`level_prefix_sql`, ...). This test reads every module of src (tests included) and fails
on the shapes the literals used to take: `<...path...>[:9]`, `Substr(field, 1, 9)`,
`"substr(t.path, 1, 9)"` in SQL, `TOWN_WIDTH = 9`, `len(<...path...>) == 9` and
`range(6, len(path) + 1, 3)`. It looks at path-like expressions only (their source
mentions "path"), so that `id_masked[:6]` or `sha256[:12]` pass.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fangkong.core import paths

SRC = Path(paths.__file__).resolve().parents[1]
WIDTHS = frozenset(paths.LEVEL_WIDTHS)
DIGITS = re.compile(r"\\d\{(\d+)\}")  # a regex for a path: \d{9}
SQL_PREFIX = re.compile(r"substr(?:ing)?\s*\([^()]*,\s*1\s*,\s*(\d+)\s*\)", re.IGNORECASE)
# names of path widths (not, e.g., a spreadsheet's column WIDTHS)
WIDTH_NAME = re.compile(r"(CITY|TOWN|COMMUNITY|GRID|PATH|LEVEL)\w*(_WIDTHS?|_ENDS)$")


def _int(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _ints(node: ast.AST) -> list[int]:
    if isinstance(node, ast.Tuple | ast.List):
        return [v for v in (_int(e) for e in node.elts) if v is not None]
    value = _int(node)
    return [] if value is None else [value]


def _pathlike(source: str, node: ast.AST) -> bool:
    return "path" in (ast.get_source_segment(source, node) or "").lower()


def findings(source: str, name: str = "<module>") -> list[str]:
    """Width literals in a module's source: ["name:line: what", ...]."""
    found: list[str] = []

    def flag(node: ast.AST, what: str) -> None:
        found.append(f"{name}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            s = node.slice
            literal = s.lower is None and s.step is None and _int(s.upper) in WIDTHS
            if literal and _pathlike(source, node.value):
                flag(node, f"path sliced at a literal width [:{_int(s.upper)}]")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            substr = called.lower() in ("substr", "substring") and len(node.args) == 3
            if substr and _int(node.args[2]) in WIDTHS:
                flag(node, f"{called}(..., 1, {_int(node.args[2])})")
            ranged = called == "range" and node.args and _int(node.args[0]) in WIDTHS
            if ranged and any(_pathlike(source, a) for a in node.args[1:]):
                flag(node, "range over path widths from a literal")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in SQL_PREFIX.finditer(node.value):
                if int(m.group(1)) in WIDTHS:
                    flag(node, f"SQL {m.group(0)!r}")
            for m in DIGITS.finditer(node.value):
                if int(m.group(1)) in WIDTHS:
                    flag(node, f"pattern {m.group(0)!r}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            names += [
                e.id
                for t in targets
                if isinstance(t, ast.Tuple)
                for e in t.elts
                if isinstance(e, ast.Name)
            ]
            named = node.value is not None and any(WIDTH_NAME.search(n) for n in names)
            if named and node.value is not None and WIDTHS & set(_ints(node.value)):
                flag(node, f"{', '.join(names)} defined with a literal width")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            lengths = [
                s
                for s in sides
                if isinstance(s, ast.Call)
                and isinstance(s.func, ast.Name)
                and s.func.id == "len"
                and s.args
                and _pathlike(source, s.args[0])
            ]
            if lengths and any(_int(s) in WIDTHS for s in sides):
                flag(node, "path length compared with a literal width")
    return found


def _modules() -> list[Path]:
    here = Path(__file__).resolve()
    return [
        p
        for p in sorted(SRC.rglob("*.py"))
        if "migrations" not in p.parts and p != here and p.name != "paths.py"
    ]


def test_no_path_width_literal_in_src() -> None:
    modules = _modules()
    assert len(modules) > 100  # the walk really reads the package
    found = [
        f for p in modules for f in findings(p.read_text(encoding="utf-8"), str(p.relative_to(SRC)))
    ]
    assert found == []


def test_the_check_finds_each_shape() -> None:
    planted = """
TOWN_WIDTH = 9
CITY_WIDTH, TOWN_WIDTH = 6, 9
LEVEL_ENDS = (6, 9, 12, 15)
city = str(getattr(user, "scope_path", ""))[:6]
town = case.jurisdiction_path[:9]
town = Substr("jurisdiction_path", 1, 9)
sql = "SELECT substr(t.path, 1, 12) FROM t GROUP BY SUBSTR(t.path, 1, 9)"
ok = len(town_path) == 9
prefixes = [path[:n] for n in range(6, len(path) + 1, 3)]
town = Query(None, pattern=r"^\\d{9}$")
"""
    lines = sorted(int(f.split(":")[1]) for f in findings(planted))
    # one finding per line, two for the SQL string with two prefixes
    assert lines == [2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]


def test_the_check_leaves_other_slices_alone() -> None:
    clean = """
region, tail = id_masked[:6], id_masked[-4:]
label = report.sha256[:12]
town = town_of(case.jurisdiction_path)
town = level_prefix_expr("jurisdiction_path", TOWN_WIDTH)
sql = f"SELECT {level_prefix_sql('t.path', TOWN_WIDTH)} FROM t"
suffix = community.path[-6:]
first = world.persons[:9]
mobile = re.compile(r"^1[3-9][0-9]{9}$")
town = Query(None, pattern=path_pattern(TOWN_WIDTH))
"""
    assert findings(clean) == []
