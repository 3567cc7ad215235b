"""The crawl: every navigation page of every role, on a small drill city with its outbreak
played, opened in a real browser (Debian chromium) after a login through the login page.

Each role opens its landing page and every entry of the menu its pages show
(web/navigation.py, read from the page's own menu) and, from each of those pages, the first
page of each thing it links to (a case, a contact, a push, a round, a box, a zone ...);
the login pages are opened before any login, and the staff account also opens the Django
admin (index, a change list, a change form) and the API docs. Every page must:

- answer 200 (after redirects), as the signed-in role, not the login page;
- raise no Content-Security-Policy violation (a listener installed before any page script
  runs, and the console), hold no inline code (``on…=`` attributes, ``javascript:`` URLs,
  inline scripts: the policy would block them when they run);
- raise no console error and no script error, and no request of it may fail (a network
  failure, or a same-origin answer of 400 or more: a missing static file, a fragment
  that answers 403, /favicon.ico);
- show no capability code (``case.view``) and no template syntax (``{#``, ``{%``, ``{{``)
  in its visible text;
- stay under a byte budget (the HTML of the page and of the fragments it loads) and a
  query budget (the database queries of the page's requests, counted in the server).

Times are reported, not asserted. The table of every page opened (role, path, status,
bytes, queries, ms) is printed (shown with -s) and written to var/test-artifacts/crawl.txt.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import connections
from playwright.sync_api import Error as PlaywrightError

from fangkong.accounts.management.commands.demo_users import DEMO_ACCOUNTS
from fangkong.accounts.models import User
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.rules import DEMO_PASSWORD
from fangkong.drill.city import drill_city_build
from fangkong.drill.outbreak import drill_outbreak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# One demo account per role (the second town's account is the first town's role again).
ACCOUNTS = [
    account.username
    for i, account in enumerate(DEMO_ACCOUNTS)
    if account.role not in {a.role for a in DEMO_ACCOUNTS[:i]}
]

# Per page: the HTML it sends (document and fragments) and the queries its requests run.
MAX_BYTES = 200_000
MAX_QUERIES = 60

# Links a crawl must not follow: they change state, download files or leave the app.
SKIP = re.compile(r"/accounts/logout|/i18n/|export|\.xlsx|\.csv|/download|/sw\.js|/api/|/jobs/")
STATIC = re.compile(r"^/static/")
# A capability code in a page's text: any "<noun>.<verb>" with a verb of the codes.
_VERBS = sorted({code.split(".")[1] for code in Capability.values})
CAPABILITY_CODE = re.compile(r"\b[a-z_]+\.(?:" + "|".join(_VERBS) + r")\b")
TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")

# Content-Security-Policy violations, caught before any page script runs.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + e.blockedURI + " at " +
                    e.sourceFile + ":" + e.lineNumber);
});
"""
# What a page shows and holds: its visible text, the same-origin links of its main part
# in page order, the CSP violations it raised, and the markup the policy forbids but only
# reports when it runs (an onchange fires on a change), found before anything is clicked.
PAGE_FACTS = """() => {
  const inline = [];
  document.querySelectorAll("*").forEach((el) => {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) inline.push(el.tagName + " " + attr.name);
      if (/^\\s*javascript:/i.test(attr.value)) inline.push(el.tagName + " javascript: URL");
    }
  });
  document.querySelectorAll("script:not([src])").forEach((s) => {
    if (!/json/.test(s.type)) inline.push("inline <script>");
  });
  const main = document.querySelector("main") || document.body;
  return [
    document.body.innerText,
    Array.from(main.querySelectorAll("a[href]"))
      .map((a) => a.href).filter((h) => h.startsWith(location.origin)),
    window.__csp || [],
    inline,
  ];
}"""
QUIET = 0.12  # seconds without a request: the page has loaded what it loads by itself
ARTIFACT = Path("var/test-artifacts/crawl.txt")


