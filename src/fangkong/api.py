"""The HTTP API: one django-ninja router per app, one error shape, OpenAPI at /api/openapi.json.

Session auth for the browser (CSRF-checked), bearer tokens for devices and integrations.

Every list answers a keyset page, `core.apitypes.Page[T]` (`items`, `next_cursor`, one
component per item type: `CaseOutPage`), and takes `cursor` and `size`
(`core.apitypes.PageQuery`); no GET answers a bare array (tests/test_api_schema.py
walks the schema, tests/test_api_pages.py walks every list page by page).

Every refusal answers `{code, message, detail}` (the `ErrorOut` component) with a 4xx,
translated by `core.errors.translate` (the pages' middleware uses the same function),
and the published schema says so: the 4xx statuses an operation can give are added to
every operation once, here, rather than declared per endpoint. Bad input that gets past
the endpoints' own checks (a multipart body without its boundary, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, a number too large for its database column) still gets a
4xx with a stable code, and a write that finds SQLite's write lock taken gets 503
`database_busy` with Retry-After, never a 500.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from fangkong.accounts.api import router as accounts_router
from fangkong.accounts.auth import api_auth
from fangkong.areas.api import router as areas_router
from fangkong.command.api import router as command_router
from fangkong.core.api import router as jobs_router
from fangkong.core.apitypes import LOCAL_TIME_PATTERN
from fangkong.core.errors import ErrorOut, translate
from fangkong.notices.api import router as notices_router
from fangkong.people.api import router as people_router
from fangkong.protocol.api import router as protocol_router
from fangkong.quarantine.api import router as quarantine_router
from fangkong.testing.api import router as testing_router
from fangkong.tracing.api import router as tracing_router
from fangkong.web.api import router as search_router

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

# The refusals every operation may give, and when each applies.
ERROR_STATUSES: dict[int, str] = {
    400: "输入不合法或违反业务规则",
    401: "未登录或令牌无效",
    403: "角色无权执行此操作，或 CSRF 校验失败",
    404: "不存在，或不在您的辖区内",
    409: "与当前状态冲突",
    413: "请求体过大",
    422: "参数或请求体不符合接口定义",
    429: "请求过于频繁",
    503: "数据库繁忙，请按 Retry-After 稍后重试",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def _applicable_errors(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 404, 503]
    if operation.get("security"):
        statuses += [401, 403, 429]
    if method in WRITE_METHODS:
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    if "requestBody" in operation or operation.get("parameters"):
        statuses.append(422)
    return sorted(statuses)


GEOJSON = "application/geo+json"


def _media_type(responses: dict[int, Any], status: int, media_type: str) -> None:
    """The .geojson endpoints answer GeoJSON (RFC 7946), not plain JSON."""
    content = responses.get(status, {}).get("content", {})
    if "application/json" in content:
        content[media_type] = content.pop("application/json")


def _local_times(node: Any) -> None:
    """`format: time` means an RFC 3339 time *with* an offset; ours are local times."""
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node["pattern"] = LOCAL_TIME_PATTERN
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


GENERIC_COMPONENT = re.compile(r"^\w+?_\w+_$")


def _name_generic_components(schema: dict[str, Any]) -> None:
    """pydantic keys a generic's component by its parameters (`Page_CaseOut_`); publish
    it under its title (`CaseOutPage`, see core.apitypes.Page), and point refs there."""
    components = schema.get("components", {}).get("schemas", {})
    renamed: dict[str, str] = {}
    for name, definition in list(components.items()):
        title = str(definition.get("title", ""))
        if GENERIC_COMPONENT.match(name) and title.isidentifier() and title not in components:
            components[title] = components.pop(name)
            renamed[f"#/components/schemas/{name}"] = f"#/components/schemas/{title}"
    if renamed:
        _point_refs(schema, renamed)


def _point_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renamed:
            node["$ref"] = renamed[ref]
        for value in node.values():
            _point_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _point_refs(value, renamed)


class PublishedSchema(OpenAPISchema):
    """ninja's schema, with one name per component and the error answers documented."""

    def __init__(self, api: NinjaAPI, path_prefix: str) -> None:
        self._origins: dict[str, dict[str, Any]] = {}
        super().__init__(api, path_prefix)
        self.add_schema_definitions(
            {"ErrorOut": ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")}
        )
        for path, methods in self["paths"].items():
            for method, operation in methods.items():
                responses = operation.setdefault("responses", {})
                if path.endswith(".geojson"):
                    _media_type(responses, 200, GEOJSON)
                for status in _applicable_errors(method, operation):
                    responses.setdefault(
                        status,
                        {
                            "description": ERROR_STATUSES[status],
                            "content": {"application/json": {"schema": ERROR_REF}},
                        },
                    )
                if 503 in responses:
                    responses[503].setdefault(
                        "headers",
                        {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
                    )
        _local_times(self)
        _name_generic_components(self)

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        """Two different schemas under one name would make one of them publish the other's
        shape (ninja keeps the last): refuse to publish rather than lie."""
        for name, definition in definitions.items():
            known = self._origins.setdefault(name, copy.deepcopy(definition))
            if known != definition:
                raise ImproperlyConfigured(
                    f"two API schemas are both named {name!r}; give one a distinct class name"
                )
        super().add_schema_definitions(definitions)


class FangkongAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return PublishedSchema(self, path_prefix)


api = FangkongAPI(
    title="fangkong API",
    version="1",
    description="防控平台接口。错误统一为 {code, message, detail}。",
    auth=api_auth,
    urls_namespace="api",
)


def _refuse(request: HttpRequest, exc: Any) -> HttpResponse:
    """Every refusal, in the one error shape; anything else is a bug, left to Django."""
    refusal = translate(exc)
    if refusal is None:
        raise exc
    response = api.create_response(request, refusal.as_dict(), status=refusal.status)
    for header, value in refusal.headers.items():
        response[header] = value
    return response


# One handler: `Exception` replaces ninja's catch-all; ninja's own handlers for its
# exceptions (looked up before `Exception`, by the exception's MRO) are replaced too.
for _kind in (Exception, NinjaValidationError, HttpError):
    api.add_exception_handler(_kind, _refuse)


api.add_router("/accounts", accounts_router)
api.add_router("/areas", areas_router)
api.add_router("/jobs", jobs_router)
api.add_router("/people", people_router)
api.add_router("/protocol", protocol_router)
api.add_router("/tracing", tracing_router)
api.add_router("/testing", testing_router)
api.add_router("/quarantine", quarantine_router)
api.add_router("/command", command_router)
api.add_router("/notices", notices_router)
api.add_router("/search", search_router)
