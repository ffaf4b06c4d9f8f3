"""Every error of every route is RFC 9457 problem+json with one type per kind of fault.

The cases below are checked against the app's own routes: a route added without cases for
the faults it can produce fails ``test_every_route_has_a_case_for_each_fault_it_can_produce``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, compile_path

from parley import errors
from parley.errors import KINDS, ProblemKind
from tests.api.conftest import World, bearer

PROBLEM_KEYS = {"type", "title", "status", "detail"}
LIST = "/core/conversations"
RECORDED = "{recorded}"  # replaced by the id of an acme conversation that has a recording


class Fault(StrEnum):
    NO_TOKEN = "401 no token"
    BAD_TOKEN = "401 bad token"
    FORBIDDEN = "403 forbidden"
    UNKNOWN_PARAMETER = "400 unknown parameter"
    VALIDATION = "400 validation"
    MALFORMED = "400 malformed request"
    UNKNOWN_ID = "404 unknown id"
    WRONG_METHOD = "405 wrong method"
    RANGE = "416 range"


@dataclass(frozen=True)
class Case:
    route: str | None  # the route's path as the app declares it; None: no route matches
    fault: Fault | None
    kind: ProblemKind
    method: str
    url: str
    token: str | None = None  # a label of world.acme.tokens, "bad", or "pat" (a PAT); None: none
    headers: dict[str, str] = field(default_factory=dict)
    parameter: str | None = None
    body: bytes | None = None

    def __str__(self) -> str:
        headers = str(self.headers)[:60] if self.headers else ""
        return f"{self.method} {self.url[:60]} {headers} ({self.fault or self.kind.slug})"


def _route_cases(route: str) -> list[Case]:
    return [case for case in CASES if case.route == route]


def _auth(route: str, url: str, method: str = "GET") -> list[Case]:
    """What any route that authenticates its caller answers to bad or missing credentials."""
    return [
        Case(route, Fault.NO_TOKEN, errors.UNAUTHORIZED, method, url),
        Case(route, Fault.BAD_TOKEN, errors.UNAUTHORIZED, method, url, token="bad"),
        Case(
            route, Fault.BAD_TOKEN, errors.UNAUTHORIZED, method, url, headers={"Authorization": "Basic eDp5"}
        ),
        # A PAT naming an org its user is not a member of.
        Case(
            route,
            Fault.FORBIDDEN,
            errors.FORBIDDEN,
            method,
            url,
            token="pat",
            headers={"X-Anyreach-Org": "globex"},
        ),
        Case(route, Fault.MALFORMED, errors.BAD_REQUEST, method, url, token="pat"),  # PAT without the org
    ]


JSON = {"Content-Type": "application/json"}
NEW = b'{"channel": "text", "direction": "inbound"}'
ONE_TURN = b'{"turns": [{"seq": 0, "speaker": "agent", "text": "Hello."}]}'


def _write(
    route: str, fault: Fault, kind: ProblemKind, method: str, url: str, body: bytes, **kw: object
) -> Case:
    headers = {**JSON, **kw.pop("headers", {})}  # type: ignore[dict-item]
    return Case(
        route,
        fault,
        kind,
        method,
        url,
        token=str(kw.pop("token", "manage")),
        headers=headers,
        body=body,
        **kw,
    )  # type: ignore[arg-type]


def _method(route: str, method: str, url: str) -> Case:
    return Case(route, Fault.WRONG_METHOD, errors.METHOD_NOT_ALLOWED, method, url, token="sensitive")


def _invalid(route: str, fault: Fault, url: str, parameter: str, token: str = "sensitive") -> Case:
    return Case(route, fault, errors.INVALID_PARAMETER, "GET", url, token=token, parameter=parameter)


DETAIL = f"{LIST}/{{conversation_id}}"
AUDIT = "/core/audit"
RECORDING = f"{DETAIL}/recording"
TURNS = f"{DETAIL}/turns"
CASES: list[Case] = [
    *_auth(LIST, LIST),
    _invalid(LIST, Fault.UNKNOWN_PARAMETER, f"{LIST}?page=2", "page"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?limit=0", "limit"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?limit=abc", "limit"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?channel=fax", "channel"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?direction=sideways", "direction"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?has_recording=maybe", "has_recording"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?q={'a' * 501}", "q"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?status=done", "status"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?status=token_created", "status"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?created_after=yesterday", "created_after"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?agent_id=abc", "agent_id"),
    _invalid(LIST, Fault.VALIDATION, f"{LIST}?q=%20", "q"),
    Case(LIST, Fault.FORBIDDEN, errors.FORBIDDEN, "GET", f"{LIST}?q=refund", token="read", parameter="q"),
    Case(LIST, Fault.MALFORMED, errors.BAD_REQUEST, "GET", f"{LIST}?cursor=zzz", token="read"),
    _method(LIST, "DELETE", LIST),
    *_auth(f"{LIST}/count", f"{LIST}/count"),
    _invalid(f"{LIST}/count", Fault.UNKNOWN_PARAMETER, f"{LIST}/count?limit=5", "limit"),
    _invalid(f"{LIST}/count", Fault.VALIDATION, f"{LIST}/count?channel=fax", "channel"),
    _invalid(f"{LIST}/count", Fault.VALIDATION, f"{LIST}/count?agent_version=2", "agent_version"),
    Case(
        f"{LIST}/count",
        Fault.FORBIDDEN,
        errors.FORBIDDEN,
        "GET",
        f"{LIST}/count?q=refund",
        token="read",
        parameter="q",
    ),
    _method(f"{LIST}/count", "POST", f"{LIST}/count"),
    _write(LIST, Fault.FORBIDDEN, errors.FORBIDDEN, "POST", LIST, NEW, token="sensitive"),
    _write(LIST, Fault.MALFORMED, errors.BAD_REQUEST, "POST", LIST, b"{not json"),
    _write(
        LIST,
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "POST",
        LIST,
        b'{"channel": "fax", "direction": "inbound"}',
        parameter="channel",
    ),
    _write(
        LIST,
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "POST",
        LIST,
        b'{"channel": "text", "direction": "inbound", "x": 1}',
        parameter="x",
    ),
    _write(
        LIST,
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "POST",
        LIST,
        NEW,
        headers={"Idempotency-Key": ""},
        parameter="Idempotency-Key",
    ),
    _write(
        LIST,
        Fault.VALIDATION,
        errors.UNPROCESSABLE,
        "POST",
        LIST,
        b'{"channel": "text", "direction": "inbound", "agent_id": "9"}',
        parameter="agent_id",
    ),
    _write(
        LIST,
        Fault.UNKNOWN_PARAMETER,
        errors.INVALID_PARAMETER,
        "POST",
        f"{LIST}?dry_run=1",
        NEW,
        parameter="dry_run",
    ),
    *_auth(f"{LIST}/live", f"{LIST}/live"),
    _invalid(f"{LIST}/live", Fault.UNKNOWN_PARAMETER, f"{LIST}/live?q=refund", "q"),
    _invalid(f"{LIST}/live", Fault.VALIDATION, f"{LIST}/live?channel=fax", "channel"),
    _invalid(f"{LIST}/live", Fault.VALIDATION, f"{LIST}/live?last_event_id=abc", "Last-Event-ID"),
    Case(
        f"{LIST}/live",
        Fault.FORBIDDEN,
        errors.FORBIDDEN,
        "GET",
        f"{LIST}/live?user_id=1",
        token="read",
        parameter="user_id",
    ),
    _method(f"{LIST}/live", "POST", f"{LIST}/live"),
    *_auth(f"{DETAIL}/live", f"{LIST}/{RECORDED}/live"),
    _invalid(f"{DETAIL}/live", Fault.UNKNOWN_PARAMETER, f"{LIST}/{RECORDED}/live?x=1", "x"),
    _invalid(
        f"{DETAIL}/live",
        Fault.VALIDATION,
        f"{LIST}/{RECORDED}/live?last_event_id={'9' * 30}",
        "last_event_id",
    ),
    Case(f"{DETAIL}/live", Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", f"{LIST}/42/live", token="read"),
    _method(f"{DETAIL}/live", "DELETE", f"{LIST}/{RECORDED}/live"),
    *_auth(TURNS, f"{LIST}/{RECORDED}/turns", "POST"),
    _write(
        TURNS, Fault.FORBIDDEN, errors.FORBIDDEN, "POST", f"{LIST}/{RECORDED}/turns", ONE_TURN, token="read"
    ),
    _write(TURNS, Fault.UNKNOWN_ID, errors.NOT_FOUND, "POST", f"{LIST}/42/turns", ONE_TURN),
    _write(
        TURNS,
        Fault.UNKNOWN_PARAMETER,
        errors.INVALID_PARAMETER,
        "POST",
        f"{LIST}/{RECORDED}/turns?x=1",
        ONE_TURN,
        parameter="x",
    ),
    _write(
        TURNS,
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "POST",
        f"{LIST}/{RECORDED}/turns",
        b'{"turns": []}',
        parameter="turns",
    ),
    _method(TURNS, "GET", f"{LIST}/{RECORDED}/turns"),
    _write(
        DETAIL,
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "PATCH",
        f"{LIST}/{RECORDED}",
        b'{"status": "done"}',
        parameter="status",
    ),
    _write(
        DETAIL,
        Fault.VALIDATION,
        errors.CONFLICT,
        "PATCH",
        f"{LIST}/{RECORDED}",
        b'{"status": "ringing"}',
        parameter="status",
    ),
    _write(DETAIL, Fault.UNKNOWN_ID, errors.NOT_FOUND, "DELETE", f"{LIST}/42", b""),
    _write(
        RECORDING,
        Fault.VALIDATION,
        errors.UNSUPPORTED_MEDIA_TYPE,
        "PUT",
        f"{LIST}/{RECORDED}/recording",
        b"hello",
        headers={"Content-Type": "text/plain"},
        parameter="Content-Type",
    ),
    _write(
        RECORDING,
        Fault.VALIDATION,
        errors.UNSUPPORTED_MEDIA_TYPE,
        "PUT",
        f"{LIST}/{RECORDED}/recording",
        b"hello there",
        headers={"Content-Type": "audio/wav"},
        parameter="Content-Type",
    ),
    *_auth(f"{LIST}/export.csv", f"{LIST}/export.csv"),
    _invalid(f"{LIST}/export.csv", Fault.UNKNOWN_PARAMETER, f"{LIST}/export.csv?limit=5", "limit"),
    _invalid(f"{LIST}/export.csv", Fault.VALIDATION, f"{LIST}/export.csv?tz=Nowhere/Else", "tz"),
    _invalid(f"{LIST}/export.csv", Fault.VALIDATION, f"{LIST}/export.csv?min_duration=-1", "min_duration"),
    Case(
        f"{LIST}/export.csv",
        Fault.FORBIDDEN,
        errors.FORBIDDEN,
        "GET",
        f"{LIST}/export.csv?user_id=1",
        token="read",
        parameter="user_id",
    ),
    _method(f"{LIST}/export.csv", "PUT", f"{LIST}/export.csv"),
    *_auth(DETAIL, f"{LIST}/42"),
    _invalid(DETAIL, Fault.UNKNOWN_PARAMETER, f"{LIST}/{RECORDED}?fields=all", "fields"),
    Case(DETAIL, Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", f"{LIST}/42", token="read"),
    Case(DETAIL, Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", f"{LIST}/not-an-id", token="read"),
    _method(DETAIL, "POST", f"{LIST}/{RECORDED}"),
    *_auth(RECORDING, f"{LIST}/{RECORDED}/recording"),
    Case(RECORDING, Fault.FORBIDDEN, errors.FORBIDDEN, "GET", f"{LIST}/{RECORDED}/recording", token="read"),
    _invalid(RECORDING, Fault.UNKNOWN_PARAMETER, f"{LIST}/{RECORDED}/recording?sq=1", "sq"),
    _invalid(RECORDING, Fault.VALIDATION, f"{LIST}/{RECORDED}/recording?seq=-1", "seq"),
    _invalid(RECORDING, Fault.VALIDATION, f"{LIST}/{RECORDED}/recording?seq=first", "seq"),
    Case(RECORDING, Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", f"{LIST}/42/recording", token="sensitive"),
    Case(
        RECORDING,
        Fault.UNKNOWN_ID,
        errors.NOT_FOUND,
        "GET",
        f"{LIST}/{RECORDED}/recording?seq=9",
        token="sensitive",
    ),
    Case(
        RECORDING,
        Fault.RANGE,
        errors.RANGE_NOT_SATISFIABLE,
        "GET",
        f"{LIST}/{RECORDED}/recording",
        token="sensitive",
        headers={"Range": "bytes=999999-"},
    ),
    Case(
        RECORDING,
        Fault.RANGE,
        errors.RANGE_NOT_SATISFIABLE,
        "GET",
        f"{LIST}/{RECORDED}/recording",
        token="sensitive",
        headers={"Range": "bytes=-0"},
    ),
    Case(
        RECORDING,
        Fault.RANGE,
        errors.RANGE_NOT_SATISFIABLE,
        "GET",
        f"{LIST}/{RECORDED}/recording",
        token="sensitive",
        headers={"Range": "bytes=" + "9" * 5000 + "-"},
    ),
    _method(RECORDING, "POST", f"{LIST}/{RECORDED}/recording"),
    *_auth("/web/agents", "/web/agents"),
    _method("/web/agents", "POST", "/web/agents"),
    # The audit trail: conversations:manage only.
    *_auth(AUDIT, AUDIT),
    Case(AUDIT, Fault.FORBIDDEN, errors.FORBIDDEN, "GET", AUDIT, token="sensitive"),
    _invalid(AUDIT, Fault.UNKNOWN_PARAMETER, f"{AUDIT}?page=2", "page", token="manage"),
    _invalid(AUDIT, Fault.VALIDATION, f"{AUDIT}?limit=0", "limit", token="manage"),
    _invalid(AUDIT, Fault.VALIDATION, f"{AUDIT}?action=peeked", "action", token="manage"),
    _invalid(AUDIT, Fault.VALIDATION, f"{AUDIT}?user=abc", "user", token="manage"),
    _invalid(AUDIT, Fault.VALIDATION, f"{AUDIT}?since=yesterday", "since", token="manage"),
    Case(AUDIT, Fault.MALFORMED, errors.BAD_REQUEST, "GET", f"{AUDIT}?cursor=zzz", token="manage"),
    _invalid(
        AUDIT,
        Fault.VALIDATION,
        f"{AUDIT}?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
        "since",
        token="manage",
    ),
    _method(AUDIT, "POST", AUDIT),
    _method("/audit", "POST", "/audit"),
    _method("/healthz", "POST", "/healthz"),
    _method("/readyz", "POST", "/readyz"),
    # Provider webhooks: the signature is the credential (tests/hooks check each scheme).
    _method("/hooks/{provider}/{hook_id}", "GET", "/hooks/retell/hk_none"),
    Case(
        "/hooks/{provider}/{hook_id}",
        Fault.UNKNOWN_ID,
        errors.NOT_FOUND,
        "POST",
        "/hooks/retell/hk_none",
        body=b"{}",
    ),
    Case(
        "/hooks/{provider}/{hook_id}",
        Fault.UNKNOWN_ID,
        errors.NOT_FOUND,
        "POST",
        "/hooks/genesys/hk_none",
        body=b"{}",
    ),
    _method("/openapi.json", "POST", "/openapi.json"),
    _method("/docs", "DELETE", "/docs"),
    _method("/static", "POST", "/static/app.css"),
    Case("/static", Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", "/static/nothing.css"),
    _method("/docs/assets", "POST", "/docs/assets/swagger-ui.css"),
    Case("/docs/assets", Fault.UNKNOWN_ID, errors.NOT_FOUND, "GET", "/docs/assets/nothing.css"),
    # The pages: a browser gets HTML for their own answers (the login form, the HTML 404 of a
    # conversation), but what the framework refuses is problem+json like everywhere else.
    _method("/", "PUT", "/"),
    _method("/conversations", "DELETE", "/conversations"),
    _method("/live", "POST", "/live"),
    _method("/conversations/{conversation_id}", "POST", "/conversations/42"),
    _method("/login", "PUT", "/login"),
    _method("/web/views", "DELETE", "/web/views"),
    _method("/web/views/{view_id}/delete", "GET", "/web/views/1/delete"),
    _method("/agents/{agent_ref}", "POST", "/agents/1000"),
    _method("/agents/{agent_ref}/versions/{version}", "DELETE", "/agents/1000/versions/1"),
    _method("/logout", "GET", "/logout"),
    Case(
        "/login",
        Fault.VALIDATION,
        errors.INVALID_PARAMETER,
        "POST",
        "/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        parameter="email",
        body=b"email=" + b"x" * 400,
    ),
    Case(
        "/login",
        Fault.MALFORMED,
        errors.BAD_REQUEST,
        "POST",
        "/login",
        headers={"Content-Type": "multipart/form-data"},  # no boundary: the body cannot be parsed
        body=b"email=a",
    ),
    # No route at all: problem+json whatever the client accepts.
    Case(None, None, errors.NOT_FOUND, "GET", "/core/nothing-here", token="read"),
    Case(None, None, errors.NOT_FOUND, "GET", f"{LIST}/42/transcript", token="read"),
    Case(None, None, errors.NOT_FOUND, "GET", "/nothing-here", headers={"Accept": "text/html"}),
    Case(None, None, errors.NOT_FOUND, "DELETE", "/core"),
]


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _walk(child)


def _faults_of(route: RouteContext) -> set[Fault]:
    """The faults a route can produce, read from what it declares."""
    faults = {Fault.WRONG_METHOD}
    if isinstance(route.original_route, Mount):
        return faults | {Fault.UNKNOWN_ID}
    if not isinstance(route.original_route, APIRoute):
        return faults
    parts = list(_walk(route.dependant))
    if any(param.alias.lower() == "authorization" for part in parts for param in part.header_params):
        faults |= {Fault.NO_TOKEN, Fault.BAD_TOKEN, Fault.FORBIDDEN}
    if route.include_in_schema and str(route.path).startswith("/core/"):  # the JSON API, not the pages
        faults.add(Fault.UNKNOWN_PARAMETER)
        if any(part.query_params for part in parts):
            faults.add(Fault.VALIDATION)
        if any(part.path_params for part in parts):
            faults.add(Fault.UNKNOWN_ID)
        if route.response_class is FileResponse:
            faults.add(Fault.RANGE)
    return faults


def _routes(client: TestClient) -> list[RouteContext]:
    assert isinstance(client.app, FastAPI)
    routes = list(iter_route_contexts(client.app.routes))
    assert all(route.path is not None for route in routes), routes
    return routes


def _route_paths(client: TestClient) -> dict[str, set[Fault]]:
    faults: dict[str, set[Fault]] = {}
    for route in _routes(client):
        faults.setdefault(str(route.path), set()).update(_faults_of(route))
    return faults


def _methods(client: TestClient, path: str | None, url: str) -> set[str]:
    """What the routes matching ``url`` accept (``/export.csv`` is also a ``/{conversation_id}``);
    StaticFiles serves GET and HEAD, and HEAD is answered wherever GET is."""
    target = url.split("?", 1)[0]
    routes = [
        route
        for route in _routes(client)
        if route.path == path or compile_path(str(route.path))[0].fullmatch(target)
    ]
    methods: set[str] = set().union(*(route.methods or {"GET", "HEAD"} for route in routes))
    return methods | {"HEAD"} if "GET" in methods else methods


def test_every_route_has_a_case_for_each_fault_it_can_produce(client: TestClient) -> None:
    routes = _route_paths(client)
    assert len(routes) >= 15, routes  # the walk sees the routes behind included routers
    missing = {
        path: sorted(fault.value for fault in faults - {case.fault for case in _route_cases(path)})
        for path, faults in routes.items()
    }
    missing = {path: faults for path, faults in missing.items() if faults}
    assert not missing, f"routes without an error-shape case for these faults; add them to CASES: {missing}"
    stale = {case.route for case in CASES if case.route is not None} - set(routes)
    assert not stale, f"CASES name routes the app does not have: {stale}"


def _recorded_id(client: TestClient, world: World) -> str:
    headers = bearer(world.acme.tokens["sensitive"])
    items = client.get(f"{LIST}?has_recording=true&limit=1", headers=headers).json()["data"]
    return str(items[0]["id"])


def _headers(case: Case, world: World) -> dict[str, str]:
    if case.token is None:
        return dict(case.headers)
    secret = {"bad": "ak_" + "0" * 40, "pat": world.analyst_pat}.get(case.token) or world.acme.tokens[
        case.token
    ]
    return {**bearer(secret), **case.headers}


def assert_problem(body: dict[str, object], status: int, kind: ProblemKind, parameter: str | None) -> None:
    assert kind in KINDS
    assert set(body) == PROBLEM_KEYS | ({"parameter"} if parameter else set()), body
    assert body["status"] == status == kind.status
    assert (body["type"], body["title"]) == (kind.type_uri, kind.title)
    assert body.get("parameter") == parameter
    detail = body["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and len(detail.split()) >= 3, detail
    assert detail != kind.title and "Input should" not in detail  # a sentence, not pydantic's words


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_error_is_problem_json_of_its_kind(client: TestClient, world: World, case: Case) -> None:
    url = case.url.replace(RECORDED, _recorded_id(client, world)) if RECORDED in case.url else case.url
    response = client.request(case.method, url, headers=_headers(case, world), content=case.body)
    assert response.status_code == case.kind.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert_problem(response.json(), response.status_code, case.kind, case.parameter)
    if case.kind is errors.UNAUTHORIZED:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if case.kind is errors.METHOD_NOT_ALLOWED:
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed == _methods(client, case.route, url) and case.method not in allowed
    if case.kind is errors.RANGE_NOT_SATISFIABLE:
        assert re.fullmatch(r"bytes \*/[0-9]+", response.headers["content-range"])
        whole = client.get(url, headers=bearer(world.acme.tokens["sensitive"]))
        assert response.headers["content-range"] == f"bytes */{len(whole.content)}"


def test_a_405_names_every_method_the_address_accepts(client: TestClient) -> None:
    # /login is two routes (GET and POST); Starlette alone would name only the first.
    response = client.put("/login")
    assert response.status_code == 405
    assert {method.strip() for method in response.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}


def test_a_server_error_is_problem_json_and_tells_nothing_of_the_cause(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr("parley.api.conversations.list_page", broken)
    failing = TestClient(client.app, raise_server_exceptions=False)
    response = failing.get(LIST, headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert_problem(response.json(), 500, errors.INTERNAL_ERROR, None)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


def test_validation_names_the_first_parameter_and_describes_every_one(
    client: TestClient, world: World
) -> None:
    response = client.get(f"{LIST}?limit=0&min_duration=-5", headers=bearer(world.acme.tokens["read"]))
    body = response.json()
    # The filters are a dependency, validated before the route's own parameters.
    assert body["parameter"] == "min_duration"
    assert body["detail"] == "min_duration must be at least 0. limit must be at least 1."


def test_a_bad_status_lists_only_the_statuses_that_can_be_listed(client: TestClient, world: World) -> None:
    body = client.get(f"{LIST}?status=done", headers=bearer(world.acme.tokens["read"])).json()
    assert "'completed'" in body["detail"] and "'voicemail'" in body["detail"]
    assert "token_created" not in body["detail"]
    hidden = client.get(f"{LIST}?status=token_created", headers=bearer(world.acme.tokens["read"])).json()
    assert "never listed" in hidden["detail"]


@pytest.mark.parametrize(
    ("parameter", "values"),
    [("channel", "'telephone', 'webrtc', 'email' or 'text'"), ("direction", "'inbound' or 'outbound'")],
)
def test_a_bad_enum_value_lists_the_allowed_ones(
    client: TestClient, world: World, parameter: str, values: str
) -> None:
    body = client.get(f"{LIST}?{parameter}=fax", headers=bearer(world.acme.tokens["read"])).json()
    assert body["detail"] == f"{parameter} must be {values}."


def test_the_registry_gives_each_kind_its_own_type_and_title() -> None:
    assert len({kind.slug for kind in KINDS}) == len({kind.title for kind in KINDS}) == len(KINDS)
    assert all(kind.default_detail.endswith(".") for kind in KINDS)
    # Every status but 400 has one kind; 400 has two, told apart by whether a parameter is named.
    statuses = [kind.status for kind in KINDS]
    assert {status for status in statuses if statuses.count(status) > 1} == {400}


def test_openapi_schema_describes_the_conversations_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listing = schema["paths"]["/core/conversations"]["get"]
    params = {param["name"]: param for param in listing["parameters"]}
    assert {
        "limit",
        "cursor",
        "q",
        "channel",
        "status",
        "agent_id",
        "created_after",
        "X-Anyreach-Org",
    } <= set(params)
    statuses = params["status"]["schema"]["items"]["enum"]
    assert "completed" in statuses and "token_created" not in statuses
    assert "/core/conversations/export.csv" in schema["paths"]
    recording = schema["paths"]["/core/conversations/{conversation_id}/recording"]["get"]
    assert {"206", "404", "416"} <= set(recording["responses"])
    item = schema["components"]["schemas"]["ConversationItem"]["properties"]
    assert "read_sensitive" in item["caller_name"]["description"]
    assert set(listing["responses"]) >= {"200", "400", "401", "403"}
    assert "parameter" in schema["components"]["schemas"]["Problem"]["properties"]
