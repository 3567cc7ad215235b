"""Error pages (403/404/500) and DomainError raised in a view → a friendly page."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import loader
from django.test import Client

MIDDLEWARE = "fangkong.web.middleware.DomainErrorMiddleware"


@pytest.fixture
def with_domain_error_middleware(settings: Any) -> None:
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def test_404_page_is_chinese_and_friendly(db: None, client: Any) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到" in page and "返回首页" in page
    assert 'lang="zh-hans"' in page


def test_404_page_for_a_logged_in_user_keeps_the_shell(command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert 'data-testid="main-nav"' in response.content.decode()


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_403_page(command_user: Any, client: Any) -> None:
    client.force_login(command_user)

    response = client.get("/boom/forbidden/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问" in page and 'data-error-code="permission_denied"' in page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_500_page_on_an_unhandled_error(command_user: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    response = client.get("/boom/runtime/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "系统错误" in page and 'data-error-code="server_error"' in page


def test_500_template_is_standalone(django_assert_num_queries: Any, db: None) -> None:
    """Rendered with an empty context, no request, no context processors, no database."""
    template = loader.get_template("500.html")

    with django_assert_num_queries(0):
        page = template.render({})

    assert "系统错误" in page
    assert "<style>" in page  # no stylesheet request needed
    assert "{%" not in page and "<link" not in page and "<script" not in page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
@pytest.mark.parametrize(
    ("kind", "status", "title", "code", "message"),
    [
        ("bad", 400, "无法完成操作", "bad_input", "输入不完整"),
        ("denied", 403, "无权访问", "permission_denied", "您的角色无权执行此操作"),
        ("missing", 404, "未找到", "not_found", "未找到或不在您的辖区内"),
        ("conflict", 409, "操作冲突", "zone_already_lifted", "该风险区已解除"),
    ],
)
def test_domain_error_in_a_view_renders_a_friendly_page_with_its_status(
    with_domain_error_middleware: None,
    command_user: Any,
    client: Any,
    kind: str,
    status: int,
    title: str,
    code: str,
    message: str,
) -> None:
    client.force_login(command_user)

    response = client.get(f"/boom/domain/{kind}/")

    assert response.status_code == status
    page = response.content.decode()
    assert title in page and message in page
    assert f'data-error-code="{code}"' in page
    assert 'data-testid="main-nav"' in page  # the full shell, not a bare page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_domain_error_for_htmx_is_a_fragment(
    with_domain_error_middleware: None, command_user: Any, client: Any
) -> None:
    client.force_login(command_user)

    response = client.get("/boom/domain/conflict/", HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    page = response.content.decode()
    assert "该风险区已解除" in page
    assert "<html" not in page and 'role="alert"' in page


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_domain_error_for_a_json_client_is_the_api_shape(
    with_domain_error_middleware: None, command_user: Any, client: Any
) -> None:
    client.force_login(command_user)

    response = client.get("/boom/domain/missing/", HTTP_ACCEPT="application/json")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "未找到或不在您的辖区内",
        "detail": {},
    }


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_other_exceptions_are_left_to_django(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    response = client.get("/boom/runtime/")

    assert response.status_code == 500


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_database_locked_in_a_view_is_a_503_page_with_retry_after(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    response = client.post("/boom/database/locked/")

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert 'data-error-code="database_busy"' in response.content.decode()


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_database_locked_for_htmx_is_a_fragment_and_for_json_the_api_shape(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    fragment = client.post("/boom/database/locked/", HTTP_HX_REQUEST="true")
    as_json = client.post("/boom/database/locked/", HTTP_ACCEPT="application/json")

    assert fragment.status_code == 503 and "<html" not in fragment.content.decode()
    assert as_json.status_code == 503
    assert as_json.json()["code"] == "database_busy"


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_number_too_large_for_the_database_in_a_view_is_a_400_page(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    response = client.get("/boom/database/overflow/")

    assert response.status_code == 400
    assert 'data-error-code="number_out_of_range"' in response.content.decode()


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_another_database_error_is_left_to_django_as_a_500(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(command_user)

    response = client.get("/boom/database/broken/")

    assert response.status_code == 500
    assert 'data-error-code="server_error"' in response.content.decode()


@pytest.mark.urls("fangkong.web.tests.urls_wired")
def test_a_page_post_without_a_multipart_boundary_is_a_400_page(
    with_domain_error_middleware: None, command_user: Any
) -> None:
    """The form is parsed before the CSRF check would read it (and raise a 500)."""
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    client.force_login(command_user)

    response = client.post("/boom/runtime/", data=b"--x--", content_type="multipart/form-data")

    assert response.status_code == 400
    assert 'data-error-code="multipart_invalid"' in response.content.decode()


def test_a_failed_csrf_check_gets_the_house_page_with_a_way_back(
    command_user: Any, tree: Any
) -> None:
    """An expired form (no or a stale CSRF token) is a 403 page that says what happened and
    links back to the page the form was on, not Django's bare CSRF page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(command_user)
    client.get("/testing/rounds/new/")  # sets the CSRF cookie

    response = client.post(
        "/testing/rounds/new/",
        {"name": "过期", "csrfmiddlewaretoken": "x" * 64},
        HTTP_REFERER="http://testserver/testing/rounds/new/",
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert 'data-error-code="csrf_failed"' in page
    assert "页面已过期" in page and "刷新页面后重新提交" in page
    assert 'href="http://testserver/testing/rounds/new/"' in page
    assert "CSRF verification failed" not in page and 'data-testid="main-nav"' in page
    # A referrer elsewhere is not linked to; the way back is the home page.
    foreign = client.post(
        "/testing/rounds/new/", {"name": "过期"}, HTTP_REFERER="https://evil.example/x"
    )
    assert foreign.status_code == 403
    assert "evil.example" not in foreign.content.decode()
    assert 'href="/" data-testid="csrf-back"' in foreign.content.decode()