@dataclass
class QueryCounter:
    """Counts the database queries of each request the live server answers, in the
    server's own threads (request_started/request_finished run in the request's thread)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open: dict[int, list[Any]] = field(default_factory=dict)  # thread -> [path, count]
    done: list[tuple[str, int]] = field(default_factory=list)

    def started(self, sender: Any, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
        path = (environ or {}).get("PATH_INFO", "")
        if STATIC.match(path):
            return
        connection = connections["default"]
        if not any(getattr(w, "_crawl", False) for w in connection.execute_wrappers):
            connection.execute_wrappers.append(self._wrapper())
        with self.lock:
            self.open[threading.get_ident()] = [path, 0]

    def finished(self, sender: Any, **kwargs: Any) -> None:
        with self.lock:
            entry = self.open.pop(threading.get_ident(), None)
            if entry is not None:
                self.done.append((entry[0], entry[1]))

    def take(self) -> list[tuple[str, int]]:
        with self.lock:
            done, self.done = self.done, []
        return done

    def _wrapper(self) -> Any:
        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            with self.lock:
                entry = self.open.get(threading.get_ident())
                if entry is not None:
                    entry[1] += 1
            return execute(sql, params, many, context)

        count._crawl = True  # type: ignore[attr-defined]
        return count


@pytest.fixture
def query_counter() -> Iterator[QueryCounter]:
    counter = QueryCounter()
    request_started.connect(counter.started, weak=False)
    request_finished.connect(counter.finished, weak=False)
    try:
        yield counter
    finally:
        request_started.disconnect(counter.started)
        request_finished.disconnect(counter.finished)
        for alias in connections:
            wrappers = connections[alias].execute_wrappers
            wrappers[:] = [w for w in wrappers if not getattr(w, "_crawl", False)]


@pytest.fixture
def drill_city() -> None:
    """A small drill city with its outbreak played and one demo account per role (made
    before the outbreak, so that their inboxes hold what it told them)."""
    drill_city_build(population=300, days=2, seed=7)
    call_command("demo_users", verbosity=0)
    drill_outbreak()


@dataclass
class Visit:
    role: str
    path: str
    status: int
    bytes: int
    queries: int
    ms: int
    problems: list[str]


def _shape(path: str) -> str:
    return re.sub(r"\d+", "#", path)


class Crawler:
    def __init__(self, page: Any, base: str, counter: QueryCounter) -> None:
        self.page = page
        self.base = base
        self.counter = counter
        self.problems: list[str] = []
        self.responses: list[Any] = []
        self.page_links: list[str] = []
        self.in_flight: set[Any] = set()
        self.last_activity = time.monotonic()
        page.on("request", self._request)
        page.on("requestfinished", self._settled)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("dialog", lambda d: d.dismiss())

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _request(self, request: Any) -> None:
        self.in_flight.add(request)
        self.last_activity = time.monotonic()

    def _settled(self, request: Any) -> None:
        self.in_flight.discard(request)
        self.last_activity = time.monotonic()

    def _wait_until_quiet(self) -> None:
        """Until no request has been under way for QUIET seconds (a page's htmx sections
        load after it); Playwright's networkidle waits 500 ms, a third of a page's time."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(40)
            quiet = time.monotonic() - self.last_activity
            if not self.in_flight and quiet >= QUIET:
                return

    def _failed(self, request: Any) -> None:
        self._settled(request)
        failure = request.failure or ""
        # A navigation away from a page aborts its pending requests; not a failure.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"request failed: {request.method} {request.url} {failure}")

    def _response(self, response: Any) -> None:
        if not response.url.startswith(self.base):
            return
        self.responses.append(response)
        if response.status >= 400:
            self.problems.append(
                f"answer {response.status}: {response.request.method} {response.url}"
            )

    def log_in(self, username: str) -> None:
        page = self.page
        page.context.clear_cookies()
        page.goto(f"{self.base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/accounts/login" not in page.url, f"{username}: login refused"
        self.counter.take()

    def visit(self, role: str, url: str) -> Visit:
        page = self.page
        self.problems, self.responses = [], []
        self.counter.take()
        started = time.monotonic()
        response = page.goto(url, wait_until="domcontentloaded")
        self._wait_until_quiet()
        ms = int((time.monotonic() - started) * 1000)
        path = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
        problems = list(self.problems)
        status = response.status if response is not None else 0
        if status != 200:
            problems.append(f"status {status}")
        if "/accounts/login" in page.url and "/accounts/login" not in url:
            problems.append("sent to the login page")
        size = 0
        for answer in self.responses:
            answer_path = urlsplit(answer.url).path
            kind = answer.request.resource_type
            if STATIC.match(answer_path) or kind not in {"document", "xhr", "fetch"}:
                continue
            if "text/html" not in answer.headers.get("content-type", ""):
                continue
            # CommonMiddleware sets Content-Length on every answer that is not streamed.
            length = answer.headers.get("content-length")
            if length is None:
                with contextlib.suppress(PlaywrightError):
                    length = len(answer.body())
            size += int(length or 0)
        queries = sum(count for _path, count in self.counter.take())
        text, self.page_links, violations, inline = page.evaluate(PAGE_FACTS)
        problems += [f"CSP violation: {v}" for v in violations]
        problems += [f"inline code: {i}" for i in inline]
        codes = sorted({m.group(0) for m in CAPABILITY_CODE.finditer(text)})
        if codes:
            problems.append(f"capability codes in the text: {', '.join(codes)}")
        for match in TEMPLATE_SYNTAX.finditer(text):
            snippet = text[max(0, match.start() - 30) : match.end() + 50].replace("\n", " ")
            problems.append(f"template syntax in the text: …{snippet}…")
            break
        if size > MAX_BYTES:
            problems.append(f"{size} bytes of HTML (budget {MAX_BYTES})")
        if queries > MAX_QUERIES:
            problems.append(f"{queries} queries (budget {MAX_QUERIES})")
        return Visit(role, path, status, size, queries, ms, problems)

    def links(self) -> list[str]:
        """The same-origin links of the main part of the page last visited, in page order."""
        return self.page_links


def _details(links: list[str], seen: set[str]) -> list[str]:
    """The first link of each kind of page of one thing (a path with a number in it) not
    yet seen: a case, a push, a round, a box, a zone ..."""
    found: list[str] = []
    for link in links:
        parts = urlsplit(link.split("#")[0])
        shape = _shape(parts.path)
        if not re.search(r"/\d+(/|$)", parts.path) or SKIP.search(parts.path) or shape in seen:
            continue
        seen.add(shape)
        found.append(f"{parts.scheme}://{parts.netloc}{parts.path}")
    return found


def _table(visits: list[Visit]) -> str:
    rows = [("role", "path", "status", "bytes", "queries", "ms", "problems")]
    rows += [
        (
            v.role,
            v.path,
            str(v.status),
            str(v.bytes),
            str(v.queries),
            str(v.ms),
            str(len(v.problems)),
        )
        for v in visits
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def test_every_navigation_page_of_every_role(
    live_server: Any, drill_city: None, query_counter: QueryCounter
) -> None:
    from playwright.sync_api import sync_playwright

    from fangkong.testkit.fixtures import BROWSER_ARGS

    build_done = time.monotonic()
    visits: list[Visit] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(locale="zh-CN")
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.set_default_timeout(20000)
        crawler = Crawler(page, live_server.url, query_counter)
        try:
            # Before any login: the login pages (the app's and the admin's).
            for path in ("/accounts/login/", "/admin/login/"):
                visits.append(crawler.visit("anonymous", live_server.url + path))
            for username in ACCOUNTS:
                crawler.log_in(username)
                if username == ACCOUNTS[0]:
                    _policy_is_enforced(page)
                nav = page.evaluate(
                    "() => Array.from(document.querySelectorAll('[data-testid=main-nav] a'))"
                    ".map(a => a.href)"
                )
                extra = ["/notices/"]  # the inbox: the header's bell leads there, not the menu
                if username == "admin":
                    admin_pk = User.objects.get(username="admin").pk
                    extra += [
                        "/admin/accounts/user/",
                        f"/admin/accounts/user/{admin_pk}/change/",
                        "/api/docs",
                    ]
                seen: set[str] = set()
                # The landing page (where the login leads, the brand's link), the menu, then
                # from each of them the first page of each thing it links to.
                for url in [f"{live_server.url}/", *nav, *(live_server.url + p for p in extra)]:
                    shape = _shape(urlsplit(url).path)
                    if shape in seen:
                        continue
                    seen.add(shape)
                    visits.append(crawler.visit(username, url))
                    for detail in _details(crawler.links(), seen):
                        visits.append(crawler.visit(username, detail))
            # Browsers ask for /favicon.ico by themselves (Playwright does not see it).
            icon = page.request.get(f"{live_server.url}/favicon.ico")
            assert icon.status == 200, icon.status
            assert icon.headers["content-type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
        finally:
            context.close()
            browser.close()

    table = _table(visits)
    problems = [f"{v.role} {v.path}: {p}" for v in visits for p in v.problems]
    report = (
        f"{table}\n\n{len(visits)} pages in {time.monotonic() - build_done:.1f} s"
        f" (budget {MAX_BYTES} bytes of HTML, {MAX_QUERIES} queries a page)\n\n"
        + "\n".join(problems)
    )
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(report + "\n", encoding="utf-8")
    print(report)  # shown with -s
    by_role = {username: [v.path for v in visits if v.role == username] for username in ACCOUNTS}
    assert len(ACCOUNTS) == len(Role), ACCOUNTS  # every role, once
    assert all(len(paths) >= 2 for paths in by_role.values()), by_role
    every = [v.path for v in visits]
    for shape in (
        r"^/tracing/cases/\d+/$",
        r"^/tracing/contacts/\d+/$",
        r"^/tracing/pushes/\d+/$",
        r"^/testing/rounds/\d+/$",
        r"^/testing/boxes/\d+/$",
        r"^/people/\d+/$",
        r"^/areas/zones/\d+/$",
    ):
        assert any(re.search(shape, p) for p in every), (shape, every)
    assert {"/admin/", "/api/docs"} <= set(by_role["admin"])
    assert "/testing/sampling/" in by_role["sampler"]
    assert all("/notices/" in paths for paths in by_role.values()), by_role
    assert not problems, "\n".join(problems)
    # The counters did count: the pages run queries and send HTML.
    assert sum(v.queries for v in visits) > len(visits)
    # (the API docs page is a small shell that loads its viewer's script)
    assert all(v.bytes > 1000 for v in visits if v.status == 200 and v.path != "/api/docs")


def _policy_is_enforced(page: Any) -> None:
    """The policy is enforced and the listener sees a violation (this one is planted, so
    the page is opened again afterwards)."""
    seen_before = page.evaluate("() => window.__csp.length")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.head.appendChild(s); }"
    )
    page.wait_for_function("n => window.__csp.length === n + 1", arg=seen_before)
    assert page.evaluate("() => window.__ran") is None
    page.wait_for_timeout(200)  # its console report arrives before the next page opens
